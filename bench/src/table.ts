/** The run's results as a plain-text table, one line per library per case. */
import { isMemoryCase, type BenchResult, type MemoryCase, type TimedCase } from './results.js';

const fixed = (x: number | undefined, digits: number): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const compact = (x: number | undefined): string => (x === undefined ? '-' : x >= 1e4 ? Math.round(x).toLocaleString('en-US') : x.toFixed(0));

function pad(cells: string[][]): string[] {
  const widths = cells[0]!.map((_, j) => Math.max(...cells.map((row) => row[j]!.length)));
  return cells.map((row) =>
    row
      .map((cell, j) => (j < 3 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!)))
      .join('  ')
      .trimEnd(),
  );
}

function timedLines(id: string, c: TimedCase, tfjs: readonly string[], torch: readonly string[]): string[][] {
  const check = `${c.agree ? 'same' : 'DIFFERENT'} (max Δ ${c.maxDifference.toExponential(1)})`;
  return c.rows.map((row, i) => [
    i === 0 ? id : '',
    i === 0 ? c.label : i === 1 ? check : '',
    row.library,
    fixed(row.medianMs, row.medianMs < 10 ? 2 : 1),
    compact(row.tokensPerSec),
    fixed(row.gflops, 2),
    i === 0 ? '' : `${fixed(row.firstOverThis, 2)}×`,
    ...tfjs.map((library) => (row.speedOverTfjs?.[library] === undefined ? '' : `${fixed(row.speedOverTfjs[library], 2)}×`)),
    ...torch.map((library) => (row.timeOverPytorch?.[library] === undefined ? '' : `${fixed(row.timeOverPytorch[library], 2)}×`)),
  ]);
}

/** The reference rows (TensorFlow.js, PyTorch) that any timed case compares with, in order of appearance: one column each. */
function referenceLibraries(result: BenchResult, field: 'speedOverTfjs' | 'timeOverPytorch'): string[] {
  const seen = new Set<string>();
  for (const w of result.workloads)
    for (const c of w.cases) if (!isMemoryCase(c)) for (const r of c.rows) Object.keys(r[field] ?? {}).forEach((l) => seen.add(l));
  return [...seen];
}

function memoryLines(id: string, c: MemoryCase): string[][] {
  const check = `${c.agree ? 'same' : 'DIFFERENT'} loss (max Δ ${c.maxDifference.toExponential(1)})`;
  return c.rows.map((row, i) => [
    i === 0 ? id : '',
    i === 0 ? c.label : i === 1 ? check : '',
    row.library,
    fixed(row.rssBeforeMB, 0),
    fixed(row.peakRssMB, 0),
    fixed(row.forwardLiveMB, 1),
    i === 0 ? '' : `${fixed(row.tapestryPeakOverThis, 2)}×`,
  ]);
}

/** Formats `result` as the tables the CLI prints. */
export function formatTable(result: BenchResult): string {
  const tfjs = referenceLibraries(result, 'speedOverTfjs');
  const torch = referenceLibraries(result, 'timeOverPytorch');
  const timed: string[][] = [
    [
      'workload',
      'case / check',
      'library',
      'median ms',
      'tokens/s',
      'GFLOP/s',
      'first ÷ this (speed)',
      ...tfjs.map((l) => `this ÷ ${l} (speed)`),
      ...torch.map((l) => `time ÷ ${l}`),
    ],
  ];
  const memory: string[][] = [
    ['workload', 'case / check', 'library', 'RSS before MB', 'peak RSS MB', 'heap+buffers at fwd end MB', 'tapestry ÷ this (peak RSS)'],
  ];
  const errors: string[] = [];
  for (const w of result.workloads) {
    if (w.error) errors.push(`${w.id} ${w.title}: FAILED: ${w.error}`);
    if (w.skipped) errors.push(`${w.id} ${w.title}: skipped: ${w.skipped}`);
    for (const c of w.cases) {
      if (isMemoryCase(c)) memory.push(...memoryLines(`${w.id} ${w.title}`, c));
      else timed.push(...timedLines(`${w.id} ${w.title}`, c, tfjs, torch));
    }
  }
  const pytorch = result.pytorch === undefined ? '' : 'version' in result.pytorch ? ` and PyTorch ${result.pytorch.version}` : '';
  const out = [
    `tapestry vs TensorFlow.js ${result.tfjsVersion}${pytorch} — ${result.mode} run ${result.date}, Node ${result.node}${result.gemm === undefined ? '' : ` (GEMM: ${result.gemm ?? 'TypeScript'})`}, ${result.cores} × ${result.cpu}, load ${result.loadAverage.map((l) => l.toFixed(2)).join(' ')}`,
    `medians over ${result.steps} steps after ${result.warmup} warm-up steps; "first ÷ this" > 1 means the first row (eager tapestry) is faster than this row;`,
    `"this ÷ tfjs-…" > 1 means this row is faster than that TensorFlow.js backend; "time ÷ pytorch (…)" < 1 means this row takes less time than PyTorch at that thread count`,
    '',
  ];
  if (result.pytorch !== undefined && 'missing' in result.pytorch) out.push(`PyTorch rows skipped: ${result.pytorch.missing}`, '');
  if (timed.length > 1) out.push(...pad(timed), '');
  if (memory.length > 1) out.push(...pad(memory), '');
  out.push(...errors);
  return out.join('\n');
}
