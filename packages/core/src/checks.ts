/**
 * Argument checks for public functions, shared by every tapestry package so that the same mistake reads the
 * same wherever it is made. Each check takes the name of the function being called (`fn`) and of the
 * argument, throws before any work is done with a message naming both, the expectation and the value given,
 * and returns the value narrowed to its type:
 *
 * ```ts
 * const hiddenSize = expectPositiveInteger('lstm', 'hiddenSize', options.hiddenSize);
 * // lstm: hiddenSize must be a positive integer, got 0
 * ```
 */
import { isFloat } from './dtype.js';
import { ArgumentError, DTypeError } from './errors.js';
import { formatShape } from './shape.js';
import { Tensor } from './tensor.js';

/**
 * A short description of a value for an error message: `null`, `an array`, `a Float32Array`, `an object`,
 * `a function`, strings quoted (cut at 40 characters), anything else as `String(value)` gives it (`3`, `NaN`,
 * `undefined`).
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return String(value);
}

/**
 * Returns `value` if it is a {@link Tensor}; otherwise throws an {@link ArgumentError} naming its type, with
 * the fix for a plain array (`tensor(...)`).
 */
export function expectTensor(fn: string, argument: string, value: unknown): Tensor {
  if (!(value instanceof Tensor)) {
    const given = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new ArgumentError(`${fn}: ${argument} must be a Tensor, got ${given}${Array.isArray(value) ? ' (wrap it with tensor(...))' : ''}`);
  }
  return value;
}

/** Returns `x` if its dtype is float32 or float64 (what a differentiable function needs); else a {@link DTypeError}. */
export function expectFloat(fn: string, argument: string, x: Tensor): Tensor {
  if (!isFloat(x.dtype)) {
    throw new DTypeError(`${fn}: ${argument} must be float32 or float64, got ${x.dtype} ${formatShape(x.shape)} (use cast())`);
  }
  return x;
}

/** {@link expectTensor} then {@link expectFloat}: a float32 or float64 tensor. */
export function expectFloatTensor(fn: string, argument: string, value: unknown): Tensor {
  return expectFloat(fn, argument, expectTensor(fn, argument, value));
}

/**
 * Returns `value` if it is an integer ≥ `min` (any integer by default). Integers beyond 2^53 are refused:
 * they are not exact as numbers, so no count or size is one.
 */
export function expectInteger(fn: string, argument: string, value: unknown, min = -Infinity): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ArgumentError(`${fn}: ${argument} must be an integer${min > -Infinity ? ` ≥ ${min}` : ''}, got ${String(value)}`);
  }
  return value;
}

/** Returns `value` if it is an integer ≥ 1 (a size, a count of layers or threads). */
export function expectPositiveInteger(fn: string, argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ArgumentError(`${fn}: ${argument} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** Returns `value` if it is a finite number (not NaN, not ±Infinity, not a numeric string). */
export function expectFinite(fn: string, argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ArgumentError(`${fn}: ${argument} must be a finite number, got ${String(value)}`);
  }
  return value;
}

/** Returns `value` if it is a finite number ≥ 0 (a learning rate, a weight decay, a norm bound). */
export function expectNonNegative(fn: string, argument: string, value: unknown): number {
  const v = expectFinite(fn, argument, value);
  if (v < 0) throw new ArgumentError(`${fn}: ${argument} must be >= 0, got ${v}`);
  return v;
}

/** Returns `value` if it is a finite number > 0 (an epsilon, a length of decay). */
export function expectPositive(fn: string, argument: string, value: unknown): number {
  const v = expectFinite(fn, argument, value);
  if (v <= 0) throw new ArgumentError(`${fn}: ${argument} must be > 0, got ${v}`);
  return v;
}

/**
 * Returns `value` if it lies in the half-open unit interval [0, 1): the decay rate of a moving average (a
 * beta, alpha or momentum), where 1 would never forget.
 */
export function expectUnitInterval(fn: string, argument: string, value: unknown): number {
  const v = expectFinite(fn, argument, value);
  if (v < 0 || v >= 1) throw new ArgumentError(`${fn}: ${argument} must be in [0, 1), got ${v}`);
  return v;
}

/** Returns `value` if it is a probability: a number in the closed interval [0, 1] (a dropout rate). */
export function expectProbability(fn: string, argument: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new ArgumentError(`${fn}: ${argument} must be a probability in [0, 1], got ${String(value)}`);
  }
  return value;
}

/** Returns `value` if it is `true` or `false` (`'no'` is truthy: it must not pass as true). */
export function expectBoolean(fn: string, argument: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ArgumentError(`${fn}: ${argument} must be true or false, got ${describeValue(value)}`);
  return value;
}

/** {@link expectBoolean} for an option that may be left out: `undefined` passes. */
export function expectOptionalBoolean(fn: string, argument: string, value: unknown): boolean | undefined {
  return value === undefined ? undefined : expectBoolean(fn, argument, value);
}

/**
 * Throws unless the object `options` holds only the `known` keys: a misspelt option (`biass`, `learningRate`)
 * would otherwise be dropped without a word and the default used. Anything but an object passes: whether
 * the options may be missing is the caller's to say.
 */
export function expectKnownOptions(fn: string, options: unknown, known: readonly string[]): void {
  if (options === null || typeof options !== 'object') return;
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new ArgumentError(`${fn}: unknown option ${JSON.stringify(key)} (the options are ${known.join(', ')})`);
  }
}
