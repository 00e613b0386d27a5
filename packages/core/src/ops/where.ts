import { definePrimitive } from '../binding/primitive.js';
import { bind } from '../binding/tape.js';
import { DTypeError } from '../errors.js';
import { broadcastShapes, formatShape } from '../shape.js';
import { zerosLike, type Tensor, type TensorLike } from '../tensor.js';
import { expectTensor } from '../checks.js';
import { binaryOperands } from './checks.js';

// d where(c, a, b) = where(c, ct, 0) for a and where(c, 0, ct) for b; the condition gets none
const wherePrimitive = definePrimitive({
  name: 'where',
  kind: 'elementwise',
  shape: ([c, a, b]) => ({ shape: broadcastShapes('where', broadcastShapes('where', c!.shape, a!.shape), b!.shape), dtype: a!.dtype }),
  vjp: (ct, [c]) => {
    const zero = zerosLike(ct);
    return [null, where(c!, ct, zero), where(c!, zero, ct)];
  },
});

/**
 * Picks `a` where `cond` is nonzero and `b` elsewhere, broadcasting all three. `cond` is an int32 mask, as
 * the comparisons return.
 * @example
 * ```ts
 * where(greater(x, 0), x, mul(x, 0.1)); // a leaky ReLU by hand
 * ```
 */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  expectTensor('where', 'cond', cond);
  if (cond.dtype !== 'int32') {
    throw new DTypeError(`where: cond must be an int32 mask (as greater/less/equal return), got ${cond.dtype} ${formatShape(cond.shape)}`);
  }
  const [ta, tb] = binaryOperands('where', a, b);
  return bind(wherePrimitive, [cond, ta, tb], undefined);
}

/** The primitives this module defines, for the primitive table. @internal */
export const wherePrimitives = { where: wherePrimitive };
