/**
 * A replica: the code every thread of a pool runs. It lives in a module of its own so that worker threads
 * can load it by URL (a closure cannot be sent to another thread); `defineReplica` records that URL beside
 * the build function. Every thread builds its replica from the same setup and its {@link Thread}, then runs
 * one step per input the coordinating thread gives.
 */
import { ArgumentError } from '@tapestry/core';
import { BarrierBroken } from './barrier.js';
import { INPUT_BYTES, Op, recordFailure, Word, type PoolMemory } from './memory.js';
import { SharedThread, type Thread } from './thread.js';
import { decodeTree } from './transfer.js';

/** One step of a replica: it takes the step's input (the same on every thread) and returns its result. */
export type ReplicaStep<Input, Output> = (input: Input) => Output;

/**
 * Builds a thread's replica from the pool's setup (every thread gets its own copy) and the thread; returns
 * the function that runs one step.
 */
export type ReplicaBuild<Setup, Input, Output> = (setup: Setup, thread: Thread) => ReplicaStep<Input, Output>;

/** Marks an exported value as a replica, across copies of this package that a worker may load (node.ts and browser.ts look for it). */
const BRAND = '__tapestryParallelReplica' satisfies keyof Replica<unknown, unknown, unknown>;

/** What a worker receives: which replica to load, which thread it is, the shared memory and the setup. */
export interface WorkerBoot {
  /** The URL of the module that exports the replica. */
  readonly module: string;
  /** The replica's name. */
  readonly name: string;
  readonly index: number;
  readonly memory: PoolMemory;
  /** The setup, with its tensors encoded for structured cloning. */
  readonly setup: unknown;
}

/** A message from a worker to the coordinating thread. */
export type WorkerMessage =
  { readonly type: 'ready' } | { readonly type: 'error'; readonly error: { readonly name: string; readonly message: string; readonly stack?: string } };

/** A replica made by {@link defineReplica}: export it from the module whose URL it names. */
export interface Replica<Setup, Input, Output> {
  /** The URL of the module that defines and exports it (`import.meta.url` there). */
  readonly module: string;
  /** Its name, unique within that module. */
  readonly name: string;
  /** Builds a thread's replica. */
  readonly build: ReplicaBuild<Setup, Input, Output>;
  /**
   * Runs a worker thread's part of a pool: builds the replica, reports ready, then runs steps until told to
   * stop. `onExit` registers a handler for the thread's exit (where the platform has one).
   * @internal
   */
  readonly serveWorker: (boot: WorkerBoot, post: (message: WorkerMessage) => void, onExit: (handler: (exitCode: number) => void) => void) => void;
  /** @internal */
  readonly __tapestryParallelReplica: true;
}

/**
 * Defines a replica: `build(setup, thread)` runs on every thread of a pool and returns its step. Call it at
 * the top level of a module and export the result; `module` is that module's `import.meta.url`, from which
 * worker threads load it.
 * @example
 * ```ts
 * // train-replica.ts
 * export const replica = defineReplica(import.meta.url, 'train', (setup: Setup, thread) => {
 *   const step = trainingStep({ gradients: valueAndGrad(loss, 0, { hasAux: true }), update }, thread);
 *   let { params, optState } = setup;
 *   return (batchIndex: number) => {
 *     const result = step(params, optState, ...shardOf(setup.data, batchIndex, thread));
 *     ({ params, optState } = result);
 *     return { loss: result.loss.item(), params };
 *   };
 * });
 * ```
 */
export function defineReplica<Setup, Input, Output>(module: string, name: string, build: ReplicaBuild<Setup, Input, Output>): Replica<Setup, Input, Output> {
  if (typeof module !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(module)) {
    throw new ArgumentError(`defineReplica: module must be the defining module's URL (import.meta.url), got ${JSON.stringify(module)}`);
  }
  if (typeof name !== 'string' || name === '') throw new ArgumentError(`defineReplica: name must be a non-empty string, got ${JSON.stringify(name)}`);
  if (typeof build !== 'function') throw new ArgumentError(`defineReplica: build must be a function (setup, thread) => step, got ${typeof build}`);
  return { module, name, build, serveWorker: (boot, post, onExit) => serveWorker(build, boot, post, onExit), [BRAND]: true };
}

/** The input of the current step, from its slot. */
function readInput(memory: PoolMemory, slot: number): unknown {
  const length = Atomics.load(new Int32Array(memory.control), Word.InputLength + slot);
  return JSON.parse(new TextDecoder().decode(new Uint8Array(memory.input, slot * INPUT_BYTES, length).slice()));
}

/** A plain description of an error, for a message to another thread. */
function describeError(error: unknown): { name: string; message: string; stack?: string } {
  const e = error instanceof Error ? error : new Error(String(error));
  return e.stack === undefined ? { name: e.name, message: e.message } : { name: e.name, message: e.message, stack: e.stack };
}

function serveWorker<Setup, Input, Output>(
  build: ReplicaBuild<Setup, Input, Output>,
  boot: WorkerBoot,
  post: (message: WorkerMessage) => void,
  onExit: (handler: (exitCode: number) => void) => void,
): void {
  const { memory, index } = boot;
  const thread = new SharedThread(index, memory);
  const words = new Int32Array(memory.control);
  let step: ReplicaStep<Input, Output>;
  try {
    step = build(decodeTree(boot.setup) as Setup, thread);
  } catch (error) {
    post({ type: 'error', error: describeError(error) });
    return;
  }
  onExit((exitCode) => {
    // a thread that ends while the pool still runs (an exit call, a crash outside the step) fails the run
    if (Atomics.load(words, Word.Op) === Op.Stop || thread.broken) return;
    recordFailure(memory, index, new Error(`the worker thread exited with code ${exitCode} while the pool was running`));
    thread.fail();
  });
  post({ type: 'ready' });
  let steps = 0;
  try {
    while (thread.awaitCommand() === Op.Step) step(readInput(memory, steps++ % 2) as Input);
  } catch (error) {
    // a broken barrier means another thread failed first and recorded its error
    if (!(error instanceof BarrierBroken)) {
      recordFailure(memory, index, error);
      thread.fail();
    }
  }
}
