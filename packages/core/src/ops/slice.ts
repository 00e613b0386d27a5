/** slice and its transpose pad: each is the other's VJP. */
import { definePrimitive, type Primitive } from '../binding/primitive.js';
import { bind } from '../binding/tape.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { expectTensor } from '../checks.js';

// d slice(x) = ct placed back at `begin` in zeros of x's shape
// (a backend may instead add ct into an accumulator in place: see Backend.accumulateSparse)
const slicePrimitive: Primitive<'slice'> = definePrimitive({
  name: 'slice',
  kind: 'layout',
  shape: ([x], { size }) => ({ shape: size, dtype: x!.dtype }),
  vjp: (ct, [x], _out, { begin }) => [bind(padPrimitive, [ct], { begin, shape: x!.shape })],
});

// d pad(x) = the slice of ct where x sits
const padPrimitive: Primitive<'pad'> = definePrimitive({
  name: 'pad',
  kind: 'layout',
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
      throw new ShapeError(`slice: axis ${i}: begin ${start} with size ${requested} does not fit in x ${formatShape(x.shape)} (axis size ${dim})`);
    }
    b.push(start);
    s.push(length);
  }
  if (s.every((d, i) => d === x.shape[i])) return x;
  return bind(slicePrimitive, [x], { begin: b, size: s });
}

/** The primitives this module defines, for the primitive table. @internal */
export const slicePrimitives = { slice: slicePrimitive, pad: padPrimitive };
