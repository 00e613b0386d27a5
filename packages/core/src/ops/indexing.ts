/** Non-differentiable index ops: argmax and oneHot. */
import { definePrimitive } from '../binding/primitive.js';
import { bind } from '../binding/tape.js';
import { DTYPES, type DType } from '../dtype.js';
import { DTypeError, ShapeError } from '../errors.js';
import { formatShape, normalizeAxis } from '../shape.js';
import { hostData, type Tensor } from '../tensor.js';
import { expectInteger, expectTensor } from '../checks.js';

const argmaxPrimitive = definePrimitive({
  name: 'argmax',
  kind: 'reduction',
  shape: ([x], { axis, keepDims }) => ({
    shape: keepDims ? x!.shape.map((d, i) => (i === axis ? 1 : d)) : x!.shape.filter((_, i) => i !== axis),
    dtype: 'int32',
  }),
  vjp: null,
});

const oneHotPrimitive = definePrimitive({
  name: 'oneHot',
  kind: 'indexing',
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
  // traced indices have no values yet, nor do a GPU's without a read: the kernel checks them when it runs
  const data = indices.traced === null && indices.backend.hostView !== undefined ? hostData(indices, 'oneHot') : [];
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < 0 || v >= depth) throw new ShapeError(`oneHot: index ${v} (at flat position ${i}) is out of range for depth ${depth}`);
  }
  return bind(oneHotPrimitive, [indices], { depth, dtype });
}

/** The primitives this module defines, for the primitive table. @internal */
export const indexingPrimitives = { argmax: argmaxPrimitive, oneHot: oneHotPrimitive };
