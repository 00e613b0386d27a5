import { allocate, type DType, type TensorData } from '../dtype.js';
import { stridesOf, type Shape } from '../shape.js';
import { binaryRange } from './elementwise.js';
import { broadcastIndex, stridedIndex } from './strided.js';
import { WASM_MIN_ELEMENTS } from './wasm/elementwise-wasm.js';

/** Copies `x` into the layout of its axes permuted by `perm` (out axis i is input axis perm[i]). */
export function transposeKernel(x: TensorData, shape: Shape, perm: readonly number[], dtype: DType): TensorData {
  const inStrides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]!);
  const index = stridedIndex(outShape, perm.map((p) => inStrides[p]!), 0);
  const o = allocate(dtype, x.length);
  for (let i = 0; i < index.length; i++) o[i] = x[index[i]!]!;
  return o;
}

/**
 * A block of a row-major array as contiguous runs: the trailing axes the block spans whole, plus the last
 * axis it cuts, form one run of `run` elements; `rows` holds each run's start. A scan's step slice of a
 * [T, N, F] sequence is a single run, so copying it is one `set`, not an index per element.
 */
function blockRuns(shape: Shape, begin: readonly number[], size: readonly number[]): { rows: Int32Array; run: number } {
  const strides = stridesOf(shape);
  let k = shape.length - 1;
  while (k >= 0 && size[k] === shape[k]) k--;
  let base = 0;
  for (let i = 0; i < shape.length; i++) base += begin[i]! * strides[i]!;
  if (k < 0) return { rows: Int32Array.of(base), run: sizeOfShape(size) };
  const run = size[k]! * strides[k]!;
  return { rows: stridedIndex(size.slice(0, k), strides.slice(0, k), base), run };
}

function sizeOfShape(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The block of `x` starting at `begin` with `size` elements per axis. */
export function sliceKernel(x: TensorData, shape: Shape, begin: readonly number[], size: readonly number[], dtype: DType): TensorData {
  const { rows, run } = blockRuns(shape, begin, size);
  const o = allocate(dtype, rows.length * run);
  for (let r = 0; r < rows.length; r++) o.set(x.subarray(rows[r]!, rows[r]! + run), r * run);
  return o;
}

/** `x` placed at offset `begin` inside zeros of `outShape` (the transpose of a slice). */
export function padKernel(x: TensorData, shape: Shape, begin: readonly number[], outShape: Shape, dtype: DType): TensorData {
  const { rows, run } = blockRuns(outShape, begin, shape);
  const o = allocate(dtype, sizeOfShape(outShape));
  for (let r = 0; r < rows.length; r++) o.set(x.subarray(r * run, (r + 1) * run), rows[r]!);
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
  const o = allocate(dtype, outer * indices.length * inner);
  gatherInto(x, outer, n, inner, indices, o);
  return o;
}

/** {@link gatherKernel} into existing storage `o` (allocates nothing). */
export function gatherInto(x: TensorData, outer: number, n: number, inner: number, indices: Int32Array, o: TensorData): void {
  const m = indices.length;
  for (let a = 0; a < outer; a++) {
    for (let k = 0; k < m; k++) {
      const src = (a * n + indices[k]!) * inner;
      const dst = (a * m + k) * inner;
      for (let c = 0; c < inner; c++) o[dst + c] = x[src + c]!;
    }
  }
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
  const { rows, run } = blockRuns(shape, begin, size);
  for (let r = 0; r < rows.length; r++) {
    const dst = rows[r]!;
    const src = r * run;
    // long runs go through the add row loop, which runs them on SIMD where it can (same bits)
    if (run >= WASM_MIN_ELEMENTS) binaryRange('add', acc, dst, 1, g, src, 1, acc, dst, run);
    else for (let j = 0; j < run; j++) acc[dst + j]! += g[src + j]!;
  }
}

/** Adds each gathered row of `g` back into its source row of `acc` (viewed as [outer, n, inner]). */
export function scatterAddInto(acc: TensorData, g: TensorData, outer: number, n: number, inner: number, indices: Int32Array): void {
  const m = indices.length;
  for (let a = 0; a < outer; a++) {
    for (let k = 0; k < m; k++) {
      const dst = (a * n + indices[k]!) * inner;
      const src = (a * m + k) * inner;
      if (inner >= WASM_MIN_ELEMENTS) binaryRange('add', acc, dst, 1, g, src, 1, acc, dst, inner);
      else for (let c = 0; c < inner; c++) acc[dst + c]! += g[src + c]!;
    }
  }
}
