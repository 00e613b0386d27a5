import { type DType } from '../dtype.js';
import { expectTensor } from '../checks.js';
import { ArgumentError, DTypeError } from '../errors.js';
import { formatShape } from '../shape.js';
import { full, onBackendOf, Tensor, type TensorLike } from '../tensor.js';

/**
 * Resolves the two operands of a binary op: tensors must share a dtype (never a silent cast); a plain number
 * becomes a 0-d tensor of the other operand's dtype.
 */
export function binaryOperands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') {
    throw new ArgumentError(`${op}: at least one operand must be a Tensor, got two numbers (${a}, ${b})`);
  }
  if (typeof a === 'number') {
    const tb = expectTensor(op, 'b', b);
    return [onBackendOf(tb, literal(op, 'a', a, tb.dtype)), tb];
  }
  if (typeof b === 'number') {
    const ta = expectTensor(op, 'a', a);
    return [ta, onBackendOf(ta, literal(op, 'b', b, ta.dtype))];
  }
  const ta = expectTensor(op, 'a', a);
  const tb = expectTensor(op, 'b', b);
  sameDType(op, [ta, tb], ['a', 'b']);
  return [ta, tb];
}

function literal(op: string, argument: string, value: number, dtype: DType): Tensor {
  if (typeof value !== 'number') throw new ArgumentError(`${op}: ${argument} must be a Tensor or a number, got ${typeof value}`);
  if (dtype === 'int32' && !Number.isInteger(value)) {
    throw new DTypeError(`${op}: ${argument} = ${value} is not an integer but the other operand is int32 (use cast())`);
  }
  return full([], value, dtype);
}

/** Throws a DTypeError unless every tensor has the first one's dtype. */
export function sameDType(op: string, xs: readonly Tensor[], names: readonly string[]): DType {
  const dtype = xs[0]!.dtype;
  for (let i = 1; i < xs.length; i++) {
    if (xs[i]!.dtype !== dtype) {
      throw new DTypeError(
        `${op}: dtypes differ: ${names[0]} is ${dtype} ${formatShape(xs[0]!.shape)} but ${names[i]} is ${xs[i]!.dtype} ` +
          `${formatShape(xs[i]!.shape)} (tapestry never casts silently: use cast())`,
      );
    }
  }
  return dtype;
}
