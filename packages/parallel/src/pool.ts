/**
 * The coordinating thread's side of a pool, shared by the Node and browser entry points (which differ only
 * in how they start a worker). The calling thread is thread 0: it runs its own replica, so N threads take
 * N − 1 workers. A step writes its input to shared memory, meets the workers at the barrier, and runs
 * thread 0's replica; the replicas meet again inside their collectives.
 */
import { ArgumentError, expectPositiveInteger } from '@tapestry/core';
import { BarrierBroken } from './barrier.js';
import { allocatePoolMemory, failureError, INPUT_BYTES, Op, readFailure, recordFailure, Word, type PoolMemory } from './memory.js';
import type { Replica, ReplicaStep, WorkerBoot } from './replica.js';
import { SharedThread, SoloThread } from './thread.js';
import { decodeTree, encodeTree } from './transfer.js';

/** Options of `dataParallel`. */
export interface DataParallelOptions<Setup> {
  /** Threads to run on, the calling one included (a positive integer). */
  readonly threads: number;
  /**
   * What every thread builds its replica from: a tree of tensors and structured-cloneable values (numbers,
   * strings, typed arrays, plain objects and arrays). Every thread gets its own copy, the calling one
   * included, so a replica may donate the tensors to `jit` without consuming the caller's.
   */
  readonly setup: Setup;
  /** The most shared memory the collectives may use, in bytes (default 1 GiB; reserved, not allocated). */
  readonly maxSharedBytes?: number;
}

/** A running pool: `step` runs one step on every thread and returns thread 0's result. */
export interface DataParallel<Input, Output> {
  /** How many threads run the steps, the calling one included. */
  readonly threads: number;
  /**
   * Runs one step: every thread's replica gets `input` (sent as JSON, at most 64 KiB) and the calling
   * thread's result is returned. It blocks the calling thread until the step is done. If any thread
   * throws, the step throws that thread's error (as `cause`, its message in the message), the other
   * threads stop, and every later step throws it again.
   */
  step(input: Input): Output;
  /** Stops the worker threads. The pool cannot step afterwards. */
  close(): void;
}

/** A started worker: `ready` settles once its replica is built (rejecting with the error that stopped it). */
export interface WorkerHandle {
  readonly ready: Promise<void>;
  terminate(): void;
}

/** The default of {@link DataParallelOptions.maxSharedBytes}. */
const DEFAULT_MAX_SHARED_BYTES = 1 << 30;

function checkOptions(entry: string, replica: Replica<unknown, unknown, unknown>, options: DataParallelOptions<unknown>): void {
  if (replica === null || typeof replica !== 'object' || typeof replica.build !== 'function' || typeof replica.serveWorker !== 'function') {
    throw new ArgumentError(`${entry}: replica must be a value made by defineReplica, got ${replica === null ? 'null' : typeof replica}`);
  }
  if (options === null || typeof options !== 'object') throw new ArgumentError(`${entry}: options must be { threads, setup }, got ${String(options)}`);
  const { threads, maxSharedBytes } = options;
  expectPositiveInteger(entry, 'threads', threads);
  if (maxSharedBytes !== undefined) expectPositiveInteger(entry, 'maxSharedBytes', maxSharedBytes);
}

/** A step's input as JSON (undefined becomes null). */
function encodeInput(input: unknown): string {
  return JSON.stringify(input) ?? 'null';
}

/**
 * Starts a pool of `options.threads` threads running `replica`; `spawn` starts one worker. Resolves once
 * every replica is built; rejects with the first error that stopped one.
 */
export async function startPool<Setup, Input, Output>(
  entry: string,
  replica: Replica<Setup, Input, Output>,
  options: DataParallelOptions<Setup>,
  spawn: (boot: WorkerBoot) => WorkerHandle,
): Promise<DataParallel<Input, Output>> {
  checkOptions(entry, replica as Replica<unknown, unknown, unknown>, options as DataParallelOptions<unknown>);
  const { threads } = options;
  const encoded = encodeTree(options.setup);
  if (threads === 1) {
    const step = replica.build(decodeTree(encoded) as Setup, new SoloThread());
    let closed = false;
    return {
      threads,
      // the input goes through JSON as on several threads, so a replica sees the same input either way
      step: (input) => {
        if (closed) throw new ArgumentError(`${entry}: the pool is closed`);
        return step(JSON.parse(encodeInput(input)) as Input);
      },
      close: () => {
        closed = true;
      },
    };
  }
  const memory = allocatePoolMemory(threads, options.maxSharedBytes ?? DEFAULT_MAX_SHARED_BYTES);
  const workers: WorkerHandle[] = [];
  try {
    for (let index = 1; index < threads; index++) {
      workers.push(spawn({ module: replica.module, name: replica.name, index, memory, setup: encoded }));
    }
    const thread = new SharedThread(0, memory);
    const step = replica.build(decodeTree(encoded) as Setup, thread);
    await Promise.all(workers.map((w) => w.ready));
    return new Pool(entry, memory, thread, step, workers);
  } catch (error) {
    for (const w of workers) w.terminate();
    throw error;
  }
}

class Pool<Input, Output> implements DataParallel<Input, Output> {
  readonly threads: number;
  private readonly words: Int32Array;
  private steps = 0;
  private failure: unknown;
  private closed = false;

  constructor(
    private readonly entry: string,
    private readonly memory: PoolMemory,
    private readonly thread: SharedThread,
    private readonly replicaStep: ReplicaStep<Input, Output>,
    private readonly workers: readonly WorkerHandle[],
  ) {
    this.threads = memory.threads;
    this.words = new Int32Array(memory.control);
  }

  step(input: Input): Output {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new ArgumentError(`${this.entry}: the pool is closed`);
    const json = encodeInput(input);
    const bytes = new TextEncoder().encode(json);
    if (bytes.length > INPUT_BYTES) {
      throw new ArgumentError(`${this.entry}: a step's input is ${bytes.length} bytes as JSON, more than ${INPUT_BYTES}; pass large data in the setup`);
    }
    // two slots, alternating: a worker may still be reading the previous step's input
    const slot = this.steps % 2;
    new Uint8Array(this.memory.input, slot * INPUT_BYTES, bytes.length).set(bytes);
    Atomics.store(this.words, Word.InputLength + slot, bytes.length);
    Atomics.store(this.words, Word.Op, Op.Step);
    try {
      this.thread.awaitCommand();
      const output = this.replicaStep(JSON.parse(json) as Input);
      this.steps++;
      return output;
    } catch (error) {
      if (error instanceof BarrierBroken) {
        const record = readFailure(this.memory);
        this.failure = record === undefined ? error : failureError(record);
      } else {
        recordFailure(this.memory, 0, error);
        this.thread.fail();
        this.failure = error;
      }
      throw this.failure;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.failure === undefined && !this.thread.broken) {
      Atomics.store(this.words, Word.Op, Op.Stop);
      try {
        this.thread.awaitCommand();
      } catch {
        // a worker failed after the last step: there is nothing left to stop
      }
    }
    for (const w of this.workers) w.terminate();
  }
}
