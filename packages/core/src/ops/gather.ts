/** gather and its transpose scatterAdd: each is the other's VJP (embedding lookups scatter their gradient back). */
import { definePrimitive, type Primitive } from '../autodiff/primitive.js';
import { bind } from '../autodiff/tape.js';
import { DTypeError, ShapeError } from '../errors.js';
import { gatherKernel, scatterAddInto, scatterAddKernel } from '../kernels/layout.js';
import { axisBlocks, formatShape, normalizeAxis, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { expectTensor } from './checks.js';

interface GatherAttrs {
  readonly axis: number;
}
interface ScatterAttrs {
  readonly axis: number;
  readonly shape: Shape;
}

// d gather(x, idx) = scatterAdd(ct, idx) into zeros of x's shape; indices get none
const gatherPrimitive: Primitive<GatherAttrs> = definePrimitive<GatherAttrs>({
  name: 'gather',
  forward: ([x, indices], { axis }) => {
    const [outer, n, inner] = axisBlocks(x!.shape, axis);
    const shape = [...x!.shape.slice(0, axis), ...indices!.shape, ...x!.shape.slice(axis + 1)];
    return new Tensor(gatherKernel(x!.data, outer, n, inner, indices!.data as Int32Array, x!.dtype), shape, x!.dtype);
  },
  shape: ([x, indices], { axis }) => ({ shape: [...x!.shape.slice(0, axis), ...indices!.shape, ...x!.shape.slice(axis + 1)], dtype: x!.dtype }),
  vjp: (ct, [x, indices], _out, { axis }) => [bind(scatterAddPrimitive, [ct, indices!], { axis, shape: x!.shape }), null],
  accumulateVjp: (acc, ct, [x, indices], { axis }) => {
    const [outer, n, inner] = axisBlocks(x!.shape, axis);
    scatterAddInto(acc, ct.data, outer, n, inner, indices!.data as Int32Array);
  },
});

// d scatterAdd(g, idx) = gather(ct, idx)
const scatterAddPrimitive: Primitive<ScatterAttrs> = definePrimitive<ScatterAttrs>({
  name: 'scatterAdd',
  forward: ([g, indices], { axis, shape }) => {
    const [outer, n, inner] = axisBlocks(shape, axis);
    return new Tensor(scatterAddKernel(g!.data, outer, n, inner, indices!.data as Int32Array, g!.dtype), shape, g!.dtype);
  },
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
  // traced indices have no values yet: a compiled graph checks them when it runs
  if (indices.traced !== null) return a;
  const data = indices.data;
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
