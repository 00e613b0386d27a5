/** Composites of the stable log-sum-exp: no VJP of their own, the primitives' rules compose. */
import { normalizeAxes, normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, sub } from './arithmetic.js';
import { expectFloat, expectTensor } from '../checks.js';
import { isFinite } from './finite.js';
import { max, sum } from './reduce.js';
import { reshape } from './shape-ops.js';
import { exp, log } from './unary.js';
import { where } from './where.js';
import { stopGradient } from '../autodiff/stop-gradient.js';

/**
 * `log(sum(exp(x)))` over all or the given axes, computed stably: the maximum is subtracted first (and
 * treated as a constant, which changes nothing mathematically), so large inputs do not overflow.
 */
export function logSumExp(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  expectTensor('logSumExp', 'x', x);
  expectFloat('logSumExp', 'x', x);
  const axes = normalizeAxes('logSumExp', axis, x.rank);
  const peak = stopGradient(max(x, axes, true));
  // an all -Infinity slice has peak -Infinity; shifting by 0 there keeps the result -Infinity, not NaN
  const shift = where(isFinite(peak), peak, 0);
  const result = add(log(sum(exp(sub(x, shift)), axes, true)), shift);
  return keepDims
    ? result
    : reshape(
        result,
        x.shape.filter((_, i) => !axes.includes(i)),
      );
}

/**
 * `x - logSumExp(x)` along `axis`: log-probabilities from logits, without forming the probabilities.
 * @example
 * ```ts
 * const logp = logSoftmax(logits, -1);
 * ```
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  expectTensor('logSoftmax', 'x', x);
  expectFloat('logSoftmax', 'x', x);
  const a = normalizeAxis('logSoftmax', axis, x.rank);
  return sub(x, logSumExp(x, a, true));
}

/** `exp(x) / sum(exp(x))` along `axis`, computed stably. */
export function softmax(x: Tensor, axis = -1): Tensor {
  expectTensor('softmax', 'x', x);
  expectFloat('softmax', 'x', x);
  const a = normalizeAxis('softmax', axis, x.rank);
  return exp(logSoftmax(x, a));
}
