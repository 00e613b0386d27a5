import type { Tensor, TensorLike } from '../tensor.js';
import { add, mul } from './arithmetic.js';
import { cast } from './cast.js';
import { equal, greater, less } from './compare.js';
import { applyBinary, binaryPrimitive } from './elementwise.js';

// Where a wins the cotangent goes to a, where b wins to b; on ties it is split evenly, as in PyTorch.
function selectVjp(wins: (a: Tensor, b: Tensor) => Tensor) {
  return (ct: Tensor, [a, b]: readonly Tensor[]): Tensor[] => {
    const aWins = cast(wins(a!, b!), ct.dtype);
    const tie = mul(cast(equal(a!, b!), ct.dtype), 0.5);
    const aShare = add(aWins, tie);
    const bShare = add(cast(wins(b!, a!), ct.dtype), tie);
    return [mul(ct, aShare), mul(ct, bShare)];
  };
}

const maximumPrimitive = binaryPrimitive('maximum', selectVjp(greater));
const minimumPrimitive = binaryPrimitive('minimum', selectVjp(less));

/** The larger of `a` and `b` elementwise (NaN propagates), with NumPy broadcasting. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return applyBinary(maximumPrimitive, a, b, true);
}

/** The smaller of `a` and `b` elementwise (NaN propagates), with NumPy broadcasting. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return applyBinary(minimumPrimitive, a, b, true);
}

/** The primitives this module defines, for the primitive table. @internal */
export const minMaxPrimitives = { maximum: maximumPrimitive, minimum: minimumPrimitive };
