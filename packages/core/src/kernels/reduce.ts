import { allocate, type DType, type TensorData } from '../dtype.js';
import type { Shape } from '../shape.js';
import { addRowsWasm, reduceRowsWasm, WASM_MIN_ELEMENTS } from './wasm/elementwise-wasm.js';

/** Reductions over a set of axes. */
export type ReduceCode = 'sum' | 'max' | 'min';

/**
 * Reduces `x` over the sorted `axes`. The input is viewed as [outer, reduced, inner] blocks where possible;
 * otherwise each input element's output slot is tracked with an odometer (no per-element division).
 * Returns the storage of the kept-dims result (same size as the result without kept dims).
 */
function reduceKernel(code: ReduceCode, x: TensorData, shape: Shape, axes: readonly number[], dtype: DType): TensorData {
  let outSize = 1;
  for (let i = 0; i < shape.length; i++) if (!axes.includes(i)) outSize *= shape[i]!;
  const o = allocate(dtype, outSize);
  reduceInto(code, x, shape, axes, o);
  return o;
}

/** {@link reduceKernel} into existing storage `o` (overwritten), in the same order of arithmetic. */
export function reduceInto(code: ReduceCode, x: TensorData, shape: Shape, axes: readonly number[], o: TensorData): void {
  const rank = shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  for (const a of axes) reduced[a] = true;
  // an Int32Array stores ±Infinity as 0: int32 max/min start from the type's own extremes
  const int = o instanceof Int32Array;
  const init = code === 'sum' ? 0 : code === 'max' ? (int ? -2147483648 : -Infinity) : int ? 2147483647 : Infinity;
  o.fill(init);
  if (x.length === 0) return;
  if (code === 'sum' && sumRowBlocks(x, shape, axes, o)) return;
  if (reduceTrailingAxes(code, x, shape, axes, o)) return;

  // Output strides for every input axis (0 on reduced axes).
  const outStrides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let i = rank - 1; i >= 0; i--) {
    if (!reduced[i]) {
      outStrides[i] = stride;
      stride *= shape[i]!;
    }
  }
  const last = rank - 1;
  const lastSize = rank === 0 ? 1 : shape[last]!;
  const lastStride = rank === 0 ? 0 : outStrides[last]!;
  const counter = new Array<number>(rank).fill(0);
  let slot = 0;
  let i = 0;
  const n = x.length;
  while (i < n) {
    if (lastStride === 0) {
      // The innermost axis is reduced: fold a contiguous run into one slot.
      let acc = o[slot]!;
      if (code === 'sum') for (let j = 0; j < lastSize; j++) acc += x[i + j]!;
      else if (code === 'max')
        for (let j = 0; j < lastSize; j++) {
          const v = x[i + j]!;
          if (v > acc || v !== v) acc = v;
        }
      else
        for (let j = 0; j < lastSize; j++) {
          const v = x[i + j]!;
          if (v < acc || v !== v) acc = v;
        }
      o[slot] = acc;
    } else if (code === 'sum') {
      for (let j = 0; j < lastSize; j++) o[slot + j]! += x[i + j]!;
    } else if (code === 'max') {
      for (let j = 0; j < lastSize; j++) {
        const v = x[i + j]!;
        const m = o[slot + j]!;
        if (v > m || v !== v) o[slot + j] = v;
      }
    } else {
      for (let j = 0; j < lastSize; j++) {
        const v = x[i + j]!;
        const m = o[slot + j]!;
        if (v < m || v !== v) o[slot + j] = v;
      }
    }
    i += lastSize;
    let axis = last - 1;
    while (axis >= 0) {
      counter[axis]!++;
      slot += outStrides[axis]!;
      if (counter[axis]! < shape[axis]!) break;
      slot -= outStrides[axis]! * shape[axis]!;
      counter[axis] = 0;
      axis--;
    }
  }
}

/**
 * A sum over one run of adjacent axes [p, q) that leaves the innermost axis alone: for each of the outer
 * blocks, the column sums of a rows × cols matrix, added row after row into `o` (already zero), which is the
 * order of arithmetic of the odometer loop above. Runs on the WebAssembly SIMD kernel where it is available
 * and the rows are long enough to repay copying them; false (nothing done) otherwise.
 */
function sumRowBlocks(x: TensorData, shape: Shape, axes: readonly number[], o: TensorData): boolean {
  const p = axes[0]!;
  const q = p + axes.length;
  if (q >= shape.length || axes[axes.length - 1] !== q - 1) return false;
  let outer = 1;
  for (let d = 0; d < p; d++) outer *= shape[d]!;
  let rows = 1;
  for (let d = p; d < q; d++) rows *= shape[d]!;
  let cols = 1;
  for (let d = q; d < shape.length; d++) cols *= shape[d]!;
  if (cols < WASM_MIN_ELEMENTS) return false;
  for (let t = 0; t < outer; t++) if (!addRowsWasm(x, t * rows * cols, rows, cols, o, t * cols)) return false;
  return true;
}

/**
 * A reduction over the trailing axes (a softmax's maximum and sum over the classes of each row): the rows
 * folded side by side on the WebAssembly SIMD kernel, where `x` and `o` live in one compiled plan's memory,
 * in the order and precision of the loop above, so with its bits; false (nothing done) otherwise.
 */
function reduceTrailingAxes(code: ReduceCode, x: TensorData, shape: Shape, axes: readonly number[], o: TensorData): boolean {
  const rank = shape.length;
  if (axes.length === 0 || axes.length === rank || axes.some((axis, i) => axis !== rank - axes.length + i)) return false;
  let inner = 1;
  for (const axis of axes) inner *= shape[axis]!;
  return reduceRowsWasm(code, x, o.length, inner, o);
}

/** Index of the largest element along `axis` (first one on ties; NaN counts as largest, as in PyTorch). */
function argmaxKernel(x: TensorData, shape: Shape, axis: number): Int32Array {
  const o = allocate('int32', shape.length === 0 ? 1 : x.length / shape[axis]!) as Int32Array;
  argmaxInto(x, shape, axis, o);
  return o;
}

/** {@link argmaxKernel} into existing storage `o`. */
export function argmaxInto(x: TensorData, shape: Shape, axis: number, o: TensorData): void {
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  const n = shape[axis]!;
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  for (let a = 0; a < outer; a++) {
    for (let c = 0; c < inner; c++) {
      const base = a * n * inner + c;
      let best = x[base]!;
      let arg = 0;
      for (let k = 1; k < n; k++) {
        const v = x[base + k * inner]!;
        if (best !== best) break;
        if (v > best || v !== v) {
          best = v;
          arg = k;
        }
      }
      o[a * inner + c] = arg;
    }
  }
}
