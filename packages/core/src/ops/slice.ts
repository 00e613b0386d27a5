/** slice and its transpose pad: each is the other's VJP. */
import { definePrimitive, type Primitive } from '../autodiff/primitive.js';
import { bind } from '../autodiff/tape.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { addSliceInto, padKernel, sliceKernel } from '../kernels/layout.js';
import { formatShape, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { expectTensor } from './checks.js';

interface SliceAttrs {
  readonly begin: readonly number[];
  readonly size: readonly number[];
}
interface PadAttrs {
  readonly begin: readonly number[];
  readonly shape: Shape;
}

// d slice(x) = ct placed back at `begin` in zeros of x's shape
const slicePrimitive: Primitive<SliceAttrs> = definePrimitive<SliceAttrs>({
  name: 'slice',
  forward: ([x], { begin, size }) => new Tensor(sliceKernel(x!.data, x!.shape, begin, size, x!.dtype), size, x!.dtype),
  shape: ([x], { size }) => ({ shape: size, dtype: x!.dtype }),
  vjp: (ct, [x], _out, { begin }) => [bind(padPrimitive, [ct], { begin, shape: x!.shape })],
  accumulateVjp: (acc, ct, [x], { begin, size }) => addSliceInto(acc, x!.shape, begin, ct.data, size),
});

// d pad(x) = the slice of ct where x sits
const padPrimitive: Primitive<PadAttrs> = definePrimitive<PadAttrs>({
  name: 'pad',
  forward: ([x], { begin, shape }) => new Tensor(padKernel(x!.data, x!.shape, begin, shape, x!.dtype), shape, x!.dtype),
  shape: ([x], { shape }) => ({ shape, dtype: x!.dtype }),
  vjp: (ct, [x], _out, { begin }) => [bind(slicePrimitive, [ct], { begin, size: x!.shape })],
});

function describeList(x: unknown): string {
  return typeof x === 'string' ? JSON.stringify(x) : `${String(x)} (${x === null ? 'null' : typeof x})`;
}

/**
 * The block of `x` that starts at `begin` and spans `size` elements per axis (-1: to the end). Shorter
 * lists apply to the leading axes; the rest are taken whole.
 * @example
 * ```ts
 * slice(x, [0, 2], [-1, 3]); // every row, columns 2..4
 * ```
 */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  expectTensor('slice', 'x', x);
  // a number where a list is due would read as no entries at all, and return x whole
  if (!Array.isArray(begin)) throw new ArgumentError(`slice: begin must be an array with one start per axis, got ${describeList(begin)}`);
  if (size !== undefined && !Array.isArray(size)) {
    throw new ArgumentError(`slice: size must be an array with one length per axis (-1: to the end), got ${describeList(size)}`);
  }
  if (begin.length > x.rank || (size !== undefined && size.length > x.rank)) {
    throw new ShapeError(`slice: begin [${begin.join(', ')}] / size [${size?.join(', ') ?? ''}] have more entries than x ${formatShape(x.shape)} has axes`);
  }
  const b: number[] = [];
  const s: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    const start = begin[i] ?? 0;
    const dim = x.shape[i]!;
    const requested = size?.[i] ?? -1;
    const length = requested === -1 ? dim - start : requested;
    if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > dim) {
      throw new ShapeError(
        `slice: axis ${i}: begin ${start} with size ${requested} does not fit in x ${formatShape(x.shape)} (axis size ${dim})`,
      );
    }
    b.push(start);
    s.push(length);
  }
  if (s.every((d, i) => d === x.shape[i])) return x;
  return bind(slicePrimitive, [x], { begin: b, size: s });
}
