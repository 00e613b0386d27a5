/**
 * A barrier for threads that share memory: `arrive()` returns once every party has arrived. Built on
 * `Atomics.wait`/`notify` over three words of a shared Int32Array (count, generation, failure flag), so the
 * threads of a step meet without messages or event-loop turns. A thread that fails raises the flag, and every
 * thread waiting at the barrier throws {@link BarrierBroken} instead of waiting forever.
 */

/** The words of the barrier inside a shared Int32Array, from `offset`. */
const COUNT = 0;
const GENERATION = 1;
const FAILED = 2;

/** How many Int32 words a barrier uses. */
export const BARRIER_WORDS = 3;

/** How long a thread checks the barrier before it sleeps, in milliseconds. */
const SPIN_MS = 0.2;

/** Thrown by {@link Barrier.arrive} when some thread has failed the run. */
export class BarrierBroken extends Error {
  constructor() {
    super('parallel: another thread failed the run');
    this.name = 'BarrierBroken';
  }
}

/** One thread's handle on a barrier of `parties` threads over `words[offset…offset+3)`. */
export class Barrier {
  constructor(
    private readonly words: Int32Array,
    private readonly parties: number,
    private readonly offset = 0,
  ) {}

  /**
   * Waits until all parties have arrived; throws {@link BarrierBroken} if a thread has called
   * {@link Barrier.fail} before the meeting completed.
   */
  arrive(): void {
    this.throwIfBroken();
    const w = this.words;
    const gen = this.offset + GENERATION;
    const generation = Atomics.load(w, gen);
    if (Atomics.add(w, this.offset + COUNT, 1) === this.parties - 1) {
      // the last to arrive resets the count and releases the others
      Atomics.store(w, this.offset + COUNT, 0);
      Atomics.add(w, gen, 1);
      Atomics.notify(w, gen);
    } else {
      // spin a while first: a thread put to sleep by Atomics.wait takes 100 µs or more to wake (its core
      // idles, and in a virtual machine the host must schedule it again), and the threads of a step
      // usually arrive within microseconds of each other
      const until = performance.now() + SPIN_MS;
      for (let spin = 1; Atomics.load(w, gen) === generation; spin++) if (spin % 64 === 0 && performance.now() > until) break;
      // a timeout, so that a failed thread (which never arrives) is noticed
      while (Atomics.load(w, gen) === generation) {
        this.throwIfBroken();
        Atomics.wait(w, gen, generation, 100);
      }
    }
    // Released: every party arrived, so the meeting completed. A thread that fails after the release (the
    // last to arrive may throw at once) must not turn this completed wait into BarrierBroken, or which
    // error a step reports would depend on how fast each thread woke.
  }

  /** Marks the run failed and wakes every waiting thread, which then throws. */
  fail(): void {
    // the generation stays: only a real release moves it, so a waiter can tell a release from a failure
    Atomics.store(this.words, this.offset + FAILED, 1);
    Atomics.notify(this.words, this.offset + GENERATION);
  }

  /** Whether some thread has failed the run. */
  get broken(): boolean {
    return Atomics.load(this.words, this.offset + FAILED) !== 0;
  }

  private throwIfBroken(): void {
    if (this.broken) throw new BarrierBroken();
  }
}
