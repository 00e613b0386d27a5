/**
 * Option checks of the transformations beyond core's (`expectFinite`, `expectNonNegative`, …): each throws an
 * ArgumentError naming the function and option.
 */
import { ArgumentError, expectFinite, expectKnownOptions, expectNonNegative, expectUnitInterval, type Tensor } from '@tapestry/core';
import type { ScalarOrSchedule } from '../base.js';
import { checkScheduleValue } from './schedule-checks.js';
import type { Scalar } from './scalars.js';

/** A step such as a schedule boundary: an integer 0 <= value < 2³¹ (counts are int32). */
export function checkStep(fn: string, name: string, value: unknown): number {
  const v = expectFinite(fn, name, value);
  if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
    throw new ArgumentError(`${fn}: ${name} must be an integer step in [0, 2^31), got ${v}`);
  }
  return v;
}

/** A learning rate: a non-negative number, or a schedule (checked when it is called). */
export function checkLearningRate(fn: string, lr: unknown): ScalarOrSchedule {
  if (typeof lr === 'function') return lr as ScalarOrSchedule;
  return expectNonNegative(fn, 'lr', lr);
}

/**
 * Evaluates a number-or-schedule at the update count: a number stays a number (a constant, applied as
 * before); a schedule gives a 0-d float tensor on the count's device (float64 on the CPU), checked here so
 * a wrong return names the option.
 */
export function valueAt(fn: string, name: string, value: ScalarOrSchedule, count: Tensor): Scalar {
  if (typeof value === 'number') return value;
  return checkScheduleValue(fn, `the ${name} schedule`, value(count), count);
}

/** `value` for a message: strings quoted, objects and arrays as JSON where they have one. */
function describeOption(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value !== null && typeof value === 'object') {
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

/**
 * Checks an options object: an object (or undefined where `required` is false) holding only the `known`
 * keys. An unknown key is refused: a misspelt `learningRate` or `momentum` given to adam would otherwise be
 * dropped without a word, as PyTorch refuses an unexpected keyword.
 */
export function checkOptions<T>(fn: string, options: T | undefined, known: readonly string[], required = false): T {
  if (options === undefined && !required) return {} as T;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ArgumentError(`${fn}: options must be an object { ${known.join(', ')} }, got ${describeOption(options)}`);
  }
  expectKnownOptions(fn, options, known);
  return options;
}

/** Checks Adam's `betas`: a pair of numbers in [0, 1). */
export function checkBetas(fn: string, betas: unknown): [number, number] {
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new ArgumentError(`${fn}: betas must be a pair [beta1, beta2] of numbers in [0, 1), got ${describeOption(betas)}`);
  }
  return [expectUnitInterval(fn, 'betas[0]', betas[0]), expectUnitInterval(fn, 'betas[1]', betas[1])];
}
