/**
 * Learning-rate schedules: plain functions from the 0-based update count to a value. Each has a
 * closed form; where PyTorch has an equivalent `torch.optim.lr_scheduler` class, schedule(k) is the
 * learning rate that scheduler holds after k calls of `scheduler.step()` (so in a loop of
 * `optimizer.step(); scheduler.step()` it is the rate used by update k).
 */
import { ArgumentError } from '@tapestry/core';
import type { Schedule } from './base.js';
import { checkFiniteNumber, checkNonNegative, checkPositive, checkPositiveInteger } from './internal/options.js';

/**
 * A schedule that always returns `value`.
 *
 * @example
 * ```ts
 * constant(0.1)(1000); // 0.1
 * ```
 */
export function constant(value: number): Schedule {
  const v = checkFiniteNumber('constant', 'value', value);
  return () => v;
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
 * lr(29); // 0.1
 * lr(30); // 0.01
 * ```
 */
export function stepDecay(options: StepDecayOptions): Schedule {
  const fn = 'stepDecay';
  const init = checkFiniteNumber(fn, 'initValue', options.initValue);
  const stepSize = checkPositiveInteger(fn, 'stepSize', options.stepSize);
  const gamma = checkNonNegative(fn, 'gamma', options.gamma ?? 0.1);
  return (step) => init * gamma ** Math.floor(step / stepSize);
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
 * lr(2); // 0.081
 * ```
 */
export function exponentialDecay(options: ExponentialDecayOptions): Schedule {
  const fn = 'exponentialDecay';
  const init = checkFiniteNumber(fn, 'initValue', options.initValue);
  const rate = checkNonNegative(fn, 'decayRate', options.decayRate);
  const transition = checkPositive(fn, 'transitionSteps', options.transitionSteps ?? 1);
  const staircase = options.staircase ?? false;
  return (step) => {
    const p = step / transition;
    return init * rate ** (staircase ? Math.floor(p) : p);
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
 * lr(50); // 0.0505
 * ```
 */
export function cosineDecay(options: CosineDecayOptions): Schedule {
  const fn = 'cosineDecay';
  const init = checkFiniteNumber(fn, 'initValue', options.initValue);
  const steps = checkPositive(fn, 'decaySteps', options.decaySteps);
  const min = checkFiniteNumber(fn, 'minValue', options.minValue ?? 0);
  return (step) => min + ((init - min) * (1 + Math.cos((Math.PI * Math.min(step, steps)) / steps))) / 2;
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
 * lr(3); // 0.07
 * ```
 */
export function linearSchedule(options: LinearScheduleOptions): Schedule {
  const fn = 'linearSchedule';
  const init = checkFiniteNumber(fn, 'initValue', options.initValue);
  const end = checkFiniteNumber(fn, 'endValue', options.endValue);
  const steps = checkPositive(fn, 'transitionSteps', options.transitionSteps);
  return (step) => init + ((end - init) * Math.min(step, steps)) / steps;
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
  return linearSchedule({
    initValue: checkFiniteNumber(fn, 'initValue', options.initValue ?? 0),
    endValue: checkFiniteNumber(fn, 'peakValue', options.peakValue),
    transitionSteps: checkPositive(fn, 'warmupSteps', options.warmupSteps),
  });
}

/**
 * Runs `schedules[0]` until `boundaries[0]`, then `schedules[1]` until `boundaries[1]`, and so on; each
 * schedule restarts its count at its boundary (schedule i sees `step − boundaries[i−1]`). As optax's
 * `join_schedules`, and PyTorch's `SequentialLR(schedulers, milestones = boundaries)`.
 *
 * @example
 * ```ts
 * const lr = joinSchedules([constant(0.01), exponentialDecay({ initValue: 0.1, decayRate: 0.9 })], [5]);
 * lr(4); // 0.01
 * lr(6); // 0.09
 * ```
 */
export function joinSchedules(schedules: readonly Schedule[], boundaries: readonly number[]): Schedule {
  const fn = 'joinSchedules';
  if (schedules.length === 0) throw new ArgumentError(`${fn}: schedules is empty; give at least one schedule`);
  if (boundaries.length !== schedules.length - 1) {
    throw new ArgumentError(
      `${fn}: ${schedules.length} schedules need ${schedules.length - 1} boundaries, got ${boundaries.length}`,
    );
  }
  boundaries.forEach((b, i) => {
    checkNonNegative(fn, `boundaries[${i}]`, b);
    if (i > 0 && b < boundaries[i - 1]!) {
      throw new ArgumentError(`${fn}: boundaries must be non-decreasing, got [${boundaries.join(', ')}]`);
    }
  });
  const parts = [...schedules];
  const bounds = [...boundaries];
  return (step) => {
    let i = 0;
    while (i < bounds.length && step >= bounds[i]!) i++;
    return parts[i]!(i === 0 ? step : step - bounds[i - 1]!);
  };
}
