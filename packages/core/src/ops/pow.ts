import type { Tensor, TensorLike } from '../tensor.js';
import { mul, sub } from './arithmetic.js';
import { equal, greaterEqual } from './compare.js';
import { applyBinary, binaryPrimitive } from './elementwise.js';
import { log } from './unary.js';
import { where } from './where.js';

// d(a^b) = b a^(b-1) da + a^b log(a) db, with PyTorch's conventions at the edges: the da term is 0 where
// b = 0 (not 0 · a^-1, which is NaN at a = 0), the db term is 0 where a = 0 and b ≥ 0, and log(a) is NaN for a < 0
const powPrimitive = binaryPrimitive('pow', (ct, [a, b], out) => {
  const da = where(equal(b!, 0), 0, mul(ct, mul(b!, pow(a!, sub(b!, 1)))));
  const zeroBase = mul(equal(a!, 0), greaterEqual(b!, 0));
  const db = where(zeroBase, 0, mul(ct, mul(out, log(a!))));
  return [da, db];
});

/**
 * `a ** b` elementwise with NumPy broadcasting.
 * @example
 * ```ts
 * pow(x, 2);   // x squared
 * pow(2, x);   // 2^x
 * ```
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  return applyBinary(powPrimitive, a, b, false);
}

/** The primitives this module defines, for the primitive table. @internal */
export const powPrimitives = { pow: powPrimitive };
