/**
 * Model FLOPs: the multiply-adds of the matrix products only (2 FLOPs each), the convention of
 * utilisation estimates. Elementwise gate arithmetic, the softmax and the optimiser are not counted, so the
 * achieved GFLOP/s of a recurrent step understates the work done and is comparable across libraries only.
 * A training step counts 3× the forward products (the backward pass takes two products per forward one).
 */
import { GATES, type CellKind } from './data.js';
import type { BenchSizes } from './sizes.js';

/** FLOPs of the forward pass of the benchmark model at `steps` time steps. */
export function forwardFlops(kind: CellKind, sizes: BenchSizes, steps = sizes.steps): number {
  const { batch: n, vocab: v, hidden: h } = sizes;
  const g = GATES[kind] * h;
  return n * steps * (2 * v * g + 2 * h * g + 2 * h * v);
}

/** FLOPs of one training step (forward and backward) at `steps` time steps. */
export function trainFlops(kind: CellKind, sizes: BenchSizes, steps = sizes.steps): number {
  return 3 * forwardFlops(kind, sizes, steps);
}

/** FLOPs of an [m, k] · [k, n] product. */
export function matmulFlops(m: number, k: number, n: number): number {
  return 2 * m * k * n;
}
