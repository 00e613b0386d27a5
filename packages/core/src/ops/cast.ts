import { definePrimitive } from '../binding/primitive.js';
import { bind } from '../binding/tape.js';
import { DTYPES, isFloat, type DType } from '../dtype.js';
import { DTypeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { expectTensor } from '../checks.js';

// d cast(x) = cast(ct) back to x's dtype (between floats; int32 gets no gradient)
const castPrimitive = definePrimitive({
  name: 'cast',
  kind: 'elementwise',
  shape: ([x], { dtype }) => ({ shape: x!.shape, dtype }),
  vjp: (ct, [x]) => [isFloat(x!.dtype) ? cast(ct, x!.dtype) : null],
});

/**
 * Converts to another dtype: the one explicit way to change dtypes (ops never cast silently). Float to
 * int32 truncates toward zero. Differentiable between float32 and float64.
 * @example
 * ```ts
 * cast(greater(x, 0), 'float32'); // a 0/1 float mask
 * ```
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  expectTensor('cast', 'x', x);
  if (!DTYPES.includes(dtype)) throw new DTypeError(`cast: unknown dtype ${JSON.stringify(dtype)} (expected ${DTYPES.join(', ')})`);
  if (x.dtype === dtype) return x;
  return bind(castPrimitive, [x], { dtype });
}

/** The primitives this module defines, for the primitive table. @internal */
export const castPrimitives = { cast: castPrimitive };
