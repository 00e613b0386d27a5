/**
 * Runs the libraries of one workload alternately in one process: a warm-up whose results must agree across
 * libraries (the check that they do the same work), then timed steps in interleaved blocks, so that a burst
 * of load on a shared machine falls on every library rather than on one. Each block starts from a collected
 * heap and the order of the libraries rotates from round to round, so that no library's steps pay for the
 * garbage another one left behind (a jitted step leaves megabytes of JavaScript objects; an eager one,
 * about a hundred megabytes of tensors) or always run in the same place after it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** One library's side of a workload. */
export interface Runner {
  /** `tapestry`, `tfjs-cpu`, `tfjs-wasm`, … */
  readonly library: string;
  /** Prepares the library before a block of steps (TensorFlow.js: switch to its backend). */
  activate(): Promise<void>;
  /** One step of the workload; returns the values to compare across libraries (a loss, sampled outputs). */
  step?(): readonly number[];
  /**
   * Runs `steps` steps and returns each one's values and milliseconds: for a library in another process,
   * which times its own steps (PyTorch). A runner has `step` or `run`.
   */
  run?(steps: number): Promise<{ readonly values: readonly (readonly number[])[]; readonly times: readonly number[] }>;
  /**
   * Untimed steps this runner takes after the common warm-up to reach its steady speed (default 0): a
   * @tapestry/parallel pool's worker threads, whose code V8 compiles in the background while both cores
   * compute, ran their first dozen steps 1.5–4 times slower than their steady ones.
   */
  readonly settleSteps?: number;
}

/** How long to run. */
export interface TimingOptions {
  /** Untimed steps per library before timing; their values are compared across libraries. */
  readonly warmup: number;
  /** Timed steps per library (the median is reported). */
  readonly steps: number;
  /** Agreement required of the warm-up values: |a − b| ≤ tolerance · max(1, |a|). */
  readonly tolerance: number;
}

/** What one library measured. */
export interface RunnerTiming {
  readonly library: string;
  /** Milliseconds of every timed step, in order. */
  readonly times: readonly number[];
  readonly medianMs: number;
  /** The values of the warm-up steps (losses for model workloads). */
  readonly warmupValues: readonly (readonly number[])[];
}

/** The result of a workload: each library's timings and whether they computed the same thing. */
export interface WorkloadTiming {
  readonly runners: readonly RunnerTiming[];
  /** Largest difference between the first library's warm-up values and any other's. */
  readonly maxDifference: number;
  /** True when every library's warm-up values agree with the first's within the tolerance. */
  readonly agree: boolean;
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * A full garbage collection, run between blocks (untimed). V8 exposes `gc` only to contexts created after
 * `--expose-gc` is set, hence the fresh context.
 */
const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/** Runs `count` steps of `runner`: its values and times. */
async function runSteps(runner: Runner, count: number): Promise<{ values: number[][]; times: number[] }> {
  if (runner.run !== undefined) {
    const { values, times } = await runner.run(count);
    return { values: values.map((v) => [...v]), times: [...times] };
  }
  const values: number[][] = [];
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    values.push([...runner.step!()]);
    times.push(performance.now() - start);
  }
  return { values, times };
}

/** Runs `runners` (the first is the reference) as described in the module comment. */
export async function timeRunners(runners: readonly Runner[], options: TimingOptions): Promise<WorkloadTiming> {
  const warmupValues = new Map<Runner, number[][]>();
  for (const runner of runners) {
    await runner.activate();
    warmupValues.set(runner, (await runSteps(runner, options.warmup)).values);
  }
  // the runners that need more steps than the common warm-up to reach their speed take them now, untimed
  for (const runner of runners) {
    if ((runner.settleSteps ?? 0) === 0) continue;
    await runner.activate();
    await runSteps(runner, runner.settleSteps!);
  }
  const reference = warmupValues.get(runners[0]!)!;
  let maxDifference = 0;
  let agree = true;
  for (const runner of runners.slice(1)) {
    warmupValues.get(runner)!.forEach((values, i) =>
      values.forEach((value, j) => {
        const expected = reference[i]![j]!;
        const diff = Math.abs(value - expected);
        maxDifference = Math.max(maxDifference, diff);
        if (!(diff <= options.tolerance * Math.max(1, Math.abs(expected)))) agree = false;
      }),
    );
  }

  // about three rounds of blocks, so each library's steps are spread over the whole run
  const block = Math.max(1, Math.ceil(options.steps / 3));
  const times = new Map<Runner, number[]>(runners.map((r) => [r, []]));
  for (let done = 0, round = 0; done < options.steps; done += block, round++) {
    for (let k = 0; k < runners.length; k++) {
      const runner = runners[(k + round) % runners.length]!;
      await runner.activate();
      collectGarbage();
      times.get(runner)!.push(...(await runSteps(runner, Math.min(block, options.steps - done))).times);
    }
  }
  return {
    runners: runners.map((r) => ({ library: r.library, times: times.get(r)!, medianMs: median(times.get(r)!), warmupValues: warmupValues.get(r)! })),
    maxDifference,
    agree,
  };
}
