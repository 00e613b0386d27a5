/** Declaring and applying elementwise primitives: the shape rules and argument checks they all share. */
import { bind } from '../binding/tape.js';
import { definePrimitive, type AttrsOf, type BinaryName, type ElementwiseName, type Primitive, type VjpRule } from '../binding/primitive.js';
import { DTypeError } from '../errors.js';
import { broadcastShapes, formatShape } from '../shape.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { expectFloat, expectTensor } from '../checks.js';
import { binaryOperands } from './checks.js';

/** The elementwise primitives of one operand. */
export type UnaryName = Exclude<ElementwiseName, BinaryName | 'where' | 'cast'>;

/** Declares an elementwise primitive of one operand: the output has its shape and dtype (int32 for `isFinite`). */
export function unaryPrimitive<P extends UnaryName>(name: P, vjp: VjpRule<P> | null): Primitive<P> {
  return definePrimitive<P>({
    name,
    kind: 'elementwise',
    shape: ([x]) => ({ shape: x!.shape, dtype: name === 'isFinite' ? 'int32' : x!.dtype }),
    vjp,
  });
}

/** Checks and binds a unary op: float input unless `allowInt`. */
export function applyUnary<P extends UnaryName>(primitive: Primitive<P>, x: Tensor, attrs: AttrsOf<P>, allowInt = false): Tensor {
  expectTensor(primitive.name, 'x', x);
  if (!allowInt) expectFloat(primitive.name, 'x', x);
  return bind(primitive, [x], attrs);
}

const COMPARISONS: ReadonlySet<BinaryName> = new Set(['greater', 'less', 'equal', 'greaterEqual', 'lessEqual', 'notEqual']);

/** Declares an elementwise primitive of two operands with NumPy broadcasting (comparisons give int32 masks). */
export function binaryPrimitive<P extends BinaryName>(name: P, vjp: VjpRule<P> | null): Primitive<P> {
  const comparison = COMPARISONS.has(name);
  return definePrimitive<P>({
    name,
    kind: 'elementwise',
    shape: ([a, b]) => ({ shape: broadcastShapes(name, a!.shape, b!.shape), dtype: comparison ? 'int32' : a!.dtype }),
    vjp,
  });
}

/** Checks and binds a binary op; the broadcast check happens in the shape rule, before any work. */
export function applyBinary<P extends BinaryName>(primitive: Primitive<P>, a: TensorLike, b: TensorLike, allowInt: boolean): Tensor {
  const [ta, tb] = binaryOperands(primitive.name, a, b);
  if (!allowInt && ta.dtype === 'int32') {
    throw new DTypeError(
      `${primitive.name}: expects float32 or float64 operands, got int32 ${formatShape(ta.shape)} and ${formatShape(tb.shape)} (use cast())`,
    );
  }
  return bind(primitive, [ta, tb], undefined as AttrsOf<P>);
}
