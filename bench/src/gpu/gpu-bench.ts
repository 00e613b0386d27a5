/**
 * The GPU bench: matmul TFLOP/s (W4), W1, W2, W7 and W8 training throughput with the whole step compiled into
 * one submission (each row gives its dispatches and submissions per step, and the dispatches the same graph
 * takes without layout folding), and W3's forward pass, on the first WebGPU adapter (in Node through the `webgpu` package). Bundled by
 * `bench/device/gpu-bench.sh` to run on a GPU machine; `--tiny` runs it in seconds on llvmpipe.
 *
 *   node gpu-bench.mjs [--tiny] [--out results.json] [--steps N]
 *   node gpu-bench.mjs --count     # W7's and W8's dispatches per step at their real sizes, planned but not run
 */
import { writeFileSync } from 'node:fs';
import { create } from 'webgpu';
import { oneHot, optimize, tensor, trace, treeLeaves, Tensor } from '@tapestry/core';
import { compileGraph, webgpuDevice, type CompileGraphOptions, type KernelTime, type WebGpuBackend } from '@tapestry/webgpu';
import { charBatch, charTraining, oneHotTraining, patternText, W7_SIZES, W8_SIZES, type CharSizes, type CharTraining } from './char-step.js';
import { gpuTrainer } from './gpu-training.js';

interface Row {
  readonly workload: string;
  readonly library: string;
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  readonly detail?: Record<string, number | string>;
}

const args = process.argv.slice(2);
const tiny = args.includes('--tiny');
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : undefined;
const stepsAt = args.indexOf('--steps');
const timedSteps = stepsAt >= 0 ? Number(args[stepsAt + 1]) : tiny ? 3 : 30;

process.env.XDG_RUNTIME_DIR ??= '/tmp';
// kept for the whole run: Dawn's instance dies with this object
const gpu = create([]) as GPU;

async function main(): Promise<void> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) throw new Error('gpu-bench: no WebGPU adapter');
  const info = adapter.info;
  const backend = await webgpuDevice({ gpu });
  const device = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.trim();
  console.log(`gpu-bench: adapter ${device}; ${backend.compact ? 'compact (software) kernels' : 'unrolled kernels'}`);
  if (args.includes('--count')) {
    for (const [workload, sizes] of [
      ['W7', W7_SIZES],
      ['W8', W8_SIZES],
    ] as const)
      printCounts(backend, workload, sizes);
    backend.destroy();
    return;
  }
  // each row is printed and saved as soon as it is measured, so a run cut short (a device machine's time
  // limit) keeps what it measured; the headline rows come first: matmul at 4096², then W7
  const rows: Row[] = [];
  const record = (r: Row): void => {
    rows.push(r);
    console.log(formatRow(r));
    if (out !== undefined) writeFileSync(out, `${JSON.stringify({ device, date: new Date().toISOString(), rows }, null, 2)}\n`);
  };
  // each training workload twice: as compiled, and with every matrix product a kernel of its own (products
  // inlined into the elementwise kernels that read them are the default; this shows what they buy on this GPU)
  const variants: { readonly suffix: string; readonly options: CompileGraphOptions }[] = [
    { suffix: '', options: {} },
    { suffix: ', products as kernels', options: { inlineMatmul: false } },
  ];
  const sizes = tiny ? [128, 64] : [4096, 2048, 1024];
  for (const n of sizes) record(await matmulRow(backend, n));
  // the same products with the scalar tile layout, for comparison (the default reads its tiles as vec4s)
  const scalar = await webgpuDevice({ gpu, matmulTiles: 'scalar' });
  for (const n of sizes) record(await matmulRow(scalar, n, ', scalar tiles'));
  scalar.destroy();
  const charRows = async (workload: string, full: CharSizes): Promise<void> => {
    const s: CharSizes = tiny ? { ...full, vocab: 11, embeddingDim: 8, hiddenSize: full.hiddenSize / 16, batch: 4, steps: 8 } : full;
    const text = patternText(s.vocab, 20000);
    for (const { suffix, options } of variants) {
      record(
        await trainingRow(
          backend,
          workload,
          charTraining(s),
          (i) => {
            const b = charBatch(s, text, i * 977);
            return [b.ids, b.targets];
          },
          s.batch * s.steps,
          `2×${s.hiddenSize} LSTM, emb ${s.embeddingDim}, N=${s.batch} T=${s.steps}, clip ${s.clip}${suffix}`,
          options,
        ),
      );
    }
  };
  await charRows('W7', W7_SIZES);
  // W1–W3: the CPU bench's model (one-hot V = 65, one layer of H = 128, batch 32 × 64): W1 the LSTM's
  // training step, W2 the GRU's, W3 the LSTM's forward pass alone
  const w1 = tiny ? { vocab: 11, hidden: 16, batch: 4, steps: 8 } : { vocab: 65, hidden: 128, batch: 32, steps: 64 };
  const w1Label = `H=${w1.hidden} N=${w1.batch} T=${w1.steps}`;
  for (const [workload, cell] of [
    ['W1', 'lstm'],
    ['W2', 'gru'],
  ] as const) {
    for (const { suffix, options } of variants) {
      record(
        await trainingRow(backend, workload, oneHotTraining(cell, w1.vocab, w1.hidden), w1BatchOf(w1), w1.batch * w1.steps, `${w1Label}${suffix}`, options),
      );
    }
  }
  for (const { suffix, options } of variants) {
    record(await forwardRow(backend, 'W3', oneHotTraining('lstm', w1.vocab, w1.hidden), w1BatchOf(w1), w1.batch * w1.steps, `${w1Label}${suffix}`, options));
  }
  await charRows('W8', W8_SIZES);
  backend.destroy();
}

