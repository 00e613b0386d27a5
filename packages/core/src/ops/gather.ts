/** gather and its transpose scatterAdd: each is the other's VJP (embedding lookups scatter their gradient back). */
import { definePrimitive, type Primitive } from '../binding/primitive.js';
import { bind } from '../binding/tape.js';
import { DTypeError, ShapeError } from '../errors.js';
import { formatShape, normalizeAxis } from '../shape.js';
import { hostData, type Tensor } from '../tensor.js';
import { expectTensor } from '../checks.js';

// d gather(x, idx) = scatterAdd(ct, idx) into zeros of x's shape; indices get none
// (a backend may instead add ct into an accumulator in place: see Backend.accumulateSparse)
const gatherPrimitive: Primitive<'gather'> = definePrimitive({
  name: 'gather',
  kind: 'indexing',
  shape: ([x, indices], { axis }) => ({ shape: [...x!.shape.slice(0, axis), ...indices!.shape, ...x!.shape.slice(axis + 1)], dtype: x!.dtype }),
  vjp: (ct, [x, indices], _out, { axis }) => [bind(scatterAddPrimitive, [ct, indices!], { axis, shape: x!.shape }), null],
});

// d scatterAdd(g, idx) = gather(ct, idx)
const scatterAddPrimitive: Primitive<'scatterAdd'> = definePrimitive({
  name: 'scatterAdd',
  kind: 'indexing',
  shape: ([g], { shape }) => ({ shape, dtype: g!.dtype }),
  vjp: (ct, [, indices], _out, { axis }) => [bind(gatherPrimitive, [ct, indices!], { axis }), null],
});

/**
 * Picks slices of `x` along `axis` by int32 `indices` of any shape: the result has shape
 * `x.shape[:axis] + indices.shape + x.shape[axis+1:]`. The gradient scatters back (repeats add up).
 * @example
 * ```ts
 * const table = tensor([[0, 0], [1, 1], [2, 2]]);
 * gather(table, tensor([[2, 0]], { dtype: 'int32' })); // [[[2, 2], [0, 0]]] — an embedding lookup
 * ```
 */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  return bind(gatherPrimitive, [x, indices], { axis: checkGather('gather', x, indices, axis) });
}

/** Validates gather's arguments under the name of the op the user called; returns the normalised axis. */
function checkGather(op: string, x: Tensor, indices: Tensor, axis: number): number {
  expectTensor(op, 'x', x);
  expectTensor(op, 'indices', indices);
  if (indices.dtype !== 'int32') {
    throw new DTypeError(`${op}: indices must be int32, got ${indices.dtype} ${formatShape(indices.shape)} (use cast(indices, 'int32'))`);
  }
  if (x.rank === 0) throw new ShapeError(`${op}: x must have at least one axis, got a scalar`);
  const a = normalizeAxis(op, axis, x.rank);
  const n = x.shape[a]!;
  // traced indices have no values yet, nor do a GPU's without a read: the kernel checks them when it runs
  if (indices.traced !== null || indices.backend.hostView === undefined) return a;
  const data = hostData(indices, op);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < 0 || v >= n) {
      throw new ShapeError(`${op}: index ${v} (at flat position ${i}) is out of range for axis ${a} of x ${formatShape(x.shape)} (size ${n})`);
    }
  }
  return a;
}

/**
 * PyTorch's `index_select(x, dim, index)`: `gather` with a 1-D index.
 * @example
 * ```ts
 * indexSelect(x, 0, tensor([3, 1], { dtype: 'int32' })); // rows 3 and 1
 * ```
 */
export function indexSelect(x: Tensor, axis: number, indices: Tensor): Tensor {
  expectTensor('indexSelect', 'indices', indices);
  if (indices.rank !== 1) throw new ShapeError(`indexSelect: indices must be 1-D, got ${formatShape(indices.shape)} (use gather for other shapes)`);
  return bind(gatherPrimitive, [x, indices], { axis: checkGather('indexSelect', x, indices, axis) });
}

/** The primitives this module defines, for the primitive table. @internal */
export const gatherPrimitives = { gather: gatherPrimitive, scatterAdd: scatterAddPrimitive };
