/**
 * Learning-rate schedules: functions from the 0-based update count (a 0-d int32 tensor) to a value (a 0-d
 * float tensor on the count's device, see {@link scheduleDtype}), built from core ops so they trace. Each has
 * a closed form, evaluated in float64 in the order the JS expression in its comment reads (so the values are
 * those of that expression; float32 on a device without float64); where
 * PyTorch has an equivalent `torch.optim.lr_scheduler` class, the value at count k is the learning rate
 * that scheduler holds after k calls of `scheduler.step()` (so in a loop of
 * `optimizer.step(); scheduler.step()` it is the rate used by update k). {@link scheduleValue} reads a
 * schedule at a JS step, for logs and plots.
 */
import {
  add,
  ArgumentError,
  cast,
  cpu,
  cos,
  div,
  expectFinite,
  expectNonNegative,
  expectPositive,
  expectPositiveInteger,
  floor,
  greaterEqual,
  maximum,
  minimum,
  mul,
  pow,
  scalar,
  sub,
  where,
  type Backend,
  type Tensor,
} from '@tapestry/core';
import type { ScalarOrSchedule, Schedule } from './base.js';
import { checkOptions, checkStep } from './internal/options.js';
import { scalarFloat, scalarOn } from './internal/scalars.js';
import { checkCount, checkScheduleValue } from './internal/schedule-checks.js';

/**
 * The dtype a schedule returns for a count on `device` (default the CPU): float64 where the device holds it,
 * float32 where it does not (WebGPU). A schedule written by hand computes in it, so the same schedule serves
 * a step on either device.
 *
 * @example
 * ```ts
 * const lr: Schedule = (count) => div(1e-3, sqrt(add(cast(count, scheduleDtype(count.backend)), 1)));
 * scheduleDtype(); // 'float64'
 * ```
 */
export function scheduleDtype(device: Backend = cpu): 'float64' | 'float32' {
  return scalarFloat(device);
}

/** The count as a float step (float64 on the CPU), after checking that it is a count. */
function stepOf(fn: string, count: unknown): Tensor {
  const c = checkCount(fn, count);
  return cast(c, scalarFloat(c.backend));
}

/**
 * The value of a schedule (or a constant) at a JS step: `schedule` evaluated on the count `step`, read
 * back as a number. For logging and plotting; inside a training step the optimiser evaluates the schedule
 * on its own count tensor.
 *
 * @example
 * ```ts
 * const lr = cosineDecay({ initValue: 0.1, decaySteps: 100 });
 * scheduleValue(lr, 50); // 0.05
 * scheduleValue(0.1, 50); // 0.1
 * ```
 */
export function scheduleValue(schedule: ScalarOrSchedule, step: number): number {
  const fn = 'scheduleValue';
  const k = checkStep(fn, 'step', step);
  if (typeof schedule === 'number') return schedule;
  if (typeof schedule !== 'function') {
    throw new ArgumentError(`${fn}: schedule must be a number or a schedule function, got ${typeof schedule}`);
  }
  const count = scalar(k, 'int32');
  return checkScheduleValue(fn, 'the schedule', schedule(count), count).item();
}

/**
 * A schedule that always returns `value`.
 *
 * @example
 * ```ts
 * scheduleValue(constant(0.1), 1000); // 0.1
 * ```
 */
export function constant(value: number): Schedule {
  const fn = 'constant';
  const v = expectFinite(fn, 'value', value);
  return (count) => {
    const c = checkCount(fn, count);
    return scalarOn(c.backend, v, scalarFloat(c.backend));
  };
}

/** Options of {@link stepDecay}. */
export interface StepDecayOptions {
  /** The value at step 0. */
  initValue: number;
  /** Decay once every `stepSize` steps. */
  stepSize: number;
  /** Multiplicative factor of each decay (default 0.1, as StepLR). */
  gamma?: number;
}

/**
 * `initValue · gamma^floor(step / stepSize)`: PyTorch's `StepLR(step_size, gamma)`.
 *
 * @example
 * ```ts
 * const lr = stepDecay({ initValue: 0.1, stepSize: 30, gamma: 0.1 });
 * scheduleValue(lr, 29); // 0.1
 * scheduleValue(lr, 30); // 0.01
 * ```
 */
