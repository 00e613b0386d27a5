/**
 * GFLOP/s of the float32 GEMM kernels, TypeScript against WebAssembly SIMD, at square sizes and at the
 * shapes of one LSTM step (batch 32, input 256, hidden 256 → gates 1024; a 2048 × 256 → 80 readout), plus
 * the small sizes that place the crossover below which products stay in TypeScript.
 * Run with `pnpm --filter @tapestry/bench run matmul`.
 *
 * It imports core's sources directly (not the built package) so that it measures the working tree, and it
 * reports the best of many repetitions, since other processes on a shared machine only ever slow a run down.
 */
import { gemmTs } from '../../packages/core/src/kernels/matmul.js';
import { gemmWasm, wasmGemmAvailable } from '../../packages/core/src/kernels/wasm/gemm-wasm.js';

type Kernel = typeof gemmWasm;

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
  const run = (): void => kernel(a, 0, b, 0, out, 0, c.m, c.n, c.k, c.transA, c.transB);
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

function report(cases: Case[], budgetMs: number): void {
  console.log(`${'product'.padEnd(34)} ${'TS GFLOP/s'.padStart(11)} ${'WASM GFLOP/s'.padStart(13)} ${'speed-up'.padStart(9)}`);
  for (const c of cases) {
    const flops = 2 * c.m * c.n * c.k;
    const ts = flops / bestTime(gemmTs, c, budgetMs) / 1e6;
    const wasm = flops / bestTime(gemmWasm, c, budgetMs) / 1e6;
    console.log(`${c.label.padEnd(34)} ${ts.toFixed(2).padStart(11)} ${wasm.toFixed(2).padStart(13)} ${(wasm / ts).toFixed(1).padStart(8)}×`);
  }
}

if (!wasmGemmAvailable()) throw new Error('WebAssembly SIMD is not available in this runtime');

report(
  [
    product('256² · 256²', 256, 256, 256),
    product('1024² · 1024²', 1024, 1024, 1024),
    product('LSTM x·W  [32,256]·[256,1024]', 32, 256, 1024),
    product('LSTM dX ct·Wᵀ [32,1024]·[1024,256]ᵀ', 32, 1024, 256, false, true),
    product('LSTM dW xᵀ·ct [256,32]ᵀ·[32,1024]', 256, 32, 1024, true, false),
    product('readout [2048,256]·[256,80]', 2048, 256, 80),
    product('readout dW [256,2048]ᵀ·[2048,80]', 256, 2048, 80, true, false),
  ],
  1500,
);
console.log('\ncrossover (square m = n = k):');
report([4, 8, 12, 16, 24, 32, 64].map((s) => product(`${s}³`, s, s, s)), 300);
