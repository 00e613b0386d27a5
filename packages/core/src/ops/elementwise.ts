import { definePrimitive, type Primitive } from '../autodiff/primitive.js';
import { bind } from '../autodiff/tape.js';
import { DTypeError } from '../errors.js';
import { binaryKernel, unaryKernel, type BinaryCode, type UnaryCode } from '../kernels/elementwise.js';
import { broadcastShapes, formatShape } from '../shape.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { binaryOperands, expectFloat, expectTensor } from './checks.js';

type Vjp<A> = NonNullable<Primitive<A>['vjp']>;

/** The parameters a unary kernel may take (leaky slope, ELU alpha, softplus beta/threshold). */
export interface UnaryAttrs {
  readonly p0?: number;
  readonly p1?: number;
}

/** Declares an elementwise unary primitive over a kernel code. */
export function unaryPrimitive(name: string, code: UnaryCode, vjp: Vjp<UnaryAttrs> | null): Primitive<UnaryAttrs> {
  return definePrimitive<UnaryAttrs>({
    name,
    forward: ([x], attrs) => new Tensor(unaryKernel(code, x!.data, x!.dtype, attrs.p0, attrs.p1), x!.shape, x!.dtype),
    shape: ([x]) => ({ shape: x!.shape, dtype: x!.dtype }),
    vjp,
  });
}

/** Checks and binds a unary op: float input unless `allowInt`. */
export function applyUnary(primitive: Primitive<UnaryAttrs>, x: Tensor, attrs: UnaryAttrs = {}, allowInt = false): Tensor {
  expectTensor(primitive.name, 'x', x);
  if (!allowInt) expectFloat(primitive.name, 'x', x);
  return bind(primitive, [x], attrs);
}

/** Declares an elementwise binary primitive with NumPy broadcasting. */
export function binaryPrimitive(name: string, code: BinaryCode, vjp: Vjp<undefined> | null): Primitive<undefined> {
  const comparison = vjp === null;
  return definePrimitive<undefined>({
    name,
    forward: ([a, b]) => {
      const shape = broadcastShapes(name, a!.shape, b!.shape);
      const dtype = comparison ? 'int32' : a!.dtype;
      return new Tensor(binaryKernel(code, a!.data, a!.shape, b!.data, b!.shape, shape, dtype), shape, dtype);
    },
    shape: ([a, b]) => ({ shape: broadcastShapes(name, a!.shape, b!.shape), dtype: comparison ? 'int32' : a!.dtype }),
    vjp,
  });
}

/** Checks and binds a binary op; the shape check happens here, before any work. */
export function applyBinary(primitive: Primitive<undefined>, a: TensorLike, b: TensorLike, allowInt: boolean): Tensor {
  const [ta, tb] = binaryOperands(primitive.name, a, b);
  if (!allowInt && ta.dtype === 'int32') {
    throw new DTypeError(
      `${primitive.name}: expects float32 or float64 operands, got int32 ${formatShape(ta.shape)} and ${formatShape(tb.shape)} (use cast())`,
    );
  }
  broadcastShapes(primitive.name, ta.shape, tb.shape);
  return bind(primitive, [ta, tb], undefined);
}
