/**
 * The four arithmetic primitives. Each VJP returns the cotangent at the broadcast shape; the engine sums it
 * back to each input's shape.
 */
import type { Tensor, TensorLike } from '../tensor.js';
import { applyBinary, binaryPrimitive } from './elementwise.js';
import { neg } from './unary.js';

// d(a + b) = da + db
const addPrimitive = binaryPrimitive('add', 'add', (ct) => [ct, ct]);
// d(a - b) = da - db
const subPrimitive = binaryPrimitive('sub', 'sub', (ct) => [ct, neg(ct)]);
// d(a * b) = b da + a db
const mulPrimitive = binaryPrimitive('mul', 'mul', (ct, [a, b]) => [mul(ct, b!), mul(ct, a!)]);
// d(a / b) = da / b - (a / b²) db = da / b - (out / b) db
const divPrimitive = binaryPrimitive('div', 'div', (ct, [, b], out) => [div(ct, b!), neg(mul(ct, div(out, b!)))]);

/**
 * `a + b` elementwise with NumPy broadcasting.
 * @example
 * ```ts
 * add(tensor([[1], [2]]), tensor([10, 20, 30])); // [[11, 21, 31], [12, 22, 32]]
 * add(x, 1);                                     // a number stands for a scalar of x's dtype
 * ```
 */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return applyBinary(addPrimitive, a, b, true);
}

/** `a - b` elementwise with NumPy broadcasting. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return applyBinary(subPrimitive, a, b, true);
}

/** `a * b` elementwise with NumPy broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return applyBinary(mulPrimitive, a, b, true);
}

/** `a / b` elementwise with NumPy broadcasting (float dtypes only: int32 division is not defined here). */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return applyBinary(divPrimitive, a, b, false);
}
