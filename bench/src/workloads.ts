/**
 * W1–W5: each workload is a list of runners, tapestry first, then one per TensorFlow.js backend, all built
 * from the same weights and data; {@link timeRunners} runs them alternately and checks that they agree.
 */
import { matmul, tensor } from '@tapestry/core';
import * as tf from '@tensorflow/tfjs';
import { initialWeights, makeBatch, type CellKind } from './data.js';
import { forwardFlops, matmulFlops, trainFlops } from './flops.js';
import type { Runner } from './harness.js';
import type { BenchSizes } from './sizes.js';
import { useBackend, type TfjsBackend } from './tfjs-backends.js';
import { tfjsModel } from './tfjs-model.js';
import { tapestryModel, type TapestryCell } from './tapestry-model.js';

/** The workload ids. */
export type WorkloadId = 'W1' | 'W2' | 'W3' | 'W4' | 'W5' | 'W6';

/** Every workload, in order. */
export const WORKLOADS: readonly WorkloadId[] = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6'];

/** What each workload measures. */
export const WORKLOAD_TITLES: Record<WorkloadId, string> = {
  W1: 'LSTM training step',
  W2: 'GRU training step',
  W3: 'LSTM forward (inference)',
  W4: 'float32 matmul',
  W5: 'custom LSTM cell training step',
  W6: 'training-step memory',
};

/** The libraries a workload can run. */
export type Library = 'tapestry' | 'tfjs-cpu' | 'tfjs-wasm';

/** Every library, tapestry first (the reference of the agreement check and of the ratios). */
export const LIBRARIES: readonly Library[] = ['tapestry', 'tfjs-cpu', 'tfjs-wasm'];

/** One timed case of a workload (W4 has one per matrix size, the others one). */
export interface WorkloadCase {
  /** `N=32 T=64`, `1024²`, … */
  readonly label: string;
  /** Runners in order; the first is tapestry. */
  readonly runners: readonly Runner[];
  /** FLOPs of one step (one runner call). */
  readonly flops: number;
  /** Tokens of one step, for model workloads. */
  readonly tokens?: number;
  /** Agreement tolerance of the check (relative to max(1, |value|)). */
  readonly tolerance: number;
  /** What the check compares. */
  readonly checked: string;
  /** Frees what the runners hold. */
  dispose(): void;
}

const backendOf = (library: Library): TfjsBackend => (library === 'tfjs-cpu' ? 'cpu' : 'wasm');

/** W1/W2/W3/W5: the recurrent model, trained or forward only. */
async function modelCase(
  kind: CellKind, tapestryCells: readonly TapestryCell[], mode: 'train' | 'forward', sizes: BenchSizes, libraries: readonly Library[],
): Promise<WorkloadCase> {
  const weights = initialWeights(kind, sizes);
  const batch = makeBatch(sizes);
  const runners: Runner[] = [];
  const disposers: (() => void)[] = [];
  for (const library of libraries) {
    if (library === 'tapestry') {
      for (const cell of tapestryCells) {
        const model = tapestryModel(cell, weights, batch, sizes);
        const run = mode === 'train' ? model.train : model.forward;
        const name = cell === 'custom-lstm' ? 'tapestry (custom cell)' : tapestryCells.length > 1 ? 'tapestry (built-in lstm)' : 'tapestry';
        runners.push({ library: name, activate: async () => {}, step: () => [run()] });
      }
    } else {
      await useBackend(backendOf(library));
      const model = tfjsModel(weights, batch, sizes);
      disposers.push(model.dispose);
      const run = mode === 'train' ? model.train : model.forward;
      runners.push({ library, activate: () => useBackend(backendOf(library)), step: () => [run()] });
    }
  }
  const flops = mode === 'train' ? trainFlops(kind, sizes) : forwardFlops(kind, sizes);
  return {
    label: `N=${sizes.batch} T=${sizes.steps} H=${sizes.hidden} V=${sizes.vocab}`,
    runners,
    flops,
    tokens: sizes.batch * sizes.steps,
    tolerance: 1e-4,
    checked: mode === 'train' ? 'loss of each warm-up step (Adam updates included)' : 'loss',
    dispose: () => disposers.forEach((d) => d()),
  };
}

/** Deterministic U(-1, 1) float32 values. */
function uniformArray(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

/** W4 at one square size: products repeated so that one step lasts long enough for the clock. */
async function matmulCase(size: number, libraries: readonly Library[]): Promise<WorkloadCase> {
  const a = uniformArray(size * size, 1);
  const b = uniformArray(size * size, 2);
  const flopsOne = matmulFlops(size, size, size);
  const reps = Math.max(1, Math.min(64, Math.round(2 ** 25 / flopsOne)));
  // a fixed sample of output entries to compare across libraries
  const sample = Array.from({ length: 64 }, (_, i) => Math.floor(((i * 2654435761) >>> 0) % (size * size)));
  const runners: Runner[] = [];
  const disposers: (() => void)[] = [];
  for (const library of libraries) {
    if (library === 'tapestry') {
      const ta = tensor(a, { shape: [size, size] });
      const tb = tensor(b, { shape: [size, size] });
      runners.push({
        library,
        activate: async () => {},
        step: () => {
          let c = matmul(ta, tb);
          for (let r = 1; r < reps; r++) c = matmul(ta, tb);
          const data = c.dataSync();
          return sample.map((i) => data[i]!);
        },
      });
    } else {
      await useBackend(backendOf(library));
      const ta = tf.tensor2d(a, [size, size]);
      const tb = tf.tensor2d(b, [size, size]);
      disposers.push(() => tf.dispose([ta, tb]));
      runners.push({
        library,
        activate: () => useBackend(backendOf(library)),
        step: () => {
          for (let r = 1; r < reps; r++) tf.matMul(ta, tb).dispose();
          const c = tf.matMul(ta, tb);
          const data = c.dataSync();
          c.dispose();
          return sample.map((i) => data[i]!);
        },
      });
    }
  }
  return {
    label: reps > 1 ? `${size}² (×${reps} per step)` : `${size}²`,
    runners,
    flops: flopsOne * reps,
    tolerance: 1e-4,
    checked: '64 sampled output entries',
    dispose: () => disposers.forEach((d) => d()),
  };
}

/** The timed cases of workload `id` (W1–W5). */
export async function workloadCases(id: Exclude<WorkloadId, 'W6'>, sizes: BenchSizes, libraries: readonly Library[]): Promise<WorkloadCase[]> {
  switch (id) {
    case 'W1':
      return [await modelCase('lstm', ['lstm'], 'train', sizes, libraries)];
    case 'W2':
      return [await modelCase('gru', ['gru'], 'train', sizes, libraries)];
    case 'W3':
      return [await modelCase('lstm', ['lstm'], 'forward', sizes, libraries)];
    case 'W4': {
      const cases: WorkloadCase[] = [];
      for (const size of sizes.matmul) cases.push(await matmulCase(size, libraries));
      return cases;
    }
    case 'W5':
      // the built-in runs beside the custom cell, so their ratio is measured in the same blocks
      return [await modelCase('lstm', libraries.includes('tapestry') ? ['custom-lstm', 'lstm'] : [], 'train', sizes, libraries)];
  }
}
