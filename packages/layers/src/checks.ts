/**
 * Argument checks shared by the layers. Each throws before any work is done, with a message that names the
 * layer, the argument, what was expected, what was given and, where it is obvious, the fix.
 */
import { ArgumentError, DTypeError, Key, Tensor } from '@tapestry/core';

/** Formats a shape as `[2, 3]` for messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Whether two shapes are equal axis by axis. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Throws unless `value` is a floating-point Tensor. */
export function expectFloatTensor(where: string, argument: string, value: unknown): asserts value is Tensor {
  if (!(value instanceof Tensor)) {
    const given = value === null ? 'null' : Array.isArray(value) ? 'a plain array' : typeof value;
    throw new ArgumentError(`${where}: ${argument} must be a Tensor, got ${given} (wrap numbers with tensor(...))`);
  }
  if (value.dtype === 'int32') {
    throw new DTypeError(`${where}: ${argument} must be float32 or float64, got int32 ${formatShape(value.shape)} (cast it with cast(x, 'float32'))`);
  }
}

/** Throws unless `value` is a positive integer. */
export function expectPositiveInt(where: string, argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ArgumentError(`${where}: ${argument} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** Throws unless `value` is a probability in [0, 1]. */
export function expectProbability(where: string, argument: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new ArgumentError(`${where}: ${argument} must be a probability in [0, 1], got ${String(value)}`);
  }
  return value;
}

/**
 * Throws unless `options` holds only the `known` keys: a misspelt option (`biass`, `batchFirst`) would
 * otherwise be dropped without a word and the layer built with the default.
 */
export function expectKnownOptions(where: string, options: unknown, known: readonly string[]): void {
  if (options === null || typeof options !== 'object') return; // the callers report a missing options object
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new ArgumentError(`${where}: unknown option ${JSON.stringify(key)} (the options are ${known.join(', ')})`);
  }
}

/** Throws unless `value` is undefined or a boolean (`'no'` is truthy: it must not pass as true). */
export function expectOptionalBoolean(where: string, argument: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new ArgumentError(`${where}: ${argument} must be true or false, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  }
  return value;
}

/** Throws unless `value` is undefined, a Key or a key tensor (from keyData). */
export function expectOptionalKey(where: string, argument: string, value: unknown): void {
  if (value !== undefined && !(value instanceof Key) && !(value instanceof Tensor)) {
    throw new ArgumentError(`${where}: ${argument} must be a Key (from randomKey / splitKey / foldIn) or a key tensor, got ${value === null ? 'null' : typeof value}`);
  }
}
