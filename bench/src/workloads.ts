/**
 * W1–W5 and W7: each workload is a list of runners, eager tapestry first, then tapestry under `jit` (model
 * workloads; W1–W3 and W7 also on two threads through @tapestry/parallel), then one per TensorFlow.js
 * backend, then PyTorch at one and two threads (when `/usr/bin/python3` imports torch), all built from the
 * same weights and data; {@link timeRunners} runs them alternately and checks that they agree.
 */
import { matmul, tensor } from '@tapestry/core';
import { dataParallel } from '@tapestry/parallel/node';
import * as tf from '@tensorflow/tfjs';
import { charRnnArrays, charRnnReplica, charRnnSetup, charRnnTrainFlops, CHAR_RNN_CLIP, CHAR_RNN_LR } from './char-rnn-replica.js';
import { GATES, initialWeights, makeBatch, type CellKind } from './data.js';
import { forwardFlops, matmulFlops, trainFlops } from './flops.js';
import type { Runner } from './harness.js';
import { modelReplica, type ModelReplicaSetup } from './model-replica.js';
import { pytorchRunner, type PytorchArray, type PytorchAvailability, type PytorchSpec } from './pytorch.js';
import type { BenchSizes } from './sizes.js';
import { useBackend, type TfjsBackend } from './tfjs-backends.js';
import { tfjsModel } from './tfjs-model.js';
import { tapestryModel, type TapestryCell, type TapestryModel } from './tapestry-model.js';

/** The workload ids. */
export type WorkloadId = 'W1' | 'W2' | 'W3' | 'W4' | 'W5' | 'W6' | 'W7';

/** Every workload, in order. */
export const WORKLOADS: readonly WorkloadId[] = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7'];

/** What each workload measures. */
export const WORKLOAD_TITLES: Record<WorkloadId, string> = {
  W1: 'LSTM training step',
  W2: 'GRU training step',
  W3: 'LSTM forward (inference)',
  W4: 'float32 matmul',
  W5: 'custom LSTM cell training step',
  W6: 'training-step memory',
  W7: 'char-RNN training step (characters/s)',
};

/**
 * The libraries a workload can run. `tapestry-jit` is tapestry with the whole training step (forward,
 * backward, Adam) or, for W3, the loss compiled by core's `jit`; it runs in the model workloads W1, W2, W3,
 * W5 and W7 only, since W4 is a single kernel call and W6 samples memory inside the eager forward pass;
 * in W1–W3 and W7 it also runs on two threads through @tapestry/parallel (`tapestry (jit, 2 threads)`).
 * `pytorch` adds PyTorch at one and two threads (W1–W5 and W7) when `/usr/bin/python3` imports torch.
 * W7 runs `tapestry-jit` (at one and two threads, through @tapestry/parallel) and `pytorch` only.
 */
export type Library = 'tapestry' | 'tapestry-jit' | 'tfjs-cpu' | 'tfjs-wasm' | 'pytorch';

/** Every library, eager tapestry first (the reference of the agreement check and of the ratios). */
export const LIBRARIES: readonly Library[] = ['tapestry', 'tapestry-jit', 'tfjs-cpu', 'tfjs-wasm', 'pytorch'];

/** The libraries whose rows are TensorFlow.js (the table gives every tapestry row's speed relative to each). */
export const isTfjs = (library: string): boolean => library.startsWith('tfjs');

/** The rows of PyTorch (the table gives every tapestry row's time relative to each). */
export const isPytorch = (library: string): boolean => library.startsWith('pytorch');

/** The thread counts of the PyTorch rows. */
export const PYTORCH_THREADS = [1, 2] as const;

/**
 * Untimed steps a pool row takes after the common warm-up (see `Runner.settleSteps`): W3's two-thread pool,
 * stepped 200 times from its start, took 17–45 ms a step until about the twelfth step and 8–12 ms after.
 */
const POOL_SETTLE_STEPS = 12;

/** Where a workload finds PyTorch: availability (undefined when not asked for) and the Python to run. */
export interface PytorchContext {
  readonly availability: PytorchAvailability | undefined;
  readonly python: string;
}

const wantsPytorch = (libraries: readonly Library[], pytorch: PytorchContext | undefined): pytorch is PytorchContext =>
  libraries.includes('pytorch') && pytorch?.availability !== undefined && 'version' in pytorch.availability;

/** PyTorch's runners for `spec`, at each thread count, added to `runners` (their processes end in `disposers`). */
async function addPytorch(spec: PytorchSpec, pytorch: PytorchContext, runners: Runner[], disposers: (() => void)[]): Promise<void> {
  for (const threads of PYTORCH_THREADS) {
    const runner = await pytorchRunner(spec, threads, pytorch.python);
    disposers.push(runner.dispose);
    runners.push(runner);
  }
}

