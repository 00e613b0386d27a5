import { expectBoolean, expectNonNegative, expectUnitInterval } from '@tapestry/core';
import type { GradientTransformation, ScalarOrSchedule } from '../base.js';
import { chain, type ChainState } from '../chain.js';
import { checkLearningRate, checkOptions } from '../internal/options.js';
import { addDecayedWeights } from '../transforms/add-decayed-weights.js';
import { scaleByRms } from '../transforms/scale-by-rms.js';
import { scaleByLearningRate } from '../transforms/scale.js';
import { momentum as momentumTrace } from '../transforms/momentum.js';

/** Options of {@link rmsprop} (PyTorch's `torch.optim.RMSprop` arguments). */
export interface RmspropOptions {
  /** Learning rate: a number or a schedule of the 0-based update count (default 1e-2). */
  lr?: ScalarOrSchedule;
  /** Smoothing constant (default 0.99). */
  alpha?: number;
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** Normalise by an estimate of the gradient's variance (default false). */
  centered?: boolean;
}

/**
 * RMSprop with the numbers of `torch.optim.RMSprop`. Built as
 * `chain(addDecayedWeights(weightDecay), scaleByRms({ alpha, eps, centered }), momentum({ decay: momentum }), scaleByLearningRate(lr))`,
 * leaving out the links whose option is 0.
 *
 * @example
 * ```ts
 * const opt = rmsprop({ lr: 1e-3, momentum: 0.9, centered: true });
 * ```
 */
export function rmsprop(options: RmspropOptions = {}): GradientTransformation<ChainState> {
  const fn = 'rmsprop';
  checkOptions(fn, options, ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered']);
  // scaleByRms checks these too; here first, so that errors name rmsprop
  if (options.alpha !== undefined) expectUnitInterval(fn, 'alpha', options.alpha);
  if (options.eps !== undefined) expectNonNegative(fn, 'eps', options.eps);
  if (options.centered !== undefined) expectBoolean(fn, 'centered', options.centered);
  const lr = checkLearningRate(fn, options.lr ?? 1e-2);
  const weightDecay = expectNonNegative(fn, 'weightDecay', options.weightDecay ?? 0);
  const momentum = expectNonNegative(fn, 'momentum', options.momentum ?? 0);
  return chain(
    ...(weightDecay !== 0 ? [addDecayedWeights(weightDecay)] : []),
    scaleByRms({ alpha: options.alpha, eps: options.eps, centered: options.centered }),
    ...(momentum !== 0 ? [momentumTrace({ decay: momentum })] : []),
    scaleByLearningRate(lr),
  );
}