export function stepDecay(options: StepDecayOptions): Schedule {
  const fn = 'stepDecay';
  checkOptions(fn, options, ['initValue', 'stepSize', 'gamma'], true);
  const init = expectFinite(fn, 'initValue', options.initValue);
  const stepSize = expectPositiveInteger(fn, 'stepSize', options.stepSize);
  const gamma = expectNonNegative(fn, 'gamma', options.gamma ?? 0.1);
  // init * gamma ** Math.floor(step / stepSize)
  return (count) => mul(init, pow(gamma, floor(div(stepOf(fn, count), stepSize))));
}

/** Options of {@link exponentialDecay}. */
export interface ExponentialDecayOptions {
  /** The value at step 0. */
  initValue: number;
  /** Factor applied every `transitionSteps` steps. */
  decayRate: number;
  /** Steps per application of `decayRate` (default 1). */
  transitionSteps?: number;
  /** Decay in discrete jumps (`floor(step / transitionSteps)`) rather than continuously (default false). */
  staircase?: boolean;
}

/**
 * `initValue · decayRate^(step / transitionSteps)` (exponent floored with `staircase`). With the defaults
 * it is PyTorch's `ExponentialLR(gamma = decayRate)`.
 *
 * @example
 * ```ts
 * const lr = exponentialDecay({ initValue: 0.1, decayRate: 0.9 });
 * scheduleValue(lr, 2); // 0.081
 * ```
 */
export function exponentialDecay(options: ExponentialDecayOptions): Schedule {
  const fn = 'exponentialDecay';
  checkOptions(fn, options, ['initValue', 'decayRate', 'transitionSteps', 'staircase'], true);
  const init = expectFinite(fn, 'initValue', options.initValue);
  const rate = expectNonNegative(fn, 'decayRate', options.decayRate);
  const transition = expectPositive(fn, 'transitionSteps', options.transitionSteps ?? 1);
  const staircase = options.staircase ?? false;
  // p = step / transition; init * rate ** (staircase ? Math.floor(p) : p)
  return (count) => {
    const p = div(stepOf(fn, count), transition);
    return mul(init, pow(rate, staircase ? floor(p) : p));
  };
}

/** Options of {@link cosineDecay}. */
export interface CosineDecayOptions {
  /** The value at step 0. */
  initValue: number;
  /** Steps over which the value falls to `minValue`. */
  decaySteps: number;
  /** The value reached at `decaySteps` and kept afterwards (PyTorch's `eta_min`; default 0). */
  minValue?: number;
}

/**
 * Half a cosine from `initValue` down to `minValue` over `decaySteps`, then `minValue`:
 * `minValue + (initValue − minValue)·(1 + cos(π·step/decaySteps))/2`. For steps up to `decaySteps` this is
 * PyTorch's `CosineAnnealingLR(T_max = decaySteps, eta_min = minValue)`; past it PyTorch's curve rises
 * again, while this one stays at `minValue` (as optax's `cosine_decay_schedule`).
 *
 * @example
 * ```ts
 * const lr = cosineDecay({ initValue: 0.1, decaySteps: 100, minValue: 0.001 });
 * scheduleValue(lr, 50); // 0.0505
 * ```
 */
export function cosineDecay(options: CosineDecayOptions): Schedule {
  const fn = 'cosineDecay';
  checkOptions(fn, options, ['initValue', 'decaySteps', 'minValue'], true);
  const init = expectFinite(fn, 'initValue', options.initValue);
  const steps = expectPositive(fn, 'decaySteps', options.decaySteps);
  const min = expectFinite(fn, 'minValue', options.minValue ?? 0);
  // min + ((init - min) * (1 + Math.cos((Math.PI * Math.min(step, steps)) / steps))) / 2
  return (count) => {
    const angle = div(mul(Math.PI, minimum(stepOf(fn, count), steps)), steps);
    return add(min, div(mul(init - min, add(1, cos(angle))), 2));
  };
}

/** Options of {@link linearSchedule}. */
export interface LinearScheduleOptions {
  /** The value at step 0. */
  initValue: number;
  /** The value reached at `transitionSteps` and kept afterwards. */
  endValue: number;
  /** Steps of the linear ramp. */
  transitionSteps: number;
}

