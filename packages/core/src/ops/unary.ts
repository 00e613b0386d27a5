/** Elementwise math primitives, each VJP a line beside its forward. */
import type { Tensor } from '../tensor.js';
import { add, div, mul, neg } from './arithmetic.js';
import { applyUnary, unaryPrimitive } from './elementwise.js';

// d exp(x) = exp(x) dx: reuse the output
const expPrimitive = unaryPrimitive('exp', (ct, _x, out) => [mul(ct, out)]);
// d expm1(x) = eˣ dx = (y + 1) dx: reuse the output
const expm1Primitive = unaryPrimitive('expm1', (ct, _x, y) => [mul(ct, add(y, 1))]);
// d log(x) = dx / x
const logPrimitive = unaryPrimitive('log', (ct, [x]) => [div(ct, x!)]);
// d sqrt(x) = dx / (2 sqrt(x)): reuse the output
const sqrtPrimitive = unaryPrimitive('sqrt', (ct, _x, out) => [div(ct, mul(out, 2))]);
// d |x| = sign(x) dx   (0 at x = 0, as in PyTorch)
const absPrimitive = unaryPrimitive('abs', (ct, [x]) => [mul(ct, sign(x!))]);
// d x² = 2x dx
const squarePrimitive = unaryPrimitive('square', (ct, [x]) => [mul(ct, mul(x!, 2))]);
// d log1p(x) = dx / (1 + x)
const log1pPrimitive = unaryPrimitive('log1p', (ct, [x]) => [div(ct, add(x!, 1))]);
// sign is piecewise constant: its derivative is zero wherever it exists
const signPrimitive = unaryPrimitive('sign', null);
// d cos(x) = −sin(x) dx
const cosPrimitive = unaryPrimitive('cos', (ct, [x]) => [neg(mul(ct, sin(x!)))]);
// d sin(x) = cos(x) dx
const sinPrimitive = unaryPrimitive('sin', (ct, [x]) => [mul(ct, cos(x!))]);
// floor is piecewise constant, as sign: zero gradient
const floorPrimitive = unaryPrimitive('floor', null);

/** `e^x` elementwise. */
export function exp(x: Tensor): Tensor {
  return applyUnary(expPrimitive, x, undefined);
}
/**
 * `eˣ − 1` elementwise, accurate for small x (where `exp(x) − 1` loses its digits), as PyTorch's `torch.expm1`.
 * @example
 * ```ts
 * expm1(tensor([1e-10], { dtype: 'float64' })).item(); // 1.00000000005e-10
 * ```
 */
export function expm1(x: Tensor): Tensor {
  return applyUnary(expm1Primitive, x, undefined);
}
/** The natural logarithm elementwise (`-Infinity` at 0, NaN below). */
export function log(x: Tensor): Tensor {
  return applyUnary(logPrimitive, x, undefined);
}
/** `log(1 + x)` elementwise, accurate for small x. */
export function log1p(x: Tensor): Tensor {
  return applyUnary(log1pPrimitive, x, undefined);
}
/** The square root elementwise. */
export function sqrt(x: Tensor): Tensor {
  return applyUnary(sqrtPrimitive, x, undefined);
}
/** `|x|` elementwise (int32 allowed). */
export function abs(x: Tensor): Tensor {
  return applyUnary(absPrimitive, x, undefined, true);
}
/** `x²` elementwise (int32 allowed). */
export function square(x: Tensor): Tensor {
  return applyUnary(squarePrimitive, x, undefined, true);
}
/** -1, 0 or 1 by the sign of x (not differentiable). */
export function sign(x: Tensor): Tensor {
  return applyUnary(signPrimitive, x, undefined, true);
}
/**
 * The cosine elementwise (x in radians).
 * @example
 * ```ts
 * cos(tensor([0, Math.PI], { dtype: 'float64' })).toArray(); // [1, -1]
 * ```
 */
export function cos(x: Tensor): Tensor {
  return applyUnary(cosPrimitive, x, undefined);
}
/**
 * The sine elementwise (x in radians).
 * @example
 * ```ts
 * sin(tensor([0, Math.PI / 2], { dtype: 'float64' })).toArray(); // [0, 1]
 * ```
 */
export function sin(x: Tensor): Tensor {
  return applyUnary(sinPrimitive, x, undefined);
}
/**
 * The largest integer not above x, elementwise (int32 allowed, where it is the identity). Piecewise
 * constant, so its gradient is zero, as PyTorch's `torch.floor`.
 * @example
 * ```ts
 * floor(tensor([1.5, -1.5])).toArray(); // [1, -2]
 * ```
 */
export function floor(x: Tensor): Tensor {
  return applyUnary(floorPrimitive, x, undefined, true);
}

/** The primitives this module defines, for the primitive table. @internal */
export const unaryPrimitives = {
  exp: expPrimitive,
  expm1: expm1Primitive,
  log: logPrimitive,
  sqrt: sqrtPrimitive,
  abs: absPrimitive,
  square: squarePrimitive,
  log1p: log1pPrimitive,
  sign: signPrimitive,
  cos: cosPrimitive,
  sin: sinPrimitive,
  floor: floorPrimitive,
};
