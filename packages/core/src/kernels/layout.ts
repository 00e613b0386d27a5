/** Row gathers and their transpose, scatter-add: embedding lookups and their gradients. */
import type { TensorData } from '../dtype.js';
import { binaryRange } from './elementwise.js';
import { WASM_MIN_ELEMENTS } from './wasm/elementwise-wasm.js';

/** Gathers rows along an axis: x viewed as [outer, n, inner]; o is [outer, indices.length, inner]. */
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

/** Adds each gathered row of `g` back into its source row of `acc` (viewed as [outer, n, inner]); repeats accumulate. */
export function scatterAddInto(acc: TensorData, g: TensorData, outer: number, n: number, inner: number, indices: Int32Array): void {
  const m = indices.length;
  for (let a = 0; a < outer; a++) {
    for (let k = 0; k < m; k++) {
      const dst = (a * n + indices[k]!) * inner;
      const src = (a * m + k) * inner;
      // long runs go through the add row loop, which runs them on SIMD where it can (same bits)
      if (inner >= WASM_MIN_ELEMENTS) binaryRange('add', acc, dst, 1, g, src, 1, acc, dst, inner);
      else for (let c = 0; c < inner; c++) acc[dst + c]! += g[src + c]!;
    }
  }
}
