import { ArgumentError, bernoulli, div, mul, Tensor } from '@tapestry/core';
import type { Key } from '@tapestry/core';
import { expectFloatTensor, expectProbability } from './checks.js';

/** Options of {@link dropout}. */
export interface DropoutOptions {
  /** The random key that draws the mask; required whenever dropout is active. */
  readonly key?: Key;
  /** Apply dropout (default true); when false `x` is returned unchanged, as in evaluation. */
  readonly training?: boolean;
}

/**
 * Inverted dropout, as PyTorch's `F.dropout`: each element is zeroed with probability `p` and the survivors
 * are scaled by 1 / (1 - p), so the expectation is unchanged. The mask comes from the explicit `key`; the
 * same key gives the same mask. With `training: false` or `p = 0` it returns `x` itself.
 * @example
 * ```ts
 * const y = dropout(x, 0.2, { key: foldIn(key, step) });
 * ```
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions = {}): Tensor {
  expectFloatTensor('dropout', 'x', x);
  expectProbability('dropout', 'p', p);
  if (options.training === false || p === 0) return x;
  if (options.key === undefined) {
    throw new ArgumentError(`dropout: a key is required to draw the mask (p = ${p}); pass { key } or { training: false }`);
  }
  if (p === 1) return mul(x, 0);
  const keep = bernoulli(options.key, 1 - p, [...x.shape], x.dtype);
  return div(mul(x, keep), 1 - p);
}
