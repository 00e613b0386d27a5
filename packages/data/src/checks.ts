import { ArgumentError } from '@tapestry/core';

// The data utilities' own argument check (the general ones, expectInteger and describeValue, are core's).

/** Throws unless `value` is a valid int32 token id (an integer in [0, 2^31)). */
export function checkId(fn: string, argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    throw new ArgumentError(`${fn}: ${argument} must be a non-negative int32 id, got ${String(value)}`);
  }
  return value;
}
