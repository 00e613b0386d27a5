import { tensor, Tensor } from '@tapestry/core';
import type { NestedArray } from '@tapestry/core';
import { expect } from 'vitest';

/** A float64 tensor from nested arrays. */
export function f64(values: NestedArray): Tensor {
  return tensor(values, { dtype: 'float64' });
}

/**
 * Asserts `actual` equals `expected` elementwise to `rtol` relative (|a - e| ≤ rtol · max(1, |e|)), and that
 * the shapes agree. Reports the worst element.
 */
export function expectClose(actual: Tensor, expected: NestedArray | Tensor, rtol: number, label: string): void {
  const want = expected instanceof Tensor ? expected : tensor(expected, { dtype: 'float64' });
  expect(actual.shape, `${label}: shape`).toEqual(want.shape);
  const a = actual.dataSync();
  const e = want.dataSync();
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i]! - e[i]!) / Math.max(1, Math.abs(e[i]!));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  expect(worst, `${label}: worst relative error at flat index ${at} (${a[at]} vs ${e[at]})`).toBeLessThanOrEqual(rtol);
}

/** Asserts two tensors are bitwise equal (same shape, same values). */
export function expectExact(actual: Tensor, expected: Tensor, label: string): void {
  expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  expect(Array.from(actual.dataSync()), label).toEqual(Array.from(expected.dataSync()));
}
