/**
 * Trees of tensors to and from structured-clone form, to hand a pool's setup (parameters, optimiser state,
 * carried state, data) to its workers: each tensor becomes `{ dtype, shape, data }` with its data copied;
 * containers and other leaves (numbers, strings, typed arrays) keep their shape.
 */
import { isContainer, Tensor, tensor, type DType, type TensorData } from '@tapestry/core';

const TENSOR = '__tapestryTensor';

interface EncodedTensor {
  readonly [TENSOR]: true;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** A structured-cloneable copy of a tree whose leaves are tensors or cloneable values. */
export function encodeTree(tree: unknown): unknown {
  if (tree instanceof Tensor) return { [TENSOR]: true, dtype: tree.dtype, shape: [...tree.shape], data: tree.dataSync() } satisfies EncodedTensor;
  if (Array.isArray(tree)) return tree.map(encodeTree);
  if (isContainer(tree)) return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, encodeTree(v)]));
  return tree;
}

/** The inverse of {@link encodeTree}. */
export function decodeTree(encoded: unknown): unknown {
  if (Array.isArray(encoded)) return encoded.map(decodeTree);
  if (isContainer(encoded)) {
    const e = encoded as Partial<EncodedTensor>;
    if (e[TENSOR] === true) return tensor(e.data!, { dtype: e.dtype!, shape: e.shape! });
    return Object.fromEntries(Object.entries(encoded).map(([k, v]) => [k, decodeTree(v)]));
  }
  return encoded;
}