/** One timed case of a workload (W4 has one per matrix size, the others one). */
export interface WorkloadCase {
  /** `N=32 T=64`, `1024²`, … */
  readonly label: string;
  /** Runners in order; the first is the reference (eager tapestry when it runs). */
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

/** A row name of a tapestry runner: W5 runs two cells eagerly and jits the first (the custom cell). */
function tapestryRowName(cell: TapestryCell, cells: readonly TapestryCell[], jitted: boolean): string {
  if (cell === 'custom-lstm') return jitted ? 'tapestry (custom cell, jit)' : 'tapestry (custom cell)';
  if (jitted) return 'tapestry (jit)';
  return cells.length > 1 ? 'tapestry (built-in lstm)' : 'tapestry';
}

/** A tapestry runner; a jitted one throws if `jit` compiled more than once, so its timed steps are replays. */
function tapestryRunner(name: string, model: TapestryModel, mode: 'train' | 'forward'): Runner {
  const run = mode === 'train' ? model.train : model.forward;
  return {
    library: name,
    activate: async () => {},
    step: () => {
      const value = run();
      if (model.compiledSignatures() > 1)
        throw new Error(`bench: ${name} traced again (${model.compiledSignatures()} signatures), so it measures tracing, not replay`);
      return [value];
    },
  };
}

/**
 * W1/W2/W3/W5: the recurrent model, trained or forward only. `tapestryCells` are the cells eager tapestry
 * runs (W5: the custom cell and the built-in beside it); `tapestry-jit` runs the first of them.
 */
async function modelCase(
  kind: CellKind,
  tapestryCells: readonly TapestryCell[],
  mode: 'train' | 'forward',
  sizes: BenchSizes,
  libraries: readonly Library[],
  pytorch?: PytorchContext,
): Promise<WorkloadCase> {
  const weights = initialWeights(kind, sizes);
  const batch = makeBatch(sizes);
  const runners: Runner[] = [];
  const disposers: (() => void)[] = [];
  const dispose = (): void => disposers.forEach((d) => d());
  try {
    for (const library of libraries) {
      if (library === 'tapestry') {
        for (const cell of tapestryCells) {
          runners.push(tapestryRunner(tapestryRowName(cell, tapestryCells, false), tapestryModel(cell, weights, batch, sizes), mode));
        }
      } else if (library === 'tapestry-jit') {
        const cell = tapestryCells[0]!;
        runners.push(tapestryRunner(tapestryRowName(cell, tapestryCells, true), tapestryModel(cell, weights, batch, sizes, { jit: true }), mode));
        // W1–W3 also on two threads through @tapestry/parallel, each thread on half the rows (W5 compares
        // cells, on one thread); an odd batch cannot be halved, and gets no such row
        if (cell !== 'custom-lstm' && sizes.batch % 2 === 0) {
          const setup: ModelReplicaSetup = { cell, mode, sizes, weights, batch };
          const pool = await dataParallel(modelReplica, { threads: 2, setup });
          disposers.push(() => pool.close());
          runners.push({ library: threadsRowName(2), activate: async () => {}, step: () => [pool.step(null)], settleSteps: POOL_SETTLE_STEPS });
        }
      } else if (isTfjs(library)) {
        await useBackend(backendOf(library));
        const model = tfjsModel(weights, batch, sizes);
        disposers.push(model.dispose);
        const run = mode === 'train' ? model.train : model.forward;
        runners.push({ library, activate: () => useBackend(backendOf(library)), step: () => [run()] });
      } else if (wantsPytorch(libraries, pytorch)) {
        const rows = GATES[kind] * sizes.hidden;
        const arrays: Record<string, PytorchArray> = {
          weightIh: { data: weights.weightIh, shape: [rows, sizes.vocab] },
          weightHh: { data: weights.weightHh, shape: [rows, sizes.hidden] },
          biasIh: { data: weights.biasIh, shape: [rows] },
          biasHh: { data: weights.biasHh, shape: [rows] },
          headWeight: { data: weights.headWeight, shape: [sizes.vocab, sizes.hidden] },
          headBias: { data: weights.headBias, shape: [sizes.vocab] },
          x: { data: batch.x, shape: [sizes.batch, sizes.steps, sizes.vocab] },
          targets: { data: batch.targets, shape: [sizes.batch, sizes.steps] },
        };
        // W5 measures a cell written by hand: PyTorch's row runs one too, in a Python loop over time
        const workload = tapestryCells[0] === 'custom-lstm' ? 'custom-lstm' : kind;
        await addPytorch({ workload, mode, sizes: { vocab: sizes.vocab, hidden: sizes.hidden }, lr: 1e-3, arrays }, pytorch, runners, disposers);
      }
    }
  } catch (error) {
    dispose();
    throw error;
  }
  const flops = mode === 'train' ? trainFlops(kind, sizes) : forwardFlops(kind, sizes);
  return {
    label: `N=${sizes.batch} T=${sizes.steps} H=${sizes.hidden} V=${sizes.vocab}`,
    runners,
    flops,
    tokens: sizes.batch * sizes.steps,
    tolerance: 1e-4,
    checked: mode === 'train' ? 'loss of each warm-up step (Adam updates included)' : 'loss',
    dispose,
  };
}

/** The row name of tapestry under `jit` on `threads` threads of a @tapestry/parallel pool (W1–W3, W7). */
export const threadsRowName = (threads: number): string => `tapestry (jit, ${threads} thread${threads === 1 ? '' : 's'})`;

/**
 * W7: the char-RNN's default model, `tapestry-jit` at one and two threads through @tapestry/parallel (the
 * calling thread and a worker), and PyTorch at one and two threads, from the same parameters and batch.
 */
async function charRnnCase(sizes: BenchSizes, libraries: readonly Library[], pytorch?: PytorchContext): Promise<WorkloadCase> {
  const s = sizes.charRnn;
  const setup = charRnnSetup(s);
  const runners: Runner[] = [];
  const disposers: (() => void)[] = [];
  const dispose = (): void => disposers.forEach((d) => d());
  try {
    if (libraries.includes('tapestry-jit')) {
      for (const threads of [1, 2]) {
        if (s.batch % threads !== 0) continue;
        const pool = await dataParallel(charRnnReplica, { threads, setup });
        disposers.push(() => pool.close());
        runners.push({
          library: threadsRowName(threads),
          activate: async () => {},
          step: () => [pool.step(null)],
          settleSteps: threads > 1 ? POOL_SETTLE_STEPS : 0,
        });
      }
    }
    if (wantsPytorch(libraries, pytorch)) {
      const spec: PytorchSpec = {
        workload: 'char-rnn',
        mode: 'train',
        sizes: { vocab: s.vocab, embedding: s.embedding, hidden: s.hidden, layers: s.layers },
        lr: CHAR_RNN_LR,
        clip: CHAR_RNN_CLIP,
        arrays: charRnnArrays(setup),
      };
      await addPytorch(spec, pytorch, runners, disposers);
    }
  } catch (error) {
    dispose();
    throw error;
  }
  return {
    label: `N=${s.batch} T=${s.steps} E=${s.embedding} ${s.layers}×${s.hidden} LSTM V=${s.vocab}`,
    runners,
    flops: charRnnTrainFlops(s),
    tokens: s.batch * s.steps,
    tolerance: 1e-4,
    checked: 'loss of each warm-up step (clipping and Adam included)',
    dispose,
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
async function matmulCase(size: number, libraries: readonly Library[], pytorch?: PytorchContext): Promise<WorkloadCase> {
  const a = uniformArray(size * size, 1);
  const b = uniformArray(size * size, 2);
  const flopsOne = matmulFlops(size, size, size);
  const reps = Math.max(1, Math.min(64, Math.round(2 ** 25 / flopsOne)));
  // a fixed sample of output entries to compare across libraries
  const sample = Array.from({ length: 64 }, (_, i) => Math.floor(((i * 2654435761) >>> 0) % (size * size)));
  const runners: Runner[] = [];
  const disposers: (() => void)[] = [];
  // a single product has nothing for jit to compile: W4 has no tapestry-jit row
  for (const library of libraries.filter((l) => l !== 'tapestry-jit')) {
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
    } else if (isTfjs(library)) {
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
  if (wantsPytorch(libraries, pytorch)) {
    const arrays = { a: { data: a, shape: [size, size] }, b: { data: b, shape: [size, size] } };
    try {
      await addPytorch({ workload: 'matmul', reps, sample, arrays }, pytorch, runners, disposers);
    } catch (error) {
      disposers.forEach((d) => d());
      throw error;
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

/** The timed cases of workload `id` (W1–W5, W7); `pytorch` says where PyTorch is, if its rows are wanted. */
export async function workloadCases(
  id: Exclude<WorkloadId, 'W6'>,
  sizes: BenchSizes,
  libraries: readonly Library[],
  pytorch?: PytorchContext,
): Promise<WorkloadCase[]> {
  switch (id) {
    case 'W1':
      return [await modelCase('lstm', ['lstm'], 'train', sizes, libraries, pytorch)];
    case 'W2':
      return [await modelCase('gru', ['gru'], 'train', sizes, libraries, pytorch)];
    case 'W3':
      return [await modelCase('lstm', ['lstm'], 'forward', sizes, libraries, pytorch)];
    case 'W4': {
      const cases: WorkloadCase[] = [];
      for (const size of sizes.matmul) cases.push(await matmulCase(size, libraries, pytorch));
      return cases;
    }
    case 'W5':
      // the built-in runs beside the custom cell, so their ratio is measured in the same blocks
      return [await modelCase('lstm', ['custom-lstm', 'lstm'], 'train', sizes, libraries, pytorch)];
    case 'W7':
      return [await charRnnCase(sizes, libraries, pytorch)];
  }
}
