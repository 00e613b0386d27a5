/**
 * GFLOP/s of the float32 GEMM kernels, TypeScript against WebAssembly SIMD, at square sizes, at the shapes of
 * the char-RNN training step's compiled plan (batch 32, hidden 256 → gates 1024, 64 steps, so 2048 rows when
 * the steps are stacked), plus the small sizes that place the crossover below which products stay in
 * TypeScript. The third column is the WebAssembly kernel with op(B) packed once beforehand (`PackedB`), as a
 * compiled plan runs the products that share a weight; its cost per product leaves the packing out.
 * Run with `pnpm --filter @tapestry/bench run matmul`.
 *
 * It imports core's sources directly (not the built package) so that it measures the working tree, and it
 * reports the best of many repetitions, since other processes on a shared machine only ever slow a run down.
 */
import { gemmTs } from '../../packages/core/src/kernels/matmul.js';
import { gemmWasm, gemmWasmPackedB, packBWasm, PackedB, wasmGemmAvailable, wasmGemmVariant } from '../../packages/core/src/kernels/wasm/gemm-wasm.js';

/** A kernel ready to run on operands it was set up with (setup packs B where the kernel takes it packed). */
type Kernel = (a: Float32Array, b: Float32Array, out: Float32Array, c: Case) => () => void;

const tsKernel: Kernel = (a, b, out, c) => () => gemmTs(a, 0, b, 0, out, 0, c.m, c.n, c.k, c.transA, c.transB);
const wasmKernel: Kernel = (a, b, out, c) => () => gemmWasm(a, 0, b, 0, out, 0, c.m, c.n, c.k, c.transA, c.transB);
const packedKernel: Kernel = (a, b, out, c) => {
  const packed = PackedB.reserve(c.k, c.n);
  packBWasm(packed, b, 0, c.transB);
  return () => gemmWasmPackedB(a, 0, packed, out, 0, c.m, c.transA);
};

interface Case {
  label: string;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
}

const product = (label: string, m: number, k: number, n: number, transA = false, transB = false): Case => ({ label, m, n, k, transA, transB });

/** Best time in ms of one product, repeating for about `budgetMs`. */
function bestTime(kernel: Kernel, c: Case, budgetMs: number): number {
  const a = Float32Array.from({ length: c.m * c.k }, () => Math.random() - 0.5);
  const b = Float32Array.from({ length: c.k * c.n }, () => Math.random() - 0.5);
  const out = new Float32Array(c.m * c.n);
  const run = kernel(a, b, out, c);
  for (let i = 0; i < 3; i++) run();
  let best = Infinity;
  const start = performance.now();
  do {
    // time several calls together when one is too short for the clock
    let reps = 1;
    for (;;) {
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) run();
      const dt = performance.now() - t0;
      if (dt > 0.5 || reps >= 1 << 16) {
        best = Math.min(best, dt / reps);
        break;
      }
      reps *= 4;
    }
  } while (performance.now() - start < budgetMs);
  return best;
}

function report(cases: Case[], budgetMs: number, packed: boolean): void {
  const width = 44;
  const packedHead = packed ? ` ${'packed B'.padStart(9)}` : '';
  console.log(`${'product'.padEnd(width)} ${'TS GFLOP/s'.padStart(11)} ${'WASM GFLOP/s'.padStart(13)}${packedHead} ${'speed-up'.padStart(9)}`);
  for (const c of cases) {
    const flops = 2 * c.m * c.n * c.k;
    const ts = flops / bestTime(tsKernel, c, budgetMs) / 1e6;
    const wasm = flops / bestTime(wasmKernel, c, budgetMs) / 1e6;
    const reuse = packed ? ` ${(flops / bestTime(packedKernel, c, budgetMs) / 1e6).toFixed(2).padStart(9)}` : '';
    console.log(`${c.label.padEnd(width)} ${ts.toFixed(2).padStart(11)} ${wasm.toFixed(2).padStart(13)}${reuse} ${(wasm / ts).toFixed(1).padStart(8)}×`);
  }
}

if (!wasmGemmAvailable()) throw new Error('WebAssembly SIMD is not available in this runtime');
// relaxed: the fused multiply-add build (Node 20: run with `npx tsx --experimental-wasm-relaxed-simd src/matmul.ts`)
console.log(`WebAssembly GEMM build: ${wasmGemmVariant()}`);

report(
  [
    product('256² · 256²', 256, 256, 256),
    product('1024² · 1024²', 1024, 1024, 1024),
    // per time step: h_t · W_hhᵀ forward, dgates_t · W_hh backward (W_hh stored [1024, 256])
    product('step h·Wᵀ [32,256]·[1024,256]ᵀ', 32, 256, 1024, false, true),
    product('step dg·W [32,1024]·[1024,256]', 32, 1024, 256),
    // all steps at once: input projections, the gradient of the layer input, weight gradients
    product('proj x·Wᵀ [2048,64]·[1024,64]ᵀ', 2048, 64, 1024, false, true),
    product('proj x·Wᵀ [2048,256]·[1024,256]ᵀ', 2048, 256, 1024, false, true),
    product('dX dg·W [2048,1024]·[1024,256]', 2048, 1024, 256),
    product('dW dgᵀ·h [2048,1024]ᵀ·[2048,256]', 1024, 2048, 256, true, false),
    product('readout [2048,256]·[81,256]ᵀ', 2048, 256, 81, false, true),
  ],
  1500,
  true,
);
console.log('\ncrossover (square m = n = k):');
report(
  [4, 8, 12, 16, 24, 32, 64].map((s) => product(`${s}³`, s, s, s)),
  300,
  false,
);
