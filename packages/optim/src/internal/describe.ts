import { Tensor } from '@tapestry/core';

/**
 * What a value that should have been a tensor is, for error messages: a tensor as it prints
 * (`Tensor(f64[])`), `an instance of Map`, `a number (3)`, `null`. Unlike core's `describeValue` it names the
 * type of a primitive, since the message is about a value that should have been a tensor.
 */
export function describeGiven(value: unknown): string {
  if (value instanceof Tensor) return value.toString();
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `an instance of ${(value as object).constructor?.name ?? 'Object'}`;
  return `a ${typeof value} (${String(value)})`;
}
