/** The shape of a benchmark run's results, as written to bench/results/*.json. */
import type { MemoryMeasurement } from './memory.js';
import type { PytorchAvailability } from './pytorch.js';
import type { BenchSizes } from './sizes.js';
import type { WorkloadId } from './workloads.js';

/** One library's figures in a timed case. */
export interface TimedRow {
  readonly library: string;
  /** Median milliseconds per step. */
  readonly medianMs: number;
  /** Every timed step's milliseconds. */
  readonly times: readonly number[];
  /** Tokens (N·T) per second at the median (model workloads). */
  readonly tokensPerSec?: number;
  /** Model FLOPs per second at the median, in GFLOP/s (see flops.ts). */
  readonly gflops: number;
  /**
   * The first row's speed divided by this row's (this row's median time ÷ the first row's): above 1 the
   * first row (tapestry) is faster. 1 for the first row itself.
   */
  readonly firstOverThis: number;
  /**
   * This row's speed relative to each TensorFlow.js backend of the case, by library (`tfjs-cpu`, …): that
   * backend's median time ÷ this row's, so above 1 this row is faster. Set on the rows that are not
   * TensorFlow.js (eager and jitted tapestry) when a TensorFlow.js backend ran.
   */
  readonly speedOverTfjs?: Readonly<Record<string, number>>;
  /**
   * This row's median time divided by each PyTorch row's (`pytorch (1 thread)`, …): below 1 this row is
   * faster. Set on the tapestry rows when PyTorch ran.
   */
  readonly timeOverPytorch?: Readonly<Record<string, number>>;
  /** The values of the warm-up steps (losses, or sampled outputs for W4). */
  readonly warmupValues: readonly (readonly number[])[];
}

/** A timed case of W1–W5 or W7. */
export interface TimedCase {
  readonly label: string;
  /** What the agreement check compares. */
  readonly checked: string;
  readonly tolerance: number;
  /** Largest difference from the first row's warm-up values. */
  readonly maxDifference: number;
  /** Whether every library agreed with the first within the tolerance. */
  readonly agree: boolean;
  readonly rows: readonly TimedRow[];
}

/** W6 at one sequence length. */
export interface MemoryCase {
  readonly label: string;
  /** Largest difference between tapestry's first-step loss and another library's. */
  readonly maxDifference: number;
  readonly agree: boolean;
  /** Each library's measurement plus tapestry's peak RSS ÷ this library's. */
  readonly rows: readonly (MemoryMeasurement & { readonly tapestryPeakOverThis: number })[];
}

/** One workload's results; `error` is set when it failed (the rest of the run goes on). */
export interface WorkloadResult {
  readonly id: WorkloadId;
  readonly title: string;
  readonly cases: readonly (TimedCase | MemoryCase)[];
  readonly error?: string;
  /** Why the workload has no cases when none of the selected libraries runs it (W4 and W6 have no jit row). */
  readonly skipped?: string;
}

/** A whole run. */
export interface BenchResult {
  /** ISO time the run started. */
  readonly date: string;
  readonly mode: 'full' | 'quick' | 'smoke';
  readonly node: string;
  /**
   * Which build of core's WebAssembly GEMM ran: relaxed SIMD's fused multiply-add, plain SIMD, or none
   * (TypeScript kernels); absent in results written before it was recorded.
   */
  readonly gemm?: 'relaxed' | 'simd' | null;
  readonly cpu: string;
  readonly cores: number;
  /** 1, 5 and 15-minute load averages when the run started (a busy machine slows every library). */
  readonly loadAverage: readonly number[];
  readonly tfjsVersion: string;
  /** Whether PyTorch ran (its version) or why its rows are missing; absent when `pytorch` was not selected. */
  readonly pytorch?: PytorchAvailability;
  readonly sizes: BenchSizes;
  readonly warmup: number;
  readonly steps: number;
  readonly workloads: readonly WorkloadResult[];
}

/** Whether a case is a W6 memory case. */
export function isMemoryCase(c: TimedCase | MemoryCase): c is MemoryCase {
  return c.rows.length > 0 && 'peakRssMB' in c.rows[0]!;
}
