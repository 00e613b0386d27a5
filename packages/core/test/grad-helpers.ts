/** Shared assertions for the gradient properties: every VJP is compared with central finite differences. */
import { expect } from 'vitest';
import { checkGrad, mul, sum, type Tensor } from '@tapestry/core';
import { weights } from './arbitraries.js';

/** The tolerance the issue asks for: relative error under 1e-6 (checkGrad's default). */
export const GRAD_TOL = 1e-6;

/**
 * Checks the VJP of `op` at `inputs` (float64) against central finite differences, with a random cotangent
 * `w` (from `seed`) so that every output element is weighted differently: checks `sum(op(...xs) · w)`.
 * Returns the op's output for further checks (its shape).
 */
export function expectVjpMatchesFiniteDifferences(
  op: (...xs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  seed: number,
  argnums?: number | readonly number[],
): Tensor {
  const y = op(...inputs);
  const w = weights(y.shape, seed);
  const options = argnums === undefined ? { tol: GRAD_TOL } : { tol: GRAD_TOL, argnums };
  const result = checkGrad((...xs: Tensor[]) => sum(mul(op(...xs), w)), inputs, options);
  expect(result.ok, result.message).toBe(true);
  return y;
}
