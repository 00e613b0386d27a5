/** Reshape-like primitives (reshape, transpose, broadcastTo) and the composites built on them. */
import { definePrimitive } from '../binding/primitive.js';
import { bind } from '../binding/tape.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { checkShape, formatShape, normalizeAxis, shapesEqual, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { expectTensor } from '../checks.js';

// d reshape(x) = reshape(ct) back to x's shape; the storage is shared, not copied
const reshapePrimitive = definePrimitive({
  name: 'reshape',
  kind: 'layout',
  shape: ([x], { shape }) => ({ shape, dtype: x!.dtype }),
  vjp: (ct, [x]) => [reshape(ct, x!.shape)],
});

// d transpose(x, perm) = transpose(ct, perm⁻¹)
const transposePrimitive = definePrimitive({
  name: 'transpose',
  kind: 'layout',
  shape: ([x], { perm }) => ({ shape: perm.map((p) => x!.shape[p]!), dtype: x!.dtype }),
  vjp: (ct, _x, _out, { perm }) => {
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return [transpose(ct, inverse)];
  },
});

// d broadcastTo(x) = ct: the engine sums it back over the broadcast axes, like any broadcasting op
const broadcastPrimitive = definePrimitive({
  name: 'broadcastTo',
  kind: 'layout',
  shape: ([x], { shape }) => ({ shape, dtype: x!.dtype }),
  vjp: (ct) => [ct],
});

/**
 * The same elements in a new shape (row-major order is kept). One entry may be -1: it is inferred.
 * @example
 * ```ts
 * reshape(x, [2, -1]);
 * ```
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  expectTensor('reshape', 'x', x);
  if (!Array.isArray(shape)) throw new ShapeError(`reshape: shape must be an array, got ${String(shape)}`);
  const inferred = shape.indexOf(-1);
  const requested: number[] = shape.slice();
  if (inferred >= 0) {
    if (shape.indexOf(-1, inferred + 1) >= 0) throw new ShapeError(`reshape: only one -1 is allowed, got ${formatShape(shape)}`);
    const known = sizeOf(shape.filter((_, i) => i !== inferred));
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError(`reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) into ${formatShape(shape)}`);
    }
    requested[inferred] = x.size / known;
  }
  const target = checkShape('reshape', 'shape', requested);
  if (sizeOf(target) !== x.size) {
    throw new ShapeError(`reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) into ${formatShape(shape)} (${sizeOf(target)} elements)`);
  }
  if (shapesEqual(target, x.shape)) return x;
  return bind(reshapePrimitive, [x], { shape: target });
}

/**
 * Permutes the axes: output axis i is input axis `perm[i]`. Without `perm`, reverses the axes.
 * @example
 * ```ts
 * transpose(x);             // [a, b] → [b, a]
 * transpose(x, [1, 0, 2]);  // [N, T, H] → [T, N, H]
 * ```
 */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  expectTensor('transpose', 'x', x);
  if (perm !== undefined && !Array.isArray(perm)) {
    throw new ArgumentError(`transpose: perm must be an array of axes, got ${typeof perm === 'string' ? JSON.stringify(perm) : String(perm)}`);
  }
  const p = perm === undefined ? Array.from({ length: x.rank }, (_, i) => x.rank - 1 - i) : Array.from(perm);
  if (p.length !== x.rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
    throw new ShapeError(`transpose: perm [${p.join(', ')}] is not a permutation of the ${x.rank} axes of ${formatShape(x.shape)}`);
  }
  if (p.every((v, i) => v === i)) return x;
  return bind(transposePrimitive, [x], { perm: p });
}

/**
 * Repeats `x` along size-1 and missing leading axes to `shape`, by NumPy's broadcasting rules.
 * @example
 * ```ts
 * broadcastTo(tensor([1, 2, 3]), [2, 3]); // [[1, 2, 3], [1, 2, 3]]
 * ```
 */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  expectTensor('broadcastTo', 'x', x);
  const target = checkShape('broadcastTo', 'shape', shape);
  const offset = target.length - x.rank;
  const ok = offset >= 0 && x.shape.every((d, i) => d === target[i + offset] || d === 1);
  if (!ok) throw new ShapeError(`broadcastTo: cannot broadcast ${formatShape(x.shape)} to ${formatShape(target)}`);
  if (shapesEqual(target, x.shape)) return x;
  return bind(broadcastPrimitive, [x], { shape: target });
}

/** Inserts a size-1 axis at `axis` (negative counts from the end of the result). */
export function expandDims(x: Tensor, axis: number): Tensor {
  expectTensor('expandDims', 'x', x);
  const a = normalizeAxis('expandDims', axis, x.rank + 1);
  const shape = x.shape.slice();
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/** Removes size-1 axes: the given one(s), or all of them. Naming an axis whose size is not 1 is an error. */
export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  expectTensor('squeeze', 'x', x);
  const axes =
    axis === undefined
      ? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))
      : (typeof axis === 'number' ? [axis] : Array.from(axis)).map((a) => normalizeAxis('squeeze', a, x.rank));
  for (const a of axes) {
    if (x.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${a} of ${formatShape(x.shape)} has size ${x.shape[a]}, not 1`);
  }
  return reshape(
    x,
    x.shape.filter((_, i) => !axes.includes(i)),
  );
}

/** The primitives this module defines, for the primitive table. @internal */
export const shapePrimitives = { reshape: reshapePrimitive, transpose: transposePrimitive, broadcastTo: broadcastPrimitive };
