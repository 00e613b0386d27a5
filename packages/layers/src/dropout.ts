import {
  ArgumentError,
  expectFloatTensor,
  expectKnownOptions,
  expectOptionalBoolean,
  expectProbability,
  less,
  mul,
  uniform,
  where,
  type KeyLike,
  type Tensor,
} from '@tapestry/core';
import { expectOptionalKey } from './checks.js';

/** Options of {@link dropout}. */
export interface DropoutOptions {
  /**
   * The random key that draws the mask; required whenever dropout is active. A `Key`, or a key tensor
   * (`keyData(key)`) passed as an argument of a jitted function, so that each call draws a new mask.
   */
  readonly key?: KeyLike;
  /** Apply dropout (default true); when false `x` is returned unchanged, as in evaluation. */
  readonly training?: boolean;
}

/**
 * Inverted dropout, as PyTorch's `F.dropout`: each element is zeroed with probability `p` and the survivors
 * are scaled by 1 / (1 - p), so the expectation is unchanged. The mask comes from the explicit `key` (an
 * element survives where a float32 uniform draw is below 1 - p); the same key gives the same mask, whether
 * it is a `Key` or its key tensor, eager or under `jit`. With `training: false` or `p = 0` it returns `x` itself.
 * @example
 * ```ts
 * const y = dropout(x, 0.2, { key: foldIn(key, step) });
 * const compiled = jit((x: Tensor, k: Tensor) => dropout(x, 0.2, { key: k }));
 * compiled(x, keyData(foldIn(key, step)));   // same mask as the line above
 * ```
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions = {}): Tensor {
  expectFloatTensor('dropout', 'x', x);
  expectProbability('dropout', 'p', p);
  if (options === null || typeof options !== 'object') throw new ArgumentError(`dropout: options must be an object { key, training }, got ${String(options)}`);
  expectKnownOptions('dropout', options, ['key', 'training']);
  expectOptionalBoolean('dropout', 'options.training', options.training);
  expectOptionalKey('dropout', 'options.key', options.key);
  if (options.training === false || p === 0) return x;
  if (options.key === undefined) {
    throw new ArgumentError(`dropout: a key is required to draw the mask (p = ${p}); pass { key } or { training: false }`);
  }
  if (p === 1) return mul(x, 0);
  // 24-bit uniforms: one generator word per element, half what a float64 draw costs
  const keep = less(uniform(options.key, [...x.shape], { dtype: 'float32' }), 1 - p);
  return where(keep, mul(x, 1 / (1 - p)), 0);
}
