/** commander option parsers that reject bad values with a message naming the option. */
import { InvalidArgumentError } from 'commander';

/** An integer ≥ `min` (default 0). */
export const integer =
  (name: string, min = 0) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got ${value}`);
    return n;
  };

/** A finite number > 0. */
export const positive =
  (name: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got ${value}`);
    return n;
  };

/** A finite number ≥ 0. */
export const nonNegative =
  (name: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative number, got ${value}`);
    return n;
  };

/** A finite number. */
export const finite =
  (name: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got ${value}`);
    return n;
  };

/** A probability in [0, 1). */
export const fraction =
  (name: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!(n >= 0 && n < 1)) throw new InvalidArgumentError(`${name} must be in [0, 1), got ${value}`);
    return n;
  };
