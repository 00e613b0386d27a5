/**
 * Training on the CPU with `@tapestry/parallel`: a pool of threads (the training worker and threads − 1 Web
 * Workers over shared memory in a browser; worker_threads in Node), each running the replica on its share of
 * the streams. The same thread count gives the same bits on every run.
 */
import type { DataParallel, DataParallelOptions, Replica } from '@tapestry/parallel';
import type { TrainingEngine } from './engine.js';
import type { PlaygroundParams } from './model.js';
import type { ReplicaInput, ReplicaOutput, ReplicaSetup } from './replica.js';

/** `dataParallel` of `@tapestry/parallel/browser` or `@tapestry/parallel/node`. */
export type DataParallelEntry = <Setup, Input, Output>(replica: Replica<Setup, Input, Output>, options: DataParallelOptions<Setup>) => Promise<DataParallel<Input, Output>>;

/** How the CPU trains. */
export interface CpuCompute {
  readonly device: 'cpu';
  /** Threads, the calling one included. */
  readonly threads: number;
  /** The platform's `dataParallel`. */
  readonly dataParallel: DataParallelEntry;
  /**
   * The playground's replica as replica-entry.ts exports it, imported dynamically (`await
   * import('./replica-entry.js')`): its module URL is then the one the other threads can load, in a bundle too.
   */
  readonly replica: Replica<ReplicaSetup, ReplicaInput, ReplicaOutput>;
}

/** Starts the pool; resolves once every thread has built its replica. */
export async function cpuEngine(compute: CpuCompute, setup: ReplicaSetup): Promise<TrainingEngine> {
  const pool = await compute.dataParallel(compute.replica, { threads: compute.threads, setup });
  let params: PlaygroundParams = setup.params;
  return {
    description: `CPU, ${pool.threads} ${pool.threads === 1 ? 'thread' : 'threads'}`,
    depth: 1,
    step: (input) => {
      try {
        const output = pool.step(input);
        params = output.params;
        return Promise.resolve(output.loss.item());
      } catch (error) {
        return Promise.reject(error);
      }
    },
    params: () => Promise.resolve(params),
    close: () => pool.close(),
  };
}
