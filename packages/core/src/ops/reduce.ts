/** Reductions over all or given axes: sum, max and min are primitives; mean and logSumExp compose them. */
import { definePrimitive, type AbstractValue, type Primitive, type ReduceAttrs } from '../binding/primitive.js';
import { bind } from '../binding/tape.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { formatShape, normalizeAxes, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { div, mul } from './arithmetic.js';
import { cast } from './cast.js';
import { equal } from './compare.js';
import { expectFloat, expectTensor } from '../checks.js';
import { broadcastTo, reshape } from './shape-ops.js';

function keptShape(shape: Shape, axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function reducedShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  return keepDims ? keptShape(shape, axes) : shape.filter((_, i) => !axes.includes(i));
}

function reduceShape([x]: readonly AbstractValue[], { axes, keepDims }: ReduceAttrs): AbstractValue {
  return { shape: reducedShape(x!.shape, axes, keepDims), dtype: x!.dtype };
}

// d sum(x) = ct broadcast back over the reduced axes
const sumPrimitive = definePrimitive({
  name: 'sum',
  kind: 'reduction',
  shape: reduceShape,
  vjp: (ct, [x], _out, { axes }) => [broadcastTo(reshape(ct, keptShape(x!.shape, axes)), x!.shape)],
});

// d max(x) = ct at the maximal elements, shared evenly among ties (PyTorch's amax rule)
const extremumVjp = (ct: Tensor, [x]: readonly Tensor[], out: Tensor, { axes }: ReduceAttrs): Tensor[] => {
  const kept = keptShape(x!.shape, axes);
  const hits = cast(equal(x!, reshape(out, kept)), ct.dtype);
  const count = sum(hits, axes, true);
  return [mul(hits, div(reshape(ct, kept), count))];
};
const maxPrimitive = definePrimitive({ name: 'max', kind: 'reduction', shape: reduceShape, vjp: extremumVjp });
const minPrimitive = definePrimitive({ name: 'min', kind: 'reduction', shape: reduceShape, vjp: extremumVjp });

function reduce<P extends 'sum' | 'max' | 'min'>(
  primitive: Primitive<P>,
  x: Tensor,
  axis: number | readonly number[] | undefined,
  keepDims: boolean,
  allowInt: boolean,
): Tensor {
  expectTensor(primitive.name, 'x', x);
  if (!allowInt) expectFloat(primitive.name, 'x', x);
  const axes = normalizeAxes(primitive.name, axis, x.rank);
  if (typeof keepDims !== 'boolean')
    throw new ArgumentError(`${primitive.name}: keepDims must be true or false, got ${JSON.stringify(keepDims) ?? String(keepDims)}`);
  if (primitive.name !== 'sum') {
    // max/min of nothing has no value (PyTorch refuses; ±Infinity would pass silently into a loss)
    const empty = axes.find((a) => x.shape[a] === 0);
    if (empty !== undefined) {
      throw new ShapeError(`${primitive.name}: axis ${empty} of x ${formatShape(x.shape)} is empty; the ${primitive.name} of no elements is undefined`);
    }
  }
  return bind(primitive, [x], { axes, keepDims: keepDims === true });
}

/**
 * Sum over all axes (default) or the given ones; `keepDims` keeps reduced axes as size 1.
 * @example
 * ```ts
 * sum(x);            // 0-d total
 * sum(x, -1, true);  // row sums, shape [..., 1]
 * sum(x, [0, 2]);
 * ```
 */
export function sum(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduce(sumPrimitive, x, axis, keepDims, true);
}

/** Largest element over all or the given axes (gradient shared evenly among ties). */
export function max(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduce(maxPrimitive, x, axis, keepDims, true);
}

/** Smallest element over all or the given axes (gradient shared evenly among ties). */
export function min(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduce(minPrimitive, x, axis, keepDims, true);
}

/** Arithmetic mean over all or the given axes. */
export function mean(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  expectTensor('mean', 'x', x);
  expectFloat('mean', 'x', x);
  const axes = normalizeAxes('mean', axis, x.rank);
  let count = 1;
  for (const a of axes) count *= x.shape[a]!;
  return div(sum(x, axes, keepDims), count);
}

/** The primitives this module defines, for the primitive table. @internal */
export const reducePrimitives = { sum: sumPrimitive, max: maxPrimitive, min: minPrimitive };
