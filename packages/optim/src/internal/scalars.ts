/**
 * Where a scalar computed in float64 (a bias correction, a scheduled learning rate) meets the updates:
 * cast to the updates' dtype. A number passed to `mul(x, n)` is rounded to x's dtype; casting the float64
 * value rounds it the same way, so a hyper-parameter gives the same bits whether it is a number or a
 * float64 tensor computed from the update count.
 */
import { cast, type DType, type Tensor, type TensorLike } from '@tapestry/core';

/** A hyper-parameter known up front (a number) or computed from the update count (a float64 0-d tensor). */
export type Scalar = number | Tensor;

/**
 * `value` as an operand for tensors of a given dtype: a number as it is, a tensor cast once per dtype
 * (a tree mixing float32 and float64 leaves casts twice, not once per leaf).
 */
export function inDtype(value: Scalar): (dtype: DType) => TensorLike {
  if (typeof value === 'number') return () => value;
  const casts = new Map<DType, Tensor>();
  return (dtype) => {
    let c = casts.get(dtype);
    if (c === undefined) casts.set(dtype, (c = cast(value, dtype)));
    return c;
  };
}
