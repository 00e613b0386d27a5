/**
 * Training on the CPU with `@tapestry/parallel`: a pool of threads (the training worker and threads − 1 Web
 * Workers over shared memory in a browser; worker_threads in Node), each running the replica on its share of
 * the streams. The same thread count gives the same bits on every run.
 */
import type { DataParallel, DataParallelOptions, Replica } from '@tapestry/parallel';
import { defineReplica } from '@tapestry/parallel';
import type { TrainingEngine } from './engine.js';
import type { PlaygroundParams } from './model.js';
import { buildReplica, REPLICA_NAME, type ReplicaInput, type ReplicaOutput, type ReplicaSetup } from './replica.js';

/** `dataParallel` of `@tapestry/parallel/browser` or `@tapestry/parallel/node`. */
export type DataParallelEntry = <Setup, Input, Output>(replica: Replica<Setup, Input, Output>, options: DataParallelOptions<Setup>) => Promise<DataParallel<Input, Output>>;

/** How the CPU trains. */
export interface CpuCompute {
  readonly device: 'cpu';
  /** Threads, the calling one included. */
  readonly threads: number;
  /** The platform's `dataParallel`. */
  readonly dataParallel: DataParallelEntry;
  /** The URL of a module that exports the playground's replica (replica-entry.ts, as the platform loads it). */
  readonly replicaModule: string;
}

/** Starts the pool; resolves once every thread has built its replica. */
export async function cpuEngine(compute: CpuCompute, setup: ReplicaSetup): Promise<TrainingEngine> {
  const replica = defineReplica(compute.replicaModule, REPLICA_NAME, buildReplica);
  const pool = await compute.dataParallel<ReplicaSetup, ReplicaInput, ReplicaOutput>(replica, { threads: compute.threads, setup });
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
