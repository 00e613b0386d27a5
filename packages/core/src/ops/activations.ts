/**
 * Activation primitives. tanh and sigmoid reuse their saved output (1 − y², y(1 − y)) instead of
 * recomputing through exp, as JAX and tinygrad do.
 */
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { add, mul, sub } from './arithmetic.js';
import { cast } from './cast.js';
import { greater } from './compare.js';
import { expectFinite } from '../checks.js';
import { applyUnary, unaryPrimitive } from './elementwise.js';
import { where } from './where.js';

// d tanh(x) = (1 − y²) dx
const tanhPrimitive = unaryPrimitive('tanh', (ct, _x, y) => [mul(ct, sub(1, mul(y, y)))]);
// d σ(x) = y (1 − y) dx
const sigmoidPrimitive = unaryPrimitive('sigmoid', (ct, _x, y) => [mul(ct, mul(y, sub(1, y)))]);
// d relu(x) = [x > 0] dx
const reluPrimitive = unaryPrimitive('relu', (ct, [x]) => [mul(ct, cast(greater(x!, 0), ct.dtype))]);
// d leakyRelu(x) = (x > 0 ? 1 : α) dx
const leakyReluPrimitive = unaryPrimitive('leakyRelu', (ct, [x], _y, { slope }) => [where(greater(x!, 0), ct, mul(ct, slope))]);
// d elu(x) = (x > 0 ? 1 : α eˣ) dx, and α eˣ = y + α for x ≤ 0
const eluPrimitive = unaryPrimitive('elu', (ct, [x], y, { alpha }) => [where(greater(x!, 0), ct, mul(ct, add(y, alpha)))]);
// d softplus(x) = σ(βx) dx, or dx in the linear regime βx > threshold (PyTorch's rule)
const softplusPrimitive = unaryPrimitive('softplus', (ct, [x], _y, { beta, threshold }) => {
  const scaled = mul(x!, beta);
  return [where(greater(scaled, threshold), ct, mul(ct, sigmoid(scaled)))];
});

/** The hyperbolic tangent elementwise. */
export function tanh(x: Tensor): Tensor {
  return applyUnary(tanhPrimitive, x, undefined);
}

/** The logistic function `1 / (1 + e^-x)` elementwise, computed without overflow for large |x|. */
export function sigmoid(x: Tensor): Tensor {
  return applyUnary(sigmoidPrimitive, x, undefined);
}

/** `max(x, 0)` elementwise; its gradient at exactly 0 is 0, as in PyTorch. */
export function relu(x: Tensor): Tensor {
  return applyUnary(reluPrimitive, x, undefined);
}

/**
 * `x` for x > 0, `alpha · x` otherwise (PyTorch's default slope 0.01).
 * @example
 * ```ts
 * leakyRelu(x, 0.2);
 * ```
 */
export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  return applyUnary(leakyReluPrimitive, x, { slope: expectFinite('leakyRelu', 'alpha', alpha) });
}

/** `x` for x > 0, `alpha · (e^x − 1)` otherwise (PyTorch's ELU, default alpha 1). */
export function elu(x: Tensor, alpha = 1): Tensor {
  return applyUnary(eluPrimitive, x, { alpha: expectFinite('elu', 'alpha', alpha) });
}

/**
 * `log(1 + e^(βx)) / β`, and `x` itself where `βx > threshold` (PyTorch's `softplus(x, beta, threshold)`).
 */
export function softplus(x: Tensor, beta = 1, threshold = 20): Tensor {
  const b = expectFinite('softplus', 'beta', beta);
  if (b === 0) throw new ArgumentError('softplus: beta must be non-zero, got 0');
  return applyUnary(softplusPrimitive, x, { beta: b, threshold: expectFinite('softplus', 'threshold', threshold) });
}

/** The primitives this module defines, for the primitive table. @internal */
export const activationPrimitives = {
  tanh: tanhPrimitive,
  sigmoid: sigmoidPrimitive,
  relu: reluPrimitive,
  leakyRelu: leakyReluPrimitive,
  elu: eluPrimitive,
  softplus: softplusPrimitive,
};
