/**
 * The arithmetic primitives: negation and the four operations. Each VJP returns the cotangent at the
 * broadcast shape; the engine sums it back to each input's shape.
 */
import type { Tensor, TensorLike } from '../tensor.js';
import { applyBinary, applyUnary, binaryPrimitive, unaryPrimitive } from './elementwise.js';

// d(-x) = -dx
const negPrimitive = unaryPrimitive('neg', (ct) => [neg(ct)]);
// d(a + b) = da + db
const addPrimitive = binaryPrimitive('add', (ct) => [ct, ct]);
// d(a - b) = da - db
const subPrimitive = binaryPrimitive('sub', (ct) => [ct, neg(ct)]);
// d(a * b) = b da + a db
const mulPrimitive = binaryPrimitive('mul', (ct, [a, b]) => [mul(ct, b!), mul(ct, a!)]);
// d(a / b) = da / b - (a / b²) db = da / b - (out / b) db
const divPrimitive = binaryPrimitive('div', (ct, [, b], out) => [div(ct, b!), neg(mul(ct, div(out, b!)))]);

/** `-x` elementwise (int32 allowed). */
export function neg(x: Tensor): Tensor {
  return applyUnary(negPrimitive, x, undefined, true);
}

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

/** The primitives this module defines, for the primitive table. @internal */
export const arithmeticPrimitives = { neg: negPrimitive, add: addPrimitive, sub: subPrimitive, mul: mulPrimitive, div: divPrimitive };
