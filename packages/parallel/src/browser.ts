/**
 * @tapestry/parallel/browser: pools of Web Workers. Threads share memory only in a cross-origin-isolated page
 * (served with `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`),
 * and a step blocks its thread with `Atomics.wait`, which a page's main thread may not do: call
 * `dataParallel` from a worker that runs the training loop. Each worker loads the replica's module by its
 * URL as a module worker, so that URL must serve an ES module (a separate entry of a bundler, or the module
 * as it is).
 * @packageDocumentation
 */
import { ArgumentError } from '@tapestry/core';
import { startPool, type DataParallel, type DataParallelOptions, type WorkerHandle } from './pool.js';
import type { Replica, WorkerBoot, WorkerMessage } from './replica.js';

export type { DataParallel, DataParallelOptions } from './pool.js';

// The worker's entry, a module worker made from a Blob: it waits for its boot message, imports the
// replica's module and hands the thread to the replica's serveWorker.
const WORKER_SOURCE = `
self.onmessage = async (event) => {
  const boot = event.data;
  try {
    const exports = await import(boot.module);
    const replica = Object.values(exports).find((v) => v !== null && typeof v === 'object' && v.__tapestryParallelReplica === true && v.name === boot.name);
    if (replica === undefined) throw new Error('dataParallel: ' + boot.module + " exports no replica named '" + boot.name + "'; export the value defineReplica returns");
    replica.serveWorker(boot, (message) => self.postMessage(message), () => {});
  } catch (error) {
    self.postMessage({ type: 'error', error: { name: error.name, message: error.message, stack: error.stack } });
  }
};
`;

let workerUrl: string | undefined;

function spawnWorker(boot: WorkerBoot): WorkerHandle {
  workerUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const worker = new Worker(workerUrl, { type: 'module', name: `tapestry-parallel-${boot.index}` });
  const ready = new Promise<void>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const message = event.data;
      if (message.type === 'ready') resolve();
      else reject(new Error(`dataParallel: thread ${boot.index} failed while building its replica: ${message.error.name}: ${message.error.message}`));
    };
    worker.onerror = (event: ErrorEvent) => reject(new Error(`dataParallel: thread ${boot.index} failed to start: ${event.message}`));
  });
  ready.catch(() => {});
  worker.postMessage(boot);
  return { ready, terminate: () => worker.terminate() };
}

/**
 * Starts a pool of `options.threads` threads, the calling one and `threads − 1` Web Workers, each running a
 * copy of `replica` built from `options.setup`. Resolves once every replica is built. With more than one
 * thread it needs a cross-origin-isolated page and must be called from a worker, not the page's main thread.
 */
export function dataParallel<Setup, Input, Output>(
  replica: Replica<Setup, Input, Output>,
  options: DataParallelOptions<Setup>,
): Promise<DataParallel<Input, Output>> {
  if (options?.threads > 1) {
    const scope = globalThis as { crossOriginIsolated?: boolean; document?: unknown };
    if (scope.crossOriginIsolated !== true) {
      return Promise.reject(
        new ArgumentError(
          `dataParallel: threads ${options.threads} need shared memory, which a page has only when cross-origin isolated; ` +
            `serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, or use threads: 1`,
        ),
      );
    }
    if (scope.document !== undefined) {
      return Promise.reject(
        new ArgumentError(`dataParallel: a step waits with Atomics.wait, which a page's main thread may not do; call dataParallel from a Worker`),
      );
    }
  }
  return startPool('dataParallel', replica, options, spawnWorker);
}
