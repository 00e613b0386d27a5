/**
 * @tapestry/parallel: data parallelism on every core. A pool of threads runs copies of one replica (a
 * training step and its share of the data); collectives average gradients through shared memory in a fixed
 * order, so every thread applies the same update and the same thread count gives the same bits every run.
 *
 * This entry point is browser-safe: `defineReplica`, `trainingStep` and the types. Start a pool with
 * `dataParallel` from `@tapestry/parallel/node` (worker_threads) or `@tapestry/parallel/browser` (Web
 * Workers in a cross-origin-isolated page).
 * @packageDocumentation
 */
export { defineReplica, type Replica, type ReplicaBuild, type ReplicaStep } from './replica.js';
export type { Thread } from './thread.js';
export {
  trainingStep,
  type TrainingStep,
  type TrainingStepOptions,
  type TrainingStepParts,
  type TrainingStepResult,
  type TrainingStepUpdate,
} from './training-step.js';
export type { DataParallel, DataParallelOptions } from './pool.js';
