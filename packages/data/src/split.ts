import { ArgumentError, describeValue } from '@tapestry/core';

/** Anything {@link splitByPosition} can cut: a string, an array or a typed array. */
export interface Sliceable<T> {
  /** The number of elements. */
  readonly length: number;
  /** The elements in `[start, end)`, as a new value. */
  slice(start: number, end: number): T;
}

/**
 * Cuts a sequence into consecutive parts by position (no shuffling, so a language model's validation
 * text follows its training text). Part `k` runs from `floor(c_{k} · n)` to `floor(c_{k+1} · n)`, where
 * `c_k` is the sum of the first `k` fractions; the last part ends at `n`. Fractions must be positive and
 * sum to 1. Returns copies.
 *
 * @example
 * ```ts
 * const [train, valid, test] = splitByPosition(ids);         // 90% / 5% / 5%
 * const [fit, held] = splitByPosition(ids, [0.8, 0.2]);
 * ```
 */
export function splitByPosition<T extends Sliceable<T>>(sequence: T, fractions: readonly number[] = [0.9, 0.05, 0.05]): T[] {
  const fn = 'splitByPosition';
  if (sequence === null || sequence === undefined || typeof sequence.slice !== 'function' || !Number.isInteger(sequence.length)) {
    throw new ArgumentError(`${fn}: sequence must be a string, an array or a typed array, got ${describeValue(sequence)}`);
  }
  if (!Array.isArray(fractions) || fractions.length === 0) {
    throw new ArgumentError(`${fn}: fractions must be a non-empty array such as [0.9, 0.05, 0.05], got ${describeValue(fractions)}`);
  }
  let total = 0;
  fractions.forEach((f, k) => {
    if (typeof f !== 'number' || !Number.isFinite(f) || f <= 0) {
      throw new ArgumentError(`${fn}: fractions[${k}] must be a positive number, got ${String(f)}`);
    }
    total += f;
  });
  if (Math.abs(total - 1) > 1e-9) throw new ArgumentError(`${fn}: fractions must sum to 1, got [${fractions.join(', ')}] (sum ${total})`);
  const n = sequence.length;
  const parts: T[] = [];
  let cumulative = 0;
  let begin = 0;
  fractions.forEach((f, k) => {
    cumulative += f;
    const end = k === fractions.length - 1 ? n : Math.min(n, Math.floor(cumulative * n));
    parts.push(sequence.slice(begin, end));
    begin = end;
  });
  return parts;
}
