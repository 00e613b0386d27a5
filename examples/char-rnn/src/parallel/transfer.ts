/**
 * Trees of tensors to and from structured-clone form, to hand parameters, optimiser state and carried state
 * to a worker thread: each tensor becomes `{ dtype, shape, data }` (data copied), containers and other leaves
 * keep their shape.
 */
import { Tensor, tensor, type DType, type TensorData } from '@tapestry/core';

interface EncodedTensor {
  readonly __tensor: true;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** A structured-cloneable copy of a tree whose leaves are tensors or plain values. */
export function encodeTree(tree: unknown): unknown {
  if (tree instanceof Tensor) return { __tensor: true, dtype: tree.dtype, shape: [...tree.shape], data: tree.dataSync() } satisfies EncodedTensor;
  if (Array.isArray(tree)) return tree.map(encodeTree);
  if (tree !== null && typeof tree === 'object') return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, encodeTree(v)]));
  return tree;
}

/** The inverse of {@link encodeTree}. */
export function decodeTree(encoded: unknown): unknown {
  if (Array.isArray(encoded)) return encoded.map(decodeTree);
  if (encoded !== null && typeof encoded === 'object') {
    const e = encoded as Partial<EncodedTensor>;
    if (e.__tensor === true) return tensor(e.data!, { dtype: e.dtype!, shape: e.shape! });
    return Object.fromEntries(Object.entries(encoded).map(([k, v]) => [k, decodeTree(v)]));
  }
  return encoded;
}
