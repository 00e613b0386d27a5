/**
 * Run by relaxed-gemm.test.ts in a Node started with `--experimental-wasm-relaxed-simd`: reports which GEMM
 * build loaded, the worst error, relative to the float32 rounding bound, of its products against a float64
 * reference over recurrent shapes and all four transpose combinations, and how many of those products gave
 * other bits when run in place in a plan's memory (a GemmSpace of its own, which must run the same build).
 * Prints one JSON line.
 */
import { GemmSpace, gemmScratchBytes, gemmWasm, wasmGemmVariant } from '../src/kernels/wasm/gemm-wasm.js';

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
let inPlaceMismatches = 0;

/** Whether the product run in place in a memory of its own (as a compiled plan's) gives the bits of `c`. */
function sameInPlace(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, tA: boolean, tB: boolean): boolean {
  const gemmAt = Math.ceil((4 * (a.length + b.length + c.length)) / 64) * 64;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((gemmAt + gemmScratchBytes(m, n, k)) / 65536) });
  GemmSpace.inArena(memory, gemmAt, gemmScratchBytes(m, n, k));
  const aIn = new Float32Array(memory.buffer, 0, a.length);
  const bIn = new Float32Array(memory.buffer, 4 * a.length, b.length);
  const cIn = new Float32Array(memory.buffer, 4 * (a.length + b.length), c.length);
  aIn.set(a);
  bIn.set(b);
  gemmWasm(aIn, 0, bIn, 0, cIn, 0, m, n, k, tA, tB);
  const bits = (x: Float32Array): Uint32Array => new Uint32Array(x.buffer, x.byteOffset, x.length);
  return bits(cIn).every((v, i) => v === bits(c)[i]);
}

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
    if (!sameInPlace(a, b, c, m, n, k, tA, tB)) inPlaceMismatches++;
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
console.log(JSON.stringify({ variant: wasmGemmVariant(), products, worst, inPlaceMismatches }));
