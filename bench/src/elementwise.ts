/**
 * ns/element of the elementwise row loops, JavaScript against WebAssembly SIMD (kernels/wasm/elementwise-wasm.ts,
 * copies in and out included), on float32 rows of the lengths compiled and eager LSTM steps use: a binary op
 * with both operands varying and with a broadcast scalar, `where`, and the float32 exp, tanh and sigmoid.
 * Run with `pnpm --filter @tapestry/bench run elementwise`.
 *
 * It imports core's sources directly so that it measures the working tree, alternates the two back ends in
 * one process, and reports the best of many repetitions, since other processes on a shared machine only
 * ever slow a run down.
 */
import { binaryRange, unaryRange, whereRange, type BinaryCode, type UnaryCode } from '../../packages/core/src/kernels/elementwise.js';
import { elementwiseWasmAvailable, setElementwiseWasm } from '../../packages/core/src/kernels/wasm/elementwise-wasm.js';

const LENGTHS = [32, 64, 128, 512, 1024, 4096, 65536];

interface Case {
  readonly label: string;
  run(n: number): void;
}

const random = (n: number): Float32Array => Float32Array.from({ length: n }, () => Math.random() * 8 - 4);
const max = LENGTHS[LENGTHS.length - 1]!;
const a = random(max);
const b = random(max);
const mask = Int32Array.from({ length: max }, () => (Math.random() < 0.5 ? 1 : 0));
const out = new Float32Array(max);

const binary = (code: BinaryCode, as: number, bs: number): Case => ({
  label: `${code} (strides ${as}, ${bs})`,
  run: (n) => binaryRange(code, a, 0, as, b, 0, bs, out, 0, n),
});
const unary = (code: UnaryCode): Case => ({ label: code, run: (n) => unaryRange(code, a, 0, 1, out, 0, n) });

const CASES: Case[] = [
  binary('mul', 1, 1),
  binary('add', 1, 0),
  binary('sub', 0, 1),
  { label: 'where (int32 mask)', run: (n) => whereRange(mask, 0, 1, a, 0, 1, b, 0, 1, out, 0, n) },
  unary('exp'),
  unary('tanh'),
  unary('sigmoid'),
];

/** Best ns/element of `c` at length n, over about `budgetMs`. */
function best(c: Case, n: number, budgetMs: number): number {
  const reps = Math.max(1, Math.floor(100_000 / n));
  for (let r = 0; r < reps; r++) c.run(n);
  let bestMs = Infinity;
  const start = performance.now();
  do {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) c.run(n);
    bestMs = Math.min(bestMs, (performance.now() - t0) / reps);
  } while (performance.now() - start < budgetMs);
  return (bestMs * 1e6) / n;
}

if (!elementwiseWasmAvailable()) throw new Error('WebAssembly SIMD is not available in this runtime');
console.log(`${'row'.padEnd(22)} ${'n'.padStart(6)} ${'JS ns/el'.padStart(9)} ${'SIMD ns/el'.padStart(11)} ${'speed-up'.padStart(9)}`);
for (const c of CASES) {
  for (const n of LENGTHS) {
    setElementwiseWasm(false);
    const js = best(c, n, 300);
    setElementwiseWasm(true);
    const simd = best(c, n, 300);
    console.log(
      `${c.label.padEnd(22)} ${String(n).padStart(6)} ${js.toFixed(3).padStart(9)} ${simd.toFixed(3).padStart(11)} ${(js / simd).toFixed(1).padStart(8)}×`,
    );
  }
}
