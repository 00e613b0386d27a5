import { stridesOf, type Shape } from '../shape.js';

/**
 * For each element of an output of shape `outShape`, the flat index of the element of a (broadcast) input of
 * shape `inShape` it reads. NumPy alignment: trailing axes line up; size-1 axes repeat.
 */
export function broadcastIndex(inShape: Shape, outShape: Shape): Int32Array {
  const rank = outShape.length;
  const offset = rank - inShape.length;
  const inStrides = stridesOf(inShape);
  const strides = new Array<number>(rank).fill(0);
  for (let i = 0; i < inShape.length; i++) strides[i + offset] = inShape[i] === 1 ? 0 : inStrides[i]!;
  return stridedIndex(outShape, strides, 0);
}

/**
 * The flat source index of every element of `shape` when walking a strided view (`strides` per axis,
 * starting at `base`). One pass with an odometer; no per-element division.
 */
export function stridedIndex(shape: Shape, strides: readonly number[], base: number): Int32Array {
  let size = 1;
  for (const d of shape) size *= d;
  const out = new Int32Array(size);
  if (size === 0) return out;
  const rank = shape.length;
  if (rank === 0) {
    out[0] = base;
    return out;
  }
  const last = rank - 1;
  const lastSize = shape[last]!;
  const lastStride = strides[last]!;
  const counter = new Array<number>(rank).fill(0);
  let index = base;
  let o = 0;
  while (o < size) {
    for (let j = 0; j < lastSize; j++) out[o++] = index + j * lastStride;
    // advance the odometer over the outer axes
    let axis = last - 1;
    while (axis >= 0) {
      counter[axis]!++;
      index += strides[axis]!;
      if (counter[axis]! < shape[axis]!) break;
      index -= strides[axis]! * shape[axis]!;
      counter[axis] = 0;
      axis--;
    }
  }
  return out;
}
