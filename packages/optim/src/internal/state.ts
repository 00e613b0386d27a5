/** Reading fields of a transformation's state, with an error that says which state was expected. */
import { ArgumentError } from '@tapestry/core';

/** Returns `state[field]`, throwing if `state` is not an object that has it. */
export function stateField(fn: string, state: unknown, field: string): unknown {
  if (typeof state !== 'object' || state === null || !(field in state)) {
    throw new ArgumentError(
      `${fn}: state has no '${field}'; pass the state returned by this transformation's init or its last update`,
    );
  }
  return (state as Record<string, unknown>)[field];
}

/** The step counter kept in a state: a non-negative integer. */
export function stateCount(fn: string, state: unknown): number {
  const count = stateField(fn, state, 'count');
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw new ArgumentError(`${fn}: state.count must be a non-negative integer, got ${String(count)}`);
  }
  return count;
}
