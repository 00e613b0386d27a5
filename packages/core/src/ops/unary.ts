/** Elementwise math primitives, each VJP a line beside its forward. */
import type { Tensor } from '../tensor.js';
import { add, div, mul } from './arithmetic.js';
import { applyUnary, unaryPrimitive } from './elementwise.js';

// d(-x) = -dx
const negPrimitive = unaryPrimitive('neg', 'neg', (ct) => [neg(ct)]);
// d exp(x) = exp(x) dx: reuse the output
const expPrimitive = unaryPrimitive('exp', 'exp', (ct, _x, out) => [mul(ct, out)]);
// d log(x) = dx / x
const logPrimitive = unaryPrimitive('log', 'log', (ct, [x]) => [div(ct, x!)]);
// d sqrt(x) = dx / (2 sqrt(x)): reuse the output
const sqrtPrimitive = unaryPrimitive('sqrt', 'sqrt', (ct, _x, out) => [div(ct, mul(out, 2))]);
// d |x| = sign(x) dx   (0 at x = 0, as in PyTorch)
const absPrimitive = unaryPrimitive('abs', 'abs', (ct, [x]) => [mul(ct, sign(x!))]);
// d x² = 2x dx
const squarePrimitive = unaryPrimitive('square', 'square', (ct, [x]) => [mul(ct, mul(x!, 2))]);
// d log1p(x) = dx / (1 + x)
const log1pPrimitive = unaryPrimitive('log1p', 'log1p', (ct, [x]) => [div(ct, add(x!, 1))]);
// sign is piecewise constant: its derivative is zero wherever it exists
const signPrimitive = unaryPrimitive('sign', 'sign', null);
// d cos(x) = −sin(x) dx
const cosPrimitive = unaryPrimitive('cos', 'cos', (ct, [x]) => [neg(mul(ct, sin(x!)))]);
// d sin(x) = cos(x) dx
const sinPrimitive = unaryPrimitive('sin', 'sin', (ct, [x]) => [mul(ct, cos(x!))]);
// floor is piecewise constant, as sign: zero gradient
const floorPrimitive = unaryPrimitive('floor', 'floor', null);

/** `-x` elementwise (int32 allowed). */
export function neg(x: Tensor): Tensor {
  return applyUnary(negPrimitive, x, {}, true);
}
/** `e^x` elementwise. */
export function exp(x: Tensor): Tensor {
  return applyUnary(expPrimitive, x);
}
/** The natural logarithm elementwise (`-Infinity` at 0, NaN below). */
export function log(x: Tensor): Tensor {
  return applyUnary(logPrimitive, x);
}
/** `log(1 + x)` elementwise, accurate for small x. */
export function log1p(x: Tensor): Tensor {
  return applyUnary(log1pPrimitive, x);
}
/** The square root elementwise. */
export function sqrt(x: Tensor): Tensor {
  return applyUnary(sqrtPrimitive, x);
}
/** `|x|` elementwise (int32 allowed). */
export function abs(x: Tensor): Tensor {
  return applyUnary(absPrimitive, x, {}, true);
}
/** `x²` elementwise (int32 allowed). */
export function square(x: Tensor): Tensor {
  return applyUnary(squarePrimitive, x, {}, true);
}
/** -1, 0 or 1 by the sign of x (not differentiable). */
export function sign(x: Tensor): Tensor {
  return applyUnary(signPrimitive, x, {}, true);
}
/**
 * The cosine elementwise (x in radians).
 * @example
 * ```ts
 * cos(tensor([0, Math.PI], { dtype: 'float64' })).toArray(); // [1, -1]
 * ```
 */
export function cos(x: Tensor): Tensor {
  return applyUnary(cosPrimitive, x);
}
/**
 * The sine elementwise (x in radians).
 * @example
 * ```ts
 * sin(tensor([0, Math.PI / 2], { dtype: 'float64' })).toArray(); // [0, 1]
 * ```
 */
export function sin(x: Tensor): Tensor {
  return applyUnary(sinPrimitive, x);
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
  return applyUnary(floorPrimitive, x, {}, true);
}
