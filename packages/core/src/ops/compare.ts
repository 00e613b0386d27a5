/** Comparisons: not differentiable; they return int32 masks of 0 and 1, usable as `where` conditions. */
import type { Tensor, TensorLike } from '../tensor.js';
import { applyBinary, binaryPrimitive } from './elementwise.js';

const greaterPrimitive = binaryPrimitive('greater', null);
const lessPrimitive = binaryPrimitive('less', null);
const equalPrimitive = binaryPrimitive('equal', null);
const greaterEqualPrimitive = binaryPrimitive('greaterEqual', null);
const lessEqualPrimitive = binaryPrimitive('lessEqual', null);
const notEqualPrimitive = binaryPrimitive('notEqual', null);

/** `a > b` elementwise as an int32 mask. @example `where(greater(x, 0), x, 0)` */
export function greater(a: TensorLike, b: TensorLike): Tensor {
  return applyBinary(greaterPrimitive, a, b, true);
}
/** `a < b` elementwise as an int32 mask. */
export function less(a: TensorLike, b: TensorLike): Tensor {
  return applyBinary(lessPrimitive, a, b, true);
}
/** `a == b` elementwise as an int32 mask. */
export function equal(a: TensorLike, b: TensorLike): Tensor {
  return applyBinary(equalPrimitive, a, b, true);
}
/** `a >= b` elementwise as an int32 mask. */
export function greaterEqual(a: TensorLike, b: TensorLike): Tensor {
  return applyBinary(greaterEqualPrimitive, a, b, true);
}
/** `a <= b` elementwise as an int32 mask. */
export function lessEqual(a: TensorLike, b: TensorLike): Tensor {
  return applyBinary(lessEqualPrimitive, a, b, true);
}
/** `a != b` elementwise as an int32 mask. */
export function notEqual(a: TensorLike, b: TensorLike): Tensor {
  return applyBinary(notEqualPrimitive, a, b, true);
}

/** The primitives this module defines, for the primitive table. @internal */
export const comparePrimitives = {
  greater: greaterPrimitive,
  less: lessPrimitive,
  equal: equalPrimitive,
  greaterEqual: greaterEqualPrimitive,
  lessEqual: lessEqualPrimitive,
  notEqual: notEqualPrimitive,
};
