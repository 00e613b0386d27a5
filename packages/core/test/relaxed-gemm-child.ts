/**
 * Run by relaxed-gemm.test.ts in a Node started with `--experimental-wasm-relaxed-simd`: reports which GEMM
 * build loaded and the worst error, relative to the float32 rounding bound, of its products against a float64
 * reference over recurrent shapes and all four transpose combinations. Prints one JSON line.
 */
import { gemmWasm, wasmGemmVariant } from '../src/kernels/wasm/gemm-wasm.js';

/** Deterministic float32 values in [-1, 1) (xorshift32). */
function values(count: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

let worst = 0;
let products = 0;
const shapes: [number, number, number][] = [
  [32, 64, 128],
  [33, 70, 257],
  [64, 256, 96],
  [5, 9, 300],
  [128, 17, 513],
];
for (const [m, n, k] of shapes) {
  for (const [tA, tB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const a = values(m * k, m + n);
    const b = values(k * n, k);
    const c = new Float32Array(m * n);
    gemmWasm(a, 0, b, 0, c, 0, m, n, k, tA, tB);
    products++;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let exact = 0;
        let magnitude = 0;
        for (let p = 0; p < k; p++) {
          const product = a[tA ? p * m + i : i * k + p]! * b[tB ? j * k + p : p * n + j]!;
          exact += product;
          magnitude += Math.abs(product);
        }
        // γ_(k+1)·Σ|a·b|, as matmul-kernels.test.ts bounds every float32 product
        const u = 2 ** -24;
        const bound = (((k + 1) * u) / (1 - (k + 1) * u)) * magnitude + Number.MIN_VALUE;
        worst = Math.max(worst, Math.abs(c[i * n + j]! - exact) / bound);
      }
    }
  }
}
console.log(JSON.stringify({ variant: wasmGemmVariant(), products, worst }));
