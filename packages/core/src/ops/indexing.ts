/** Non-differentiable index ops: argmax and oneHot. */
import { definePrimitive } from '../autodiff/primitive.js';
import { bind } from '../autodiff/tape.js';
import { allocate, DTYPES, type DType } from '../dtype.js';
import { DTypeError, ShapeError } from '../errors.js';
import { argmaxKernel } from '../kernels/reduce.js';
import { formatShape, normalizeAxis } from '../shape.js';
import { Tensor } from '../tensor.js';
import { expectInteger, expectTensor } from './checks.js';

const argmaxPrimitive = definePrimitive<{ axis: number; keepDims: boolean }>({
  name: 'argmax',
  forward: ([x], { axis, keepDims }) => {
    const shape = keepDims ? x!.shape.map((d, i) => (i === axis ? 1 : d)) : x!.shape.filter((_, i) => i !== axis);
    return new Tensor(argmaxKernel(x!.data, x!.shape, axis), shape, 'int32');
  },
  shape: ([x], { axis, keepDims }) => ({
    shape: keepDims ? x!.shape.map((d, i) => (i === axis ? 1 : d)) : x!.shape.filter((_, i) => i !== axis),
    dtype: 'int32',
  }),
  vjp: null,
});

const oneHotPrimitive = definePrimitive<{ depth: number; dtype: DType }>({
  name: 'oneHot',
  forward: ([indices], { depth, dtype }) => {
    const data = allocate(dtype, indices!.size * depth);
    for (let i = 0; i < indices!.size; i++) data[i * depth + indices!.data[i]!] = 1;
    return new Tensor(data, [...indices!.shape, depth], dtype);
  },
  shape: ([indices], { depth, dtype }) => ({ shape: [...indices!.shape, depth], dtype }),
  vjp: null,
});

/**
 * The index of the largest value along `axis` as int32 (the first one on ties).
 * @example
 * ```ts
 * argmax(logits, -1); // predicted class per row
 * ```
 */
export function argmax(x: Tensor, axis = -1, keepDims = false): Tensor {
  expectTensor('argmax', 'x', x);
  if (x.rank === 0) throw new ShapeError('argmax: x must have at least one axis, got a scalar');
  const a = normalizeAxis('argmax', axis, x.rank);
  if (x.shape[a] === 0) throw new ShapeError(`argmax: axis ${a} of ${formatShape(x.shape)} is empty`);
  return bind(argmaxPrimitive, [x], { axis: a, keepDims });
}

/**
 * One-hot encodes int32 `indices` into a new last axis of size `depth`.
 * @example
 * ```ts
 * oneHot(tensor([0, 2], { dtype: 'int32' }), 3); // [[1, 0, 0], [0, 0, 1]]
 * ```
 */
export function oneHot(indices: Tensor, depth: number, dtype: DType = 'float32'): Tensor {
  expectTensor('oneHot', 'indices', indices);
  if (indices.dtype !== 'int32') throw new DTypeError(`oneHot: indices must be int32, got ${indices.dtype}`);
  expectInteger('oneHot', 'depth', depth, 1);
  if (!DTYPES.includes(dtype)) throw new DTypeError(`oneHot: unknown dtype ${JSON.stringify(dtype)}`);
  // traced indices have no values yet: a compiled graph checks them when it runs
  for (let i = 0; indices.traced === null && i < indices.size; i++) {
    const v = indices.data[i]!;
    if (v < 0 || v >= depth) throw new ShapeError(`oneHot: index ${v} (at flat position ${i}) is out of range for depth ${depth}`);
  }
  return bind(oneHotPrimitive, [indices], { depth, dtype });
}
