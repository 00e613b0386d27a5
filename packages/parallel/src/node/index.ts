/**
 * @tapestry/parallel/node: pools of `worker_threads` workers. Worker threads share memory with the calling
 * thread without flags; each loads the replica's module by its URL. A TypeScript replica module (`.ts`,
 * `.mts`) is loaded through tsx, which must be installed where that module can resolve it (Node 20 does not
 * hand a loader registered on the main thread to workers); JavaScript modules load as they are.
 * @packageDocumentation
 */
import { Worker } from 'node:worker_threads';
import { startPool, type DataParallel, type DataParallelOptions, type WorkerHandle } from '../pool.js';
import type { Replica, WorkerBoot, WorkerMessage } from '../replica.js';

export type { DataParallel, DataParallelOptions } from '../pool.js';

// The worker's entry, evaluated as a CommonJS script: load tsx if the replica module is TypeScript, import
// the module, and hand the thread to the replica's serveWorker (the same copy of this package the module
// uses, wherever it resolves from).
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const post = (message) => parentPort.postMessage(message);
(async () => {
  const url = workerData.module;
  if (/\\.[cm]?tsx?$/.test(new URL(url).pathname)) {
    const { createRequire } = require('node:module');
    const { pathToFileURL } = require('node:url');
    const { dirname, join } = require('node:path');
    const { readFileSync } = require('node:fs');
    let api;
    try {
      const manifest = createRequire(url).resolve('tsx/package.json');
      const exported = JSON.parse(readFileSync(manifest, 'utf8')).exports['./esm/api'].import.default;
      api = await import(pathToFileURL(join(dirname(manifest), exported)).href);
    } catch (error) {
      throw new Error('dataParallel: the replica module ' + url + ' is TypeScript, and tsx could not be loaded from its package (' + error.message + '); install tsx there or build the module to JavaScript');
    }
    api.register();
  }
  const exports = await import(url);
  const replica = Object.values(exports).find((v) => v !== null && typeof v === 'object' && v.__tapestryParallelReplica === true && v.name === workerData.name);
  if (replica === undefined) throw new Error('dataParallel: ' + url + " exports no replica named '" + workerData.name + "'; export the value defineReplica returns");
  replica.serveWorker(workerData, post, (handler) => process.on('exit', handler));
})().catch((error) => post({ type: 'error', error: { name: error.name, message: error.message, stack: error.stack } }));
`;

function spawnWorker(boot: WorkerBoot): WorkerHandle {
  // no execArgv: a loader the main thread was started with (tsx's, a test runner's) is not for the workers
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: boot, execArgv: [], name: `tapestry-parallel-${boot.index}` });
  // a stopped pool must not keep the process alive
  worker.unref();
  const ready = new Promise<void>((resolve, reject) => {
    const fail = (error: Error): void =>
      reject(new Error(`dataParallel: thread ${boot.index} failed while building its replica: ${error.message}`, { cause: error }));
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') resolve();
      else {
        const error = new Error(message.error.message);
        error.name = message.error.name;
        if (message.error.stack !== undefined) error.stack = message.error.stack;
        fail(error);
      }
    });
    // also keeps an error after the start from being an unhandled 'error' event; the step reports it
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the worker exited with code ${code}`)));
  });
  // a rejection after the pool started is reported by the step, through shared memory
  ready.catch(() => {});
  return { ready, terminate: () => void worker.terminate() };
}

/**
 * Starts a pool of `options.threads` threads, the calling one and `threads − 1` worker threads, each
 * running a copy of `replica` built from `options.setup`. Resolves once every replica is built; rejects
 * with the error of one that failed to build.
 * @example
 * ```ts
 * import { dataParallel } from '@tapestry/parallel/node';
 * import { replica } from './train-replica.js';
 *
 * const pool = await dataParallel(replica, { threads: 4, setup: { params, optState, data } });
 * try {
 *   for (let i = 0; i < steps; i++) console.log(pool.step(i).loss);
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export function dataParallel<Setup, Input, Output>(
  replica: Replica<Setup, Input, Output>,
  options: DataParallelOptions<Setup>,
): Promise<DataParallel<Input, Output>> {
  return startPool('dataParallel', replica, options, spawnWorker);
}
