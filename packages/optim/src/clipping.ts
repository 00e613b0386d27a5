/**
 * Gradient clipping with the arithmetic of `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`,
 * as functions on gradient trees and as transformations for {@link chain}. Everything stays in tensor
 * ops (no read-back of the norm), so a clipped training step can be traced as a whole.
 */
import {
  abs,
  add,
  ArgumentError,
  div,
  DTypeError,
  expectNonNegative,
  max,
  maximum,
  minimum,
  mul,
  pow,
  scalar,
  sqrt,
  stack,
  sum,
  type Tensor,
} from '@tapestry/core';
import { emptyState, type EmptyState, type GradientTransformation } from './base.js';
import { scalarOn } from './internal/scalars.js';
import { mapTensors, tensorLeaves } from './internal/trees.js';

/** Options of {@link globalNorm}, {@link clipGradNorm} and {@link clipByGlobalNorm}. */
export interface NormOptions {
  /** The p of the p-norm: any p > 0, or `Infinity` for the max-norm (default 2). */
  normType?: number;
}

function checkNormType(fn: string, normType: number): number {
  if (typeof normType !== 'number' || Number.isNaN(normType) || normType <= 0) {
    throw new ArgumentError(`${fn}: normType must be a number > 0 or Infinity, got ${String(normType)}`);
  }
  return normType;
}

/** The p-norm of one tensor, as torch.norm computes it. */
function norm(x: Tensor, p: number): Tensor {
  if (x.size === 0) return scalarOn(x.backend, 0, x.dtype);
  if (p === Infinity) return max(abs(x));
  if (p === 2) return sqrt(sum(mul(x, x)));
  if (p === 1) return sum(abs(x));
  return pow(sum(pow(abs(x), p)), 1 / p);
}

/**
 * The norm of all leaves of `tree` taken together, as if concatenated into one vector, computed as
 * PyTorch's `clip_grad_norm_` does: the norm of the stacked per-leaf norms. Returns a 0-d tensor of the
 * leaves' dtype (a float32 zero for a tree without leaves).
 *
 * @example
 * ```ts
 * globalNorm({ a: tensor([3]), b: tensor([4]) }).item(); // 5
 * ```
 */
export function globalNorm(tree: unknown, options: NormOptions = {}): Tensor {
  return totalNorm('globalNorm', 'tree', tree, checkNormType('globalNorm', options.normType ?? 2));
}

function totalNorm(fn: string, arg: string, tree: unknown, p: number): Tensor {
  const leaves = tensorLeaves(fn, arg, tree);
  if (leaves.length === 0) return scalar(0, 'float32');
  const [firstPath, first] = leaves[0]!;
  for (const [path, leaf] of leaves) {
    if (leaf.dtype !== first.dtype) {
      throw new DTypeError(`${fn}: all leaves must share one dtype, but ${firstPath} is ${first.dtype} and ${path} is ${leaf.dtype}`);
    }
  }
  return norm(stack(leaves.map(([, leaf]) => norm(leaf, p))), p);
}

/** What {@link clipGradNorm} returns. */
export interface ClipGradNormResult<T> {
  /** The clipped gradients (a new frozen tree; the input is untouched). */
  readonly grads: T;
  /** The global norm of the gradients before clipping, a 0-d tensor. */
  readonly totalNorm: Tensor;
}

/**
 * Scales a gradient tree so its global norm is at most `maxNorm`, with exactly the arithmetic of
 * `torch.nn.utils.clip_grad_norm_`: `coef = maxNorm / (total + 1e-6)`, every leaf multiplied by
 * `min(coef, 1)` (so small gradients pass through unchanged), and the norm before clipping returned.
 * A non-finite norm is not an error here (as in PyTorch's default); use {@link checkFinite} to stop on it.
 *
 * @example
 * ```ts
 * const { grads: clipped, totalNorm } = clipGradNorm(grads, 1.0);
 * ```
 */
export function clipGradNorm<T>(grads: T, maxNorm: number, options: NormOptions = {}): ClipGradNormResult<T> {
  const fn = 'clipGradNorm';
  const limit = expectNonNegative(fn, 'maxNorm', maxNorm);
  const total = totalNorm(fn, 'grads', grads, checkNormType(fn, options.normType ?? 2));
  // PyTorch evaluates `max_norm / (total_norm + 1e-6)` as Tensor.__rtruediv__, i.e. reciprocal times
  // max_norm; doing the same keeps the coefficient bit-identical.
  const coef = mul(div(1, add(total, 1e-6)), limit);
  const clamped = minimum(coef, 1);
  return { grads: mapTensors(fn, (g) => mul(g, clamped), ['grads', grads]), totalNorm: total };
}

/**
 * Clamps every gradient element into `[-clipValue, clipValue]`, as `torch.nn.utils.clip_grad_value_`.
 * Returns a new frozen tree.
 *
 * @example
 * ```ts
 * clipGradValue({ w: tensor([-3, 0.5, 2]) }, 1).w.toArray(); // [-1, 0.5, 1]
 * ```
 */
export function clipGradValue<T>(grads: T, clipValue: number): T {
  const fn = 'clipGradValue';
  const v = expectNonNegative(fn, 'clipValue', clipValue);
  return mapTensors(fn, (g) => minimum(maximum(g, -v), v), ['grads', grads]);
}

/**
 * The transformation form of {@link clipGradNorm}: rescales the updates so their global norm is at most
 * `maxNorm` (PyTorch's arithmetic, not optax's). Keeps no state. Put it first in a chain to clip gradients.
 *
 * @example
 * ```ts
 * const opt = chain(clipByGlobalNorm(1), adam({ lr: 1e-3 }));
 * ```
 */
export function clipByGlobalNorm(maxNorm: number, options: NormOptions = {}): GradientTransformation<EmptyState> {
  const fn = 'clipByGlobalNorm';
  const limit = expectNonNegative(fn, 'maxNorm', maxNorm);
  const normType = checkNormType(fn, options.normType ?? 2);
  return {
    init: () => emptyState(),
    update: (updates, state) => ({ updates: clipGradNorm(updates, limit, { normType }).grads, state }),
  };
}

/**
 * The transformation form of {@link clipGradValue}: clamps every update element into `[-clipValue, clipValue]`.
 * Keeps no state.
 *
 * @example
 * ```ts
 * const opt = chain(clipByValue(5), sgd({ lr: 0.1 }));
 * ```
 */
export function clipByValue(clipValue: number): GradientTransformation<EmptyState> {
  const fn = 'clipByValue';
  const v = expectNonNegative(fn, 'clipValue', clipValue);
  return {
    init: () => emptyState(),
    update: (updates, state) => ({ updates: clipGradValue(updates, v), state }),
  };
}