/**
 * A straight line from `initValue` to `endValue` over `transitionSteps`, then `endValue`: PyTorch's
 * `LinearLR(start_factor = initValue/base, end_factor = endValue/base, total_iters = transitionSteps)`.
 *
 * @example
 * ```ts
 * const lr = linearSchedule({ initValue: 0.1, endValue: 0.01, transitionSteps: 9 });
 * scheduleValue(lr, 3); // 0.07
 * ```
 */
export function linearSchedule(options: LinearScheduleOptions): Schedule {
  const fn = 'linearSchedule';
  checkOptions(fn, options, ['initValue', 'endValue', 'transitionSteps'], true);
  const init = expectFinite(fn, 'initValue', options.initValue);
  const end = expectFinite(fn, 'endValue', options.endValue);
  const steps = expectPositive(fn, 'transitionSteps', options.transitionSteps);
  // init + ((end - init) * Math.min(step, steps)) / steps
  return (count) => add(init, div(mul(end - init, minimum(stepOf(fn, count), steps)), steps));
}

/** Options of {@link linearWarmup}. */
export interface LinearWarmupOptions {
  /** The value at step 0 (default 0). */
  initValue?: number;
  /** The value reached at `warmupSteps` and kept afterwards. */
  peakValue: number;
  /** Steps of the warm-up. */
  warmupSteps: number;
}

/**
 * Linear warm-up from `initValue` to `peakValue` over `warmupSteps`, then constant; usually joined with a
 * decay by {@link joinSchedules}. A {@link linearSchedule} with warm-up names.
 *
 * @example
 * ```ts
 * const lr = joinSchedules(
 *   [linearWarmup({ peakValue: 1e-3, warmupSteps: 100 }), cosineDecay({ initValue: 1e-3, decaySteps: 900 })],
 *   [100],
 * );
 * ```
 */
export function linearWarmup(options: LinearWarmupOptions): Schedule {
  const fn = 'linearWarmup';
  checkOptions(fn, options, ['initValue', 'peakValue', 'warmupSteps'], true);
  return linearSchedule({
    initValue: expectFinite(fn, 'initValue', options.initValue ?? 0),
    endValue: expectFinite(fn, 'peakValue', options.peakValue),
    transitionSteps: expectPositive(fn, 'warmupSteps', options.warmupSteps),
  });
}

/**
 * Runs `schedules[0]` until `boundaries[0]`, then `schedules[1]` until `boundaries[1]`, and so on; each
 * schedule restarts its count at its boundary (schedule i sees `count − boundaries[i−1]`). As optax's
 * `join_schedules`, and PyTorch's `SequentialLR(schedulers, milestones = boundaries)`. Boundaries are
 * integer steps. Every schedule is evaluated and the one in force is selected (`where`), so the join
 * traces; a schedule not yet in force sees count 0 rather than a negative count.
 *
 * @example
 * ```ts
 * const lr = joinSchedules([constant(0.01), exponentialDecay({ initValue: 0.1, decayRate: 0.9 })], [5]);
 * scheduleValue(lr, 4); // 0.01
 * scheduleValue(lr, 6); // 0.09
 * ```
 */
export function joinSchedules(schedules: readonly Schedule[], boundaries: readonly number[]): Schedule {
  const fn = 'joinSchedules';
  if (schedules.length === 0) throw new ArgumentError(`${fn}: schedules is empty; give at least one schedule`);
  if (boundaries.length !== schedules.length - 1) {
    throw new ArgumentError(`${fn}: ${schedules.length} schedules need ${schedules.length - 1} boundaries, got ${boundaries.length}`);
  }
  boundaries.forEach((b, i) => {
    checkStep(fn, `boundaries[${i}]`, b);
    if (i > 0 && b < boundaries[i - 1]!) {
      throw new ArgumentError(`${fn}: boundaries must be non-decreasing, got [${boundaries.join(', ')}]`);
    }
  });
  const parts = [...schedules];
  const bounds = [...boundaries];
  const evaluate = (i: number, count: Tensor): Tensor => checkScheduleValue(fn, `schedules[${i}]`, parts[i]!(count), count);
  return (count) => {
    checkCount(fn, count);
    // later boundaries override earlier ones: with non-decreasing boundaries the last one reached wins
    let value = evaluate(0, count);
    bounds.forEach((b, i) => {
      const shifted = maximum(sub(count, b), 0);
      value = where(greaterEqual(count, b), evaluate(i + 1, shifted), value);
    });
    return value;
  };
}