/** One row as the bench prints it: workload, library, label, value and unit, then the details. */
function formatRow(r: Row): string {
  const detail =
    r.detail === undefined
      ? ''
      : `  (${Object.entries(r.detail)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`;
  return `${r.workload.padEnd(4)} ${r.library.padEnd(16)} ${r.label.padEnd(44)} ${r.value.toFixed(r.value < 10 ? 2 : 0).padStart(10)} ${r.unit}${detail}`;
}

/** The dispatches per step of a char model's compiled step, with and without layout folding (planned, not run). */
function printCounts(backend: WebGpuBackend, workload: string, sizes: CharSizes): void {
  const training = charTraining(sizes);
  const b = charBatch(sizes, patternText(sizes.vocab, 20000), 0);
  const graph = optimize(trace(training.step, training.params, training.optState, b.ids, b.targets));
  const folded = compileGraph(backend, graph, { float64: 'float32' });
  const kernels = compileGraph(backend, graph, { float64: 'float32', inlineMatmul: false });
  const plain = compileGraph(backend, graph, { float64: 'float32', foldLayout: false });
  const by = (p: typeof folded) =>
    Object.entries(p.dispatchesByKernel)
      .sort((x, y) => y[1] - x[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  console.log(`${workload}: ${folded.dispatchesPerCall} dispatches per step (${by(folded)}), one submission`);
  console.log(`${workload} with every product a kernel: ${kernels.dispatchesPerCall} (${by(kernels)})`);
  console.log(`${workload} without layout folding: ${plain.dispatchesPerCall} (${by(plain)})`);
}

/** Matmul [n, n]·[n, n]: the best of a few timed batches of dispatches, each batch one submission. */
async function matmulRow(backend: WebGpuBackend, n: number, suffix = ''): Promise<Row> {
  const a = new Float32Array(n * n).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const b = new Float32Array(n * n).map((_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
  const sa = backend.upload(a);
  const sb = backend.upload(b);
  const sc = backend.allocate('float32', n * n);
  const run = backend.plan(
    'matmul',
    [
      { shape: [n, n], dtype: 'float32' },
      { shape: [n, n], dtype: 'float32' },
    ],
    { shape: [n, n], dtype: 'float32' },
    { transA: false, transB: false },
  );
  run([sa, sb], sc);
  await backend.sync();
  // a spot check of 8 entries against float64 dot products
  const c = await backend.read(sc);
  for (let s = 0; s < 8; s++) {
    const i = (s * 131) % n;
    const j = (s * 977) % n;
    let dot = 0;
    let mag = 0;
    for (let k = 0; k < n; k++) {
      dot += a[i * n + k]! * b[k * n + j]!;
      mag += Math.abs(a[i * n + k]! * b[k * n + j]!);
    }
    if (Math.abs(c[i * n + j]! - dot) > 1e-5 * mag + 1e-6) throw new Error(`gpu-bench: matmul ${n}² entry (${i}, ${j}) is ${c[i * n + j]}, expected ${dot}`);
  }
  // about 0.2 TFLOP per timed batch on a GPU (a few ms at the target), a handful of products on llvmpipe
  const reps = tiny ? 2 : Math.min(200, Math.max(2, Math.round(2e11 / (2 * n ** 3))));
  let best = Infinity;
  for (let trial = 0; trial < 5; trial++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) run([sa, sb], sc);
    await backend.sync();
    best = Math.min(best, (performance.now() - t0) / reps);
  }
  for (const s of [sa, sb, sc]) backend.release(s);
  return {
    workload: 'W4',
    library: 'tapestry-webgpu',
    label: `matmul ${n}² f32${suffix}`,
    value: (2 * n ** 3) / (best * 1e-3) / 1e12,
    unit: 'TFLOP/s',
    detail: { 'ms per product': Number(best.toFixed(3)) },
  };
}

function w1BatchOf(s: { vocab: number; batch: number; steps: number }): (i: number) => Tensor[] {
  const text = patternText(s.vocab, 20000);
  return (i) => {
    const b = charBatch({ ...W7_SIZES, vocab: s.vocab, batch: s.batch, steps: s.steps }, text, i * 977);
    return [oneHot(b.ids, s.vocab), tensor(b.targets.dataSync() as Int32Array, { shape: [s.batch * s.steps] })];
  };
}

/** Characters per second of a whole-step program: steps submitted back to back, the loss read at the end. */
async function trainingRow(
  backend: WebGpuBackend,
  workload: string,
  training: CharTraining,
  batchOf: (i: number) => Tensor[],
  chars: number,
  label: string,
  options: CompileGraphOptions,
): Promise<Row> {
  const first = batchOf(0);
  const t0 = performance.now();
  const trainer = gpuTrainer(backend, training, first[0]!, first[1]!, options);
  // the same graph planned without folding layout ops into kernels: the dispatch count it saves
  const unfolded = compileGraph(backend, trainer.graph, { foldLayout: false, float64: 'float32' }).dispatchesPerCall;
  const batches = Array.from({ length: 8 }, (_, i) => batchOf(i));
  let loss = trainer.step(batches[0]![0]!, batches[0]![1]!);
  const firstLoss = (await backend.read(loss))[0]!;
  const compileMs = performance.now() - t0;
  for (let i = 1; i < 3; i++) loss = trainer.step(batches[i % 8]![0]!, batches[i % 8]![1]!);
  await backend.sync();
  const before = { ...backend.stats };
  const t1 = performance.now();
  // the CPU's share: time inside step() (upload the batch, encode every dispatch, submit), which returns
  // without waiting for the GPU; when it nears the time per step, the step is bound by encoding, not the GPU
  let encodeMs = 0;
  for (let i = 0; i < timedSteps; i++) {
    const e0 = performance.now();
    loss = trainer.step(batches[i % 8]![0]!, batches[i % 8]![1]!);
    encodeMs += performance.now() - e0;
  }
  const lastLoss = (await backend.read(loss))[0]!;
  const ms = (performance.now() - t1) / timedSteps;
  const dispatches = (backend.stats.dispatches - before.dispatches) / timedSteps;
  // the timed loop's one read at the end is a submission of its own; the steps' are one each
  const submissions = (backend.stats.submissions - before.submissions) / timedSteps;
  // where the GPU time of a step goes: one more step with every kernel timed apart (timestamp queries)
  const kernels = backend.timestamps ? kernelSummary(await trainer.timedStep(batches[0]![0]!, batches[0]![1]!)) : undefined;
  return charsRow(workload, label, chars, ms, {
    'ms per step': Number(ms.toFixed(2)),
    'CPU ms per step in step()': Number((encodeMs / timedSteps).toFixed(2)),
    'dispatches per step': dispatches,
    'submissions per step': submissions,
    'dispatches without layout folding': unfolded,
    'compile+first step ms': Math.round(compileMs),
    ...(kernels === undefined ? {} : { 'GPU ms of one step, kernels timed apart': kernels.total, 'GPU ms by kind (dispatches)': kernels.byKind }),
    loss: `${firstLoss.toFixed(3)} → ${lastLoss.toFixed(3)}`,
  });
}

/** Characters per second of the compiled forward pass (the loss alone): calls submitted back to back, the loss read at the end. */
async function forwardRow(
  backend: WebGpuBackend,
  workload: string,
  model: ReturnType<typeof oneHotTraining>,
  batchOf: (i: number) => Tensor[],
  chars: number,
  label: string,
  options: CompileGraphOptions,
): Promise<Row> {
  const batches = Array.from({ length: 8 }, (_, i) => batchOf(i));
  const t0 = performance.now();
  const program = compileGraph(backend, optimize(trace(model.loss, model.params, batches[0]![0]!, batches[0]![1]!)), options);
  const params = treeLeaves(model.params)
    .filter((l): l is Tensor => l instanceof Tensor)
    .map((t) => backend.upload(t.dataSync() as Float32Array));
  const uploaded = batches.map((b) => b.map((t) => backend.upload(t.dataSync() as Float32Array | Int32Array)));
  const call = (i: number) => program.run([...params, ...uploaded[i % 8]!])[0]!;
  const firstLoss = (await backend.read(call(0)))[0]!;
  const compileMs = performance.now() - t0;
  for (let i = 1; i < 3; i++) call(i);
  await backend.sync();
  const before = { ...backend.stats };
  const t1 = performance.now();
  let encodeMs = 0;
  let loss = call(0);
  for (let i = 1; i < timedSteps; i++) {
    const e0 = performance.now();
    loss = call(i);
    encodeMs += performance.now() - e0;
  }
  await backend.read(loss);
  const ms = (performance.now() - t1) / timedSteps;
  const dispatches = (backend.stats.dispatches - before.dispatches) / timedSteps;
  for (const s of [...params, ...uploaded.flat()]) backend.release(s);
  return charsRow(workload, label, chars, ms, {
    'ms per forward': Number(ms.toFixed(2)),
    'CPU ms per call in run()': Number((encodeMs / Math.max(1, timedSteps - 1)).toFixed(2)),
    'dispatches per forward': dispatches,
    'compile+first call ms': Math.round(compileMs),
    loss: firstLoss.toFixed(3),
  });
}

/** A throughput row of tapestry on the GPU: `chars` characters in `ms` milliseconds. */
function charsRow(workload: string, label: string, chars: number, ms: number, detail: Record<string, number | string>): Row {
  return { workload, library: 'tapestry-webgpu', label, value: chars / (ms * 1e-3), unit: 'chars/s', detail };
}

/** A step's kernel times: their sum, and per kind of kernel its time and dispatches, the costliest first. */
function kernelSummary(times: readonly KernelTime[]): { total: number; byKind: string } {
  const kinds = new Map<string, { ms: number; count: number }>();
  for (const t of times) {
    const k = kinds.get(t.kernel) ?? { ms: 0, count: 0 };
    k.ms += t.ms;
    k.count++;
    kinds.set(t.kernel, k);
  }
  const total = times.reduce((sum, t) => sum + t.ms, 0);
  const byKind = [...kinds.entries()]
    .sort((x, y) => y[1].ms - x[1].ms)
    .map(([kind, { ms, count }]) => `${kind} ${ms.toFixed(2)} (${count})`)
    .join(', ');
  return { total: Number(total.toFixed(2)), byKind };
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
