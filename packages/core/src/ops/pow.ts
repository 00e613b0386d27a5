import type { Tensor, TensorLike } from '../tensor.js';
import { mul, sub } from './arithmetic.js';
import { greater } from './compare.js';
import { applyBinary, binaryPrimitive } from './elementwise.js';
import { log } from './unary.js';
import { where } from './where.js';

// d(a^b) = b a^(b-1) da + a^b log(a) db   (the db term is 0 where a ≤ 0, where log is undefined, as in PyTorch)
const powPrimitive = binaryPrimitive('pow', 'pow', (ct, [a, b], out) => {
  const da = mul(ct, mul(b!, pow(a!, sub(b!, 1))));
  const positive = greater(a!, 0);
  const safeLog = log(where(positive, a!, 1));
  const db = mul(ct, mul(out, where(positive, safeLog, 0)));
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
