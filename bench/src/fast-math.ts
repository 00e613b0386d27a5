/**
 * ns/element of float32 exp, tanh and sigmoid: `Math.*` against core's float32 kernels (`kernels/fast-math.ts`,
 * the JavaScript twins of the SIMD kernels, which emulate float32 arithmetic with `Math.fround`), on
 * Float32Array rows of 8192 elements (one fused LSTM-cell call at batch 32, hidden 256), plus the same
 * functions through `unaryRange`, the loop eager ops and fused (jit) kernels actually call, which runs rows
 * like these on the WebAssembly SIMD kernels. A multiply shows the cost of the loop itself. Run with
 * `cd bench && npx tsx src/fast-math.ts`.
 *
 * It imports core's sources directly so that it measures the working tree, and it reports the best of many
 * repetitions, since other processes on a shared machine only ever slow a run down.
 */
import { unaryRange, type UnaryCode } from '../../packages/core/src/kernels/elementwise.js';
import { expFloat32, expFloat32Range, sigmoidFloat32, sigmoidFloat32Range, tanhFloat32, tanhFloat32Range } from '../../packages/core/src/kernels/fast-math.js';

const ROW = 8192;

type RowKernel = (x: Float32Array, o: Float32Array) => void;

// One function per Math.* loop, so each is monomorphic, as the baseline deserves.
const mathExp: RowKernel = (x, o) => {
  for (let i = 0; i < x.length; i++) o[i] = Math.exp(x[i]!);
};
const mathTanh: RowKernel = (x, o) => {
  for (let i = 0; i < x.length; i++) o[i] = Math.tanh(x[i]!);
};
const mathSigmoid: RowKernel = (x, o) => {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v >= 0) o[i] = 1 / (1 + Math.exp(-v));
    else {
      const e = Math.exp(v);
      o[i] = e / (1 + e);
    }
  }
};
const multiply: RowKernel = (x, o) => {
  for (let i = 0; i < x.length; i++) o[i] = x[i]! * 1.5;
};
const viaUnaryRange =
  (code: UnaryCode): RowKernel =>
  (x, o) =>
    unaryRange(code, x, 0, 1, o, 0, x.length);

/** Best ns/element of `kernel` on `x`, repeating for about `budgetMs`. */
function bestNsPerElement(kernel: RowKernel, x: Float32Array, budgetMs: number): number {
  const o = new Float32Array(x.length);
  for (let i = 0; i < 50; i++) kernel(x, o);
  let best = Infinity;
  const start = performance.now();
  do {
    const reps = 20;
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) kernel(x, o);
    best = Math.min(best, (performance.now() - t0) / reps);
  } while (performance.now() - start < budgetMs);
  return (best * 1e6) / x.length;
}

/** Deterministic uniform values in [-limit, limit] (xorshift32), rounded to float32. */
function uniformRow(limit: number, seed: number): Float32Array {
  const row = new Float32Array(ROW);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < ROW; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    row[i] = ((s / 2 ** 32) * 2 - 1) * limit;
  }
  return row;
}

/** Feeds unaryRange float64 rows too, so its feedback is as polymorphic as in a process that runs both dtypes. */
function warmUnaryRangeWithFloat64(): void {
  const x = Float64Array.from(uniformRow(4, 7));
  const o = new Float64Array(ROW);
  for (let i = 0; i < 20; i++) for (const code of ['exp', 'tanh', 'sigmoid'] as const) unaryRange(code, x, 0, 1, o, 0, ROW);
}

function main(): void {
  const budgetMs = Number(process.argv[2] ?? 400);
  // Pre-activations of LSTM gates are mostly within a few units of 0; random signs defeat branch prediction.
  const gates = uniformRow(5, 1);
  const wide = uniformRow(80, 2);
  // sanity: the float32 kernels compute the functions they claim to (to float32 precision)
  for (const [f, g] of [
    [expFloat32, Math.exp],
    [tanhFloat32, Math.tanh],
    [sigmoidFloat32, (v: number) => 1 / (1 + Math.exp(-v))],
  ] as const) {
    for (const v of gates) if (Math.abs(f(v) - g(v)) > 2.5e-7 * Math.abs(g(v))) throw new Error(`fast-math bench: wrong value at ${v}`);
  }
  warmUnaryRangeWithFloat64();

  const rows: [string, RowKernel, RowKernel, RowKernel][] = [
    ['exp', mathExp, (x, o) => expFloat32Range(x, 0, 1, o, 0, x.length), viaUnaryRange('exp')],
    ['tanh', mathTanh, (x, o) => tanhFloat32Range(x, 0, 1, o, 0, x.length), viaUnaryRange('tanh')],
    ['sigmoid', mathSigmoid, (x, o) => sigmoidFloat32Range(x, 0, 1, o, 0, x.length), viaUnaryRange('sigmoid')],
  ];
  console.log(`float32 rows of ${ROW}; best of repetitions over ~${budgetMs} ms each; ns/element`);
  console.log(`multiply (loop cost): ${bestNsPerElement(multiply, gates, budgetMs).toFixed(2)}`);
  console.log(
    `${'function'.padEnd(9)} ${'inputs'.padEnd(11)} ${'Math.*'.padStart(7)} ${'float32'.padStart(7)} ${'speed-up'.padStart(9)} ${'unaryRange'.padStart(11)}`,
  );
  for (const [name, reference, fast, kernel] of rows) {
    for (const [label, x] of [
      ['[-5, 5]', gates],
      ['[-80, 80]', wide],
    ] as const) {
      const m = bestNsPerElement(reference, x, budgetMs);
      const f = bestNsPerElement(fast, x, budgetMs);
      const k = bestNsPerElement(kernel, x, budgetMs);
      console.log(
        `${name.padEnd(9)} ${label.padEnd(11)} ${m.toFixed(2).padStart(7)} ${f.toFixed(2).padStart(7)} ${(m / f).toFixed(1).padStart(8)}× ${k.toFixed(2).padStart(11)}`,
      );
    }
  }
}

main();
