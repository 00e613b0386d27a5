/** concat is the primitive; stack and split compose it with reshape and slice. */
import { definePrimitive } from '../binding/primitive.js';
import { bind } from '../binding/tape.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { formatShape, normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { expectInteger, expectTensor } from '../checks.js';
import { sameDType } from './checks.js';
import { expandDims } from './shape-ops.js';
import { slice } from './slice.js';

// d concat(xs) = the slices of ct where each input sits
const concatPrimitive = definePrimitive({
  name: 'concat',
  kind: 'layout',
  shape: (xs, { axis }) => {
    const shape = xs[0]!.shape.slice();
    shape[axis] = xs.reduce((total, x) => total + x.shape[axis]!, 0);
    return { shape, dtype: xs[0]!.dtype };
  },
  vjp: (ct, xs, _out, { axis }) => {
    let offset = 0;
    return xs.map((x) => {
      const begin = x.shape.map((_, i) => (i === axis ? offset : 0));
      offset += x.shape[axis]!;
      return slice(ct, begin, x.shape);
    });
  },
});

function checkList(op: string, xs: readonly Tensor[]): void {
  if (!Array.isArray(xs) || xs.length === 0) throw new ArgumentError(`${op}: expected a non-empty array of tensors`);
  xs.forEach((x, i) => expectTensor(op, `xs[${i}]`, x));
  sameDType(
    op,
    xs,
    xs.map((_, i) => `xs[${i}]`),
  );
}

/**
 * Joins tensors along an existing axis; all other axes must match.
 * @example
 * ```ts
 * concat([a, b], -1); // [N, 3] and [N, 5] → [N, 8]
 * ```
 */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  checkList('concat', xs);
  const first = xs[0]!;
  const a = normalizeAxis('concat', axis, first.rank);
  xs.forEach((x, i) => {
    if (x.rank !== first.rank || x.shape.some((d, j) => j !== a && d !== first.shape[j])) {
      throw new ShapeError(`concat: xs[${i}] ${formatShape(x.shape)} does not match xs[0] ${formatShape(first.shape)} outside axis ${a}`);
    }
  });
  if (xs.length === 1) return first;
  return bind(concatPrimitive, xs, { axis: a });
}

/**
 * Joins same-shaped tensors along a new axis.
 * @example
 * ```ts
 * stack([h1, h2, h3], 1); // three [N, H] → [N, 3, H]
 * ```
 */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  checkList('stack', xs);
  const first = xs[0]!;
  const a = normalizeAxis('stack', axis, first.rank + 1);
  xs.forEach((x, i) => {
    if (x.rank !== first.rank || x.shape.some((d, j) => d !== first.shape[j])) {
      throw new ShapeError(`stack: xs[${i}] ${formatShape(x.shape)} differs from xs[0] ${formatShape(first.shape)}`);
    }
  });
  return concat(
    xs.map((x) => expandDims(x, a)),
    a,
  );
}

/**
 * Splits along `axis` into `count` equal parts, or into parts of the given sizes.
 * @example
 * ```ts
 * const [i, f, g, o] = split(gates, 4, -1);
 * ```
 */
export function split(x: Tensor, sizesOrCount: number | readonly number[], axis = 0): Tensor[] {
  expectTensor('split', 'x', x);
  const a = normalizeAxis('split', axis, x.rank);
  const dim = x.shape[a]!;
  let sizes: number[];
  if (typeof sizesOrCount === 'number') {
    const count = expectInteger('split', 'count', sizesOrCount, 1);
    if (dim % count !== 0) throw new ShapeError(`split: axis ${a} of ${formatShape(x.shape)} (size ${dim}) does not split into ${count} equal parts`);
    sizes = new Array<number>(count).fill(dim / count);
  } else {
    sizes = Array.from(sizesOrCount);
    sizes.forEach((s, i) => expectInteger('split', `sizes[${i}]`, s, 0));
    const total = sizes.reduce((t, s) => t + s, 0);
    if (total !== dim) throw new ShapeError(`split: sizes [${sizes.join(', ')}] add up to ${total}, but axis ${a} of ${formatShape(x.shape)} has size ${dim}`);
  }
  let offset = 0;
  return sizes.map((s) => {
    const begin = x.shape.map((_, i) => (i === a ? offset : 0));
    const size = x.shape.map((d, i) => (i === a ? s : d));
    offset += s;
    return slice(x, begin, size);
  });
}

/** The primitives this module defines, for the primitive table. @internal */
export const concatPrimitives = { concat: concatPrimitive };
