/**
 * A barrier for threads sharing memory: `arrive()` returns once every party has arrived. Built on
 * `Atomics.wait`/`notify` over a small Int32Array in a SharedArrayBuffer (count, generation, failure flag),
 * so the training threads meet twice per step without messages or event-loop turns. A thread that fails
 * raises the flag, and every thread waiting at the barrier throws instead of waiting forever.
 */

const COUNT = 0;
const GENERATION = 1;
const FAILED = 2;

/** The shared words a {@link Barrier} needs. */
export function barrierMemory(): SharedArrayBuffer {
  return new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
}

/** One thread's handle on a barrier of `parties` threads over `memory` (from {@link barrierMemory}). */
export class Barrier {
  private readonly words: Int32Array;

  constructor(memory: SharedArrayBuffer, private readonly parties: number) {
    this.words = new Int32Array(memory);
  }

  /** Waits until all parties have arrived; throws if any thread has called {@link Barrier.fail}. */
  arrive(): void {
    const w = this.words;
    const generation = Atomics.load(w, GENERATION);
    if (Atomics.add(w, COUNT, 1) === this.parties - 1) {
      // the last to arrive resets the count and releases the others
      Atomics.store(w, COUNT, 0);
      Atomics.add(w, GENERATION, 1);
      Atomics.notify(w, GENERATION);
    } else {
      // a timeout, so that a failed thread (which never arrives) is noticed
      while (Atomics.load(w, GENERATION) === generation) {
        this.checkFailed();
        Atomics.wait(w, GENERATION, generation, 200);
      }
    }
    this.checkFailed();
  }

  /** Marks the run failed and wakes every waiting thread, which then throws. */
  fail(): void {
    Atomics.store(this.words, FAILED, 1);
    Atomics.add(this.words, GENERATION, 1);
    Atomics.notify(this.words, GENERATION);
  }

  private checkFailed(): void {
    if (Atomics.load(this.words, FAILED) !== 0) throw new Error('char-rnn: a training thread failed (its error is printed above)');
  }
}
