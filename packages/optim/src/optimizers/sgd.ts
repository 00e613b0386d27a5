import { ArgumentError, expectBoolean, expectNonNegative, expectUnitInterval } from '@tapestry/core';
import type { GradientTransformation, ScalarOrSchedule } from '../base.js';
import { chain, type ChainState } from '../chain.js';
import { checkLearningRate, checkOptions } from '../internal/options.js';
import { addDecayedWeights } from '../transforms/add-decayed-weights.js';
import { scaleByLearningRate } from '../transforms/scale.js';
import { momentum as momentumTrace } from '../transforms/momentum.js';

/** Options of {@link sgd} (PyTorch's `torch.optim.SGD` arguments). */
export interface SgdOptions {
  /** Learning rate: a number or a schedule of the 0-based update count. */
  lr: ScalarOrSchedule;
  /** Momentum factor (default 0: plain SGD). */
  momentum?: number;
  /** Dampening of the momentum (default 0). */
  dampening?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent, optionally with momentum, Nesterov momentum, dampening and weight decay;
 * the same numbers as `torch.optim.SGD`. Built as
 * `chain(addDecayedWeights(weightDecay), momentum({ decay: momentum, dampening, nesterov }), scaleByLearningRate(lr))`,
 * leaving out the links whose option is 0.
 *
 * @example
 * ```ts
 * const opt = sgd({ lr: 0.1, momentum: 0.9, nesterov: true });
 * let state = opt.init(params);
 * const { updates, state: next } = opt.update(grads, state, params);
 * ```
 */
export function sgd(options: SgdOptions): GradientTransformation<ChainState> {
  const fn = 'sgd';
  checkOptions(fn, options, ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay'], true);
  if (options.lr === undefined) throw new ArgumentError(`${fn}: options.lr is required (PyTorch's SGD has no default learning rate), e.g. sgd({ lr: 0.1 })`);
  const lr = checkLearningRate(fn, options.lr);
  const momentum = expectNonNegative(fn, 'momentum', options.momentum ?? 0);
  const dampening = expectUnitInterval(fn, 'dampening', options.dampening ?? 0);
  const nesterov = expectBoolean(fn, 'nesterov', options.nesterov ?? false);
  const weightDecay = expectNonNegative(fn, 'weightDecay', options.weightDecay ?? 0);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new ArgumentError(`${fn}: Nesterov momentum needs momentum > 0 and dampening 0, got momentum ${momentum} and dampening ${dampening}`);
  }
  return chain(
    ...(weightDecay !== 0 ? [addDecayedWeights(weightDecay)] : []),
    ...(momentum !== 0 ? [momentumTrace({ decay: momentum, dampening, nesterov })] : []),
    scaleByLearningRate(lr),
  );
}
