import { allocate, type DType, type TensorData } from '../dtype.js';
import { stridesOf, type Shape } from '../shape.js';
import { broadcastIndex, stridedIndex } from './strided.js';

/** Copies `x` into the layout of its axes permuted by `perm` (out axis i is input axis perm[i]). */
export function transposeKernel(x: TensorData, shape: Shape, perm: readonly number[], dtype: DType): TensorData {
  const inStrides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]!);
  const index = stridedIndex(outShape, perm.map((p) => inStrides[p]!), 0);
  const o = allocate(dtype, x.length);
  for (let i = 0; i < index.length; i++) o[i] = x[index[i]!]!;
  return o;
}

/** The block of `x` starting at `begin` with `size` elements per axis. */
export function sliceKernel(x: TensorData, shape: Shape, begin: readonly number[], size: readonly number[], dtype: DType): TensorData {
  const strides = stridesOf(shape);
  let base = 0;
  for (let i = 0; i < shape.length; i++) base += begin[i]! * strides[i]!;
  const index = stridedIndex(size, strides, base);
  const o = allocate(dtype, index.length);
  for (let i = 0; i < index.length; i++) o[i] = x[index[i]!]!;
  return o;
}

/** `x` placed at offset `begin` inside zeros of `outShape` (the transpose of a slice). */
export function padKernel(x: TensorData, shape: Shape, begin: readonly number[], outShape: Shape, dtype: DType): TensorData {
  const outStrides = stridesOf(outShape);
  let base = 0;
  for (let i = 0; i < outShape.length; i++) base += begin[i]! * outStrides[i]!;
  const index = stridedIndex(shape, outStrides, base);
  let size = 1;
  for (const d of outShape) size *= d;
  const o = allocate(dtype, size);
  for (let i = 0; i < index.length; i++) o[index[i]!] = x[i]!;
  return o;
}

/** Joins blocks along `axis`: each input contributes `sizes[j]` rows of every outer block. */
export function concatKernel(parts: readonly TensorData[], outer: number, rowWidths: readonly number[], dtype: DType): TensorData {
  let total = 0;
  for (const w of rowWidths) total += w;
  const o = allocate(dtype, outer * total);
  let column = 0;
  for (let j = 0; j < parts.length; j++) {
    const part = parts[j]!;
    const w = rowWidths[j]!;
    for (let r = 0; r < outer; r++) o.set(part.subarray(r * w, (r + 1) * w), r * total + column);
    column += w;
  }
  return o;
}

/**
 * Gathers rows along an axis: x viewed as [outer, n, inner]; output [outer, indices.length, inner].
 */
export function gatherKernel(x: TensorData, outer: number, n: number, inner: number, indices: Int32Array, dtype: DType): TensorData {
  const m = indices.length;
  const o = allocate(dtype, outer * m * inner);
  for (let a = 0; a < outer; a++) {
    for (let k = 0; k < m; k++) {
      const src = (a * n + indices[k]!) * inner;
      o.set(x.subarray(src, src + inner), (a * m + k) * inner);
    }
  }
  return o;
}

/** The transpose of {@link gatherKernel}: adds each gathered row back to its source row (repeats accumulate). */
export function scatterAddKernel(g: TensorData, outer: number, n: number, inner: number, indices: Int32Array, dtype: DType): TensorData {
  const o = allocate(dtype, outer * n * inner);
  scatterAddInto(o, g, outer, n, inner, indices);
  return o;
}

/** Materialises `x` broadcast to `outShape` by NumPy's rules. */
export function broadcastKernel(x: TensorData, shape: Shape, outShape: Shape, dtype: DType): TensorData {
  const index = broadcastIndex(shape, outShape);
  const o = allocate(dtype, index.length);
  for (let i = 0; i < index.length; i++) o[i] = x[index[i]!]!;
  return o;
}

/** `acc[begin : begin + size] += g` for a block of `acc` (shape `shape`): the in-place transpose of a slice. */
export function addSliceInto(acc: TensorData, shape: Shape, begin: readonly number[], g: TensorData, size: Shape): void {
  const strides = stridesOf(shape);
  let base = 0;
  for (let i = 0; i < shape.length; i++) base += begin[i]! * strides[i]!;
  const index = stridedIndex(size, strides, base);
  for (let i = 0; i < index.length; i++) acc[index[i]!]! += g[i]!;
}

/** Adds each gathered row of `g` back into its source row of `acc` (viewed as [outer, n, inner]). */
export function scatterAddInto(acc: TensorData, g: TensorData, outer: number, n: number, inner: number, indices: Int32Array): void {
  const m = indices.length;
  for (let a = 0; a < outer; a++) {
    for (let k = 0; k < m; k++) {
      const dst = (a * n + indices[k]!) * inner;
      const src = (a * m + k) * inner;
      for (let c = 0; c < inner; c++) acc[dst + c]! += g[src + c]!;
    }
  }
}
