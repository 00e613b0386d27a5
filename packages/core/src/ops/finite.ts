import { bind } from '../binding/tape.js';
import type { Tensor } from '../tensor.js';
import { expectTensor } from '../checks.js';
import { unaryPrimitive } from './elementwise.js';

const isFinitePrimitive = unaryPrimitive('isFinite', null);

/** An int32 mask: 1 where x is finite (not ±Infinity or NaN), 0 elsewhere. Not differentiable. */
export function isFinite(x: Tensor): Tensor {
  expectTensor('isFinite', 'x', x);
  return bind(isFinitePrimitive, [x], undefined);
}

/** The primitives this module defines, for the primitive table. @internal */
export const finitePrimitives = { isFinite: isFinitePrimitive };
