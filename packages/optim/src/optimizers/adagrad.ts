import { add, cast, div, expectNonNegative, mul, type Tensor } from '@tapestry/core';
import type { GradientTransformation, ScalarOrSchedule } from '../base.js';
import { chain, type ChainState } from '../chain.js';
import { checkLearningRate, checkOptions, valueAt } from '../internal/options.js';
import { scalarFloat } from '../internal/scalars.js';
import { addDecayedWeights } from '../transforms/add-decayed-weights.js';
import { scaleByAdagrad } from '../transforms/scale-by-adagrad.js';
import { scaleByLearningRate } from '../transforms/scale.js';

/** Options of {@link adagrad} (PyTorch's `torch.optim.Adagrad` arguments). */
export interface AdagradOptions {
  /** Learning rate: a number or a schedule of the 0-based update count (default 1e-2). */
  lr?: ScalarOrSchedule;
  /** Learning-rate decay: update k (0-based) uses `lr / (1 + k·lrDecay)` (default 0). */
  lrDecay?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Starting value of the squared-gradient accumulator (default 0). */
  initialAccumulatorValue?: number;
  /** Added to the denominator for numerical stability (default 1e-10). */
  eps?: number;
}

/**
 * Adagrad with the numbers of `torch.optim.Adagrad`. Built as
 * `chain(addDecayedWeights(weightDecay), scaleByAdagrad({ eps, initialAccumulatorValue }), scaleByLearningRate(k ↦ lr(k) / (1 + k·lrDecay)))`.
 *
 * @example
 * ```ts
 * const opt = adagrad({ lr: 0.1, lrDecay: 1e-3 });
 * ```
 */
export function adagrad(options: AdagradOptions = {}): GradientTransformation<ChainState> {
  const fn = 'adagrad';
  checkOptions(fn, options, ['lr', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps']);
  // scaleByAdagrad checks these too; here first, so that errors name adagrad
  if (options.eps !== undefined) expectNonNegative(fn, 'eps', options.eps);
  if (options.initialAccumulatorValue !== undefined) expectNonNegative(fn, 'initialAccumulatorValue', options.initialAccumulatorValue);
  const lr = checkLearningRate(fn, options.lr ?? 1e-2);
  const lrDecay = expectNonNegative(fn, 'lrDecay', options.lrDecay ?? 0);
  const weightDecay = expectNonNegative(fn, 'weightDecay', options.weightDecay ?? 0);
  // PyTorch: clr = lr / (1 + (step - 1) * lr_decay) with a 1-based step, i.e. the 0-based count here;
  // in float64 (float32 on a device without it), in the order of the JS expression lr / (1 + count * lrDecay)
  const decayed: ScalarOrSchedule =
    lrDecay === 0 ? lr : (count: Tensor) => div(valueAt(fn, 'lr', lr, count), add(1, mul(cast(count, scalarFloat(count.backend)), lrDecay)));
  return chain(
    ...(weightDecay !== 0 ? [addDecayedWeights(weightDecay)] : []),
    scaleByAdagrad({ eps: options.eps, initialAccumulatorValue: options.initialAccumulatorValue }),
    scaleByLearningRate(decayed),
  );
}
