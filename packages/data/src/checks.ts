import { ArgumentError } from '@tapestry/core';

// Argument checks shared by the data utilities. Each throws before any work is done and names the
// function and the argument, so the message says what to fix.

/** Throws unless `value` is an integer ≥ `min`. */
export function checkInteger(fn: string, argument: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ArgumentError(`${fn}: ${argument} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/** Throws unless `value` is a valid int32 token id (an integer in [0, 2^31)). */
export function checkId(fn: string, argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    throw new ArgumentError(`${fn}: ${argument} must be a non-negative int32 id, got ${String(value)}`);
  }
  return value;
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}
