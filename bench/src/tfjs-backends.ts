/**
 * The two TensorFlow.js backends the benchmark compares against: `cpu` (plain JavaScript kernels) and
 * `wasm` (XNNPACK compiled to WebAssembly SIMD). The wasm backend loads its binaries from the installed
 * package, so it needs no network.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/** The TensorFlow.js backends measured. */
export type TfjsBackend = 'cpu' | 'wasm';

let wasmPathSet = false;

/** Makes `backend` the active TensorFlow.js backend (initialising it on first use). */
export async function useBackend(backend: TfjsBackend): Promise<void> {
  if (backend === 'wasm' && !wasmPathSet) {
    const require = createRequire(import.meta.url);
    const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    setWasmPaths(`${pathToFileURL(dist).pathname}/`);
    wasmPathSet = true;
  }
  if (tf.getBackend() === backend) return;
  if (!(await tf.setBackend(backend))) throw new Error(`bench: the TensorFlow.js '${backend}' backend failed to initialise`);
}
