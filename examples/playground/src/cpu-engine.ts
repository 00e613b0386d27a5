/**
 * Training on the CPU. One thread: the whole step `jit`-compiled in the training worker. Several: a
 * `@tapestry/parallel` pool (the training worker and threads − 1 Web Workers over shared memory in a browser;
 * worker_threads in Node), each thread running the replica on its share of the streams. The same thread
 * count gives the same bits on every run.
 *
 * The pool's code is loaded only for several threads: `@tapestry/parallel` names `SharedArrayBuffer` when its
 * module is evaluated, and a page that is not cross-origin isolated has no such global, so importing it there
 * would fail even for one thread.
 */
import type { DataParallel, DataParallelOptions, Replica } from '@tapestry/parallel';
import type { TrainingEngine } from './engine.js';
import type { PlaygroundParams } from './model.js';
import { buildReplica, type ReplicaInput, type ReplicaOutput, type ReplicaSetup } from './replica.js';
import { soloStep } from './step.js';

/** `dataParallel` of `@tapestry/parallel/browser` or `@tapestry/parallel/node`. */
type DataParallelEntry = <Setup, Input, Output>(
  replica: Replica<Setup, Input, Output>,
  options: DataParallelOptions<Setup>,
) => Promise<DataParallel<Input, Output>>;

/** What a pool needs: the platform's `dataParallel` and the playground's replica. */
interface PoolParts {
  readonly dataParallel: DataParallelEntry;
  /**
   * The replica as replica-entry.ts exports it, imported dynamically (`await import('./replica-entry.js')`):
   * its module URL is then the one the other threads can load, in a bundle too.
   */
  readonly replica: Replica<ReplicaSetup, ReplicaInput, ReplicaOutput>;
}

/** How the CPU trains. */
export interface CpuCompute {
  readonly device: 'cpu';
  /** Threads, the calling one included. */
  readonly threads: number;
  /** Loads the pool's parts; called only for more than one thread. */
  readonly loadPool: () => Promise<PoolParts>;
}

const SOLO = { index: 0, threads: 1 } as const;

/** Starts the run's threads; resolves once every thread has built its replica. */
export async function cpuEngine(compute: CpuCompute, setup: ReplicaSetup): Promise<TrainingEngine> {
  let params: PlaygroundParams = setup.params;
  let run: (input: ReplicaInput) => ReplicaOutput;
  let close = () => {};
  if (compute.threads === 1) {
    run = buildReplica(setup, SOLO, soloStep);
  } else {
    const { dataParallel, replica } = await compute.loadPool();
    const pool = await dataParallel(replica, { threads: compute.threads, setup });
    run = (input) => pool.step(input);
    close = () => pool.close();
  }
  return {
    description: `CPU, ${compute.threads} ${compute.threads === 1 ? 'thread' : 'threads'}`,
    depth: 1,
    step: (input) => {
      try {
        const output = run(input);
        params = output.params;
        return Promise.resolve(output.loss.item());
      } catch (error) {
        return Promise.reject(error);
      }
    },
    params: () => Promise.resolve(params),
    close,
  };
}
