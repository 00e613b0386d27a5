/**
 * One set of initial weights and one batch, shared by every library, so that tapestry and TensorFlow.js do
 * the same work from the same numbers. The weights are drawn with PyTorch's default initialisation
 * (U(-1/√fan, 1/√fan)) from tapestry's counter-based generator, then handed to each library as plain
 * float32 arrays in PyTorch's layout.
 */
import { randomKey, splitKey, uniform, type Key } from '@tapestry/core';
import type { BenchSizes } from './sizes.js';

/** The recurrent cells the benchmark trains. */
export type CellKind = 'lstm' | 'gru';

/** Gate blocks per cell: LSTM i, f, g, o; GRU r, z, n (PyTorch's row order). */
export const GATES: Record<CellKind, number> = { lstm: 4, gru: 3 };

/** Initial weights in PyTorch's layout, row-major float32. */
export interface InitialWeights {
  readonly kind: CellKind;
  /** [G·H, V] */
  readonly weightIh: Float32Array;
  /** [G·H, H] */
  readonly weightHh: Float32Array;
  /** [G·H] */
  readonly biasIh: Float32Array;
  /** [G·H] */
  readonly biasHh: Float32Array;
  /** [V, H] */
  readonly headWeight: Float32Array;
  /** [V] */
  readonly headBias: Float32Array;
}

/** One batch of a character model: one-hot inputs and next-character targets. */
export interface Batch {
  /** One-hot inputs [N, T, V]. */
  readonly x: Float32Array;
  /** Class ids [N, T]: the id of the next input. */
  readonly targets: Int32Array;
}

function draw(key: Key, length: number, bound: number): Float32Array {
  return uniform(key, [length], { low: -bound, high: bound }).dataSync() as Float32Array;
}

/** PyTorch-default initial weights of a one-layer `kind` with a linear head, from `seed`. */
export function initialWeights(kind: CellKind, sizes: BenchSizes, seed = 0): InitialWeights {
  const { vocab: v, hidden: h } = sizes;
  const rows = GATES[kind] * h;
  const [k1, k2, k3, k4, k5, k6] = splitKey(randomKey(seed), 6) as [Key, Key, Key, Key, Key, Key];
  const cellBound = 1 / Math.sqrt(h);
  const headBound = 1 / Math.sqrt(h);
  return {
    kind,
    weightIh: draw(k1, rows * v, cellBound),
    weightHh: draw(k2, rows * h, cellBound),
    biasIh: draw(k3, rows, cellBound),
    biasHh: draw(k4, rows, cellBound),
    headWeight: draw(k5, v * h, headBound),
    headBias: draw(k6, v, headBound),
  };
}

/** A random character batch at `steps` time steps (core's keyed uniform stream from `seed`, so both libraries see the same ids). */
export function makeBatch(sizes: BenchSizes, steps = sizes.steps, seed = 1): Batch {
  const { batch: n, vocab: v } = sizes;
  const stream = uniform(randomKey(seed), [n * (steps + 1)], { dtype: 'float64' }).dataSync();
  let drawn = 0;
  const next = (): number => stream[drawn++]!;
  const x = new Float32Array(n * steps * v);
  const targets = new Int32Array(n * steps);
  for (let b = 0; b < n; b++) {
    let id = Math.floor(next() * v);
    for (let t = 0; t < steps; t++) {
      x[(b * steps + t) * v + id] = 1;
      id = Math.floor(next() * v);
      targets[b * steps + t] = id;
    }
  }
  return { x, targets };
}
