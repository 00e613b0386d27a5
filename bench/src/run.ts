/** Runs the selected workloads and collects a {@link BenchResult}; the CLI and the smoke test both call it. */
import { cpus, loadavg } from 'node:os';
import { version } from '@tensorflow/tfjs';
import { wasmGemmVariant } from '../../packages/core/src/kernels/wasm/gemm-wasm.js';
import { timeRunners } from './harness.js';
import { measureMemory, measureMemoryIsolated, type MemoryLibrary, type MemoryMeasurement } from './memory.js';
import { DEFAULT_PYTHON, pytorchAvailability } from './pytorch.js';
import type { BenchResult, MemoryCase, TimedCase, WorkloadResult } from './results.js';
import type { BenchSizes } from './sizes.js';
import { LIBRARIES, WORKLOAD_TITLES, WORKLOADS, isPytorch, isTfjs, workloadCases, type Library, type PytorchContext, type WorkloadId } from './workloads.js';

/** What to run. */
export interface BenchOptions {
  readonly mode: BenchResult['mode'];
  readonly sizes: BenchSizes;
  /** Untimed steps per library before timing (≥ 2 for training workloads, so the check covers an Adam update). */
  readonly warmup: number;
  /** Timed steps per library. */
  readonly steps: number;
  readonly workloads?: readonly WorkloadId[];
  readonly libraries?: readonly Library[];
  /** Run each W6 measurement in a fresh process (default true). */
  readonly isolateMemory?: boolean;
  /** Training steps per W6 measurement (default 2). */
  readonly memoryTrainSteps?: number;
  /** The Python whose torch gives the PyTorch rows (default /usr/bin/python3). */
  readonly python?: string;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

async function timedWorkload(
  id: Exclude<WorkloadId, 'W6'>,
  options: BenchOptions,
  libraries: readonly Library[],
  pytorch: PytorchContext,
): Promise<TimedCase[]> {
  const out: TimedCase[] = [];
  for (const c of await workloadCases(id, options.sizes, libraries, pytorch)) {
    try {
      if (c.runners.length === 0) continue;
      const timing = await timeRunners(c.runners, { warmup: options.warmup, steps: options.steps, tolerance: c.tolerance });
      const first = timing.runners[0]!;
      const tfjs = timing.runners.filter((r) => isTfjs(r.library));
      const torch = timing.runners.filter((r) => isPytorch(r.library));
      const ours = (library: string): boolean => library.startsWith('tapestry');
      out.push({
        label: c.label,
        checked: c.checked,
        tolerance: c.tolerance,
        maxDifference: timing.maxDifference,
        agree: timing.agree,
        rows: timing.runners.map((r) => ({
          library: r.library,
          medianMs: r.medianMs,
          times: r.times,
          ...(c.tokens === undefined ? {} : { tokensPerSec: c.tokens / (r.medianMs / 1000) }),
          gflops: c.flops / (r.medianMs / 1000) / 1e9,
          firstOverThis: r.medianMs / first.medianMs,
          ...(!ours(r.library) || tfjs.length === 0 ? {} : { speedOverTfjs: Object.fromEntries(tfjs.map((t) => [t.library, t.medianMs / r.medianMs])) }),
          ...(!ours(r.library) || torch.length === 0 ? {} : { timeOverPytorch: Object.fromEntries(torch.map((t) => [t.library, r.medianMs / t.medianMs])) }),
          warmupValues: r.warmupValues,
        })),
      });
    } finally {
      c.dispose();
    }
  }
  return out;
}

async function memoryWorkload(options: BenchOptions, libraries: readonly Library[]): Promise<MemoryCase[]> {
  const out: MemoryCase[] = [];
  const trainSteps = options.memoryTrainSteps ?? 2;
  // W6 samples memory inside the eager forward pass, which a jitted step does not run: no tapestry-jit row;
  // and it measures this process's memory, which PyTorch's is not: no PyTorch row
  const measured = libraries.filter((l): l is MemoryLibrary => l !== 'tapestry-jit' && l !== 'pytorch');
  if (measured.length === 0) return out;
  for (const steps of options.sizes.memorySteps) {
    const rows: MemoryMeasurement[] = [];
    for (const library of measured) {
      options.log?.(`  W6 ${library} T=${steps}`);
      rows.push(
        options.isolateMemory === false
          ? await measureMemory(library, options.sizes, steps, trainSteps)
          : await measureMemoryIsolated(library, options.sizes, steps, trainSteps),
      );
    }
    const reference = rows[0]!;
    const diffs = rows.slice(1).map((r) => Math.abs(r.loss - reference.loss));
    const maxDifference = Math.max(0, ...diffs);
    out.push({
      label: `T=${steps} (N=${options.sizes.batch} H=${options.sizes.hidden})`,
      maxDifference,
      agree: diffs.every((d) => d <= 1e-4 * Math.max(1, Math.abs(reference.loss))),
      rows: rows.map((r) => ({ ...r, tapestryPeakOverThis: reference.peakRssMB / r.peakRssMB })),
    });
  }
  return out;
}

/** Runs the benchmark. A workload that throws is reported with its error; the others still run. */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const libraries = options.libraries ?? LIBRARIES;
  const date = new Date().toISOString();
  const loadAverage = loadavg();
  const python = options.python ?? DEFAULT_PYTHON;
  const pytorch: PytorchContext = { python, availability: libraries.includes('pytorch') ? pytorchAvailability(python) : undefined };
  if (pytorch.availability !== undefined && 'missing' in pytorch.availability) options.log?.(`PyTorch rows skipped: ${pytorch.availability.missing}`);
  const workloads: WorkloadResult[] = [];
  for (const id of options.workloads ?? WORKLOADS) {
    const title = WORKLOAD_TITLES[id];
    options.log?.(`${id} ${title} …`);
    const started = performance.now();
    try {
      const cases = id === 'W6' ? await memoryWorkload(options, libraries) : await timedWorkload(id, options, libraries, pytorch);
      workloads.push(cases.length > 0 ? { id, title, cases } : { id, title, cases, skipped: `none of ${libraries.join(', ')} runs it` });
    } catch (error) {
      workloads.push({ id, title, cases: [], error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
    options.log?.(`${id} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return {
    date,
    mode: options.mode,
    node: process.versions.node,
    gemm: wasmGemmVariant(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAverage,
    tfjsVersion: version.tfjs,
    ...(pytorch.availability === undefined ? {} : { pytorch: pytorch.availability }),
    sizes: options.sizes,
    warmup: options.warmup,
    steps: options.steps,
    workloads,
  };
}
