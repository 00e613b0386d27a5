import { expectBoolean, expectNonNegative } from '@tapestry/core';
import type { GradientTransformation, ScalarOrSchedule } from '../base.js';
import { chain, type ChainState } from '../chain.js';
import { checkBetas, checkLearningRate, checkOptions } from '../internal/options.js';
import { addDecayedWeights } from '../transforms/add-decayed-weights.js';
import { scaleByAdam } from '../transforms/scale-by-adam.js';
import { scaleByLearningRate } from '../transforms/scale.js';

/** Options of {@link adam} and {@link adamw} (PyTorch's `torch.optim.Adam` / `AdamW` arguments). */
export interface AdamOptions {
  /** Learning rate: a number or a schedule of the 0-based update count (default 1e-3). */
  lr?: ScalarOrSchedule;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps?: number;
  /**
   * Weight decay: an L2 term added to the gradient for {@link adam} (default 0); decoupled decay
   * `param·(1 − lr·weightDecay)` for {@link adamw} (default 1e-2, PyTorch's default).
   */
  weightDecay?: number;
  /** Use the AMSGrad variant (default false). */
  amsgrad?: boolean;
}

/** The options scaleByAdam would check, checked here so that errors name adam / adamw. */
function checkAdamOptions(fn: string, options: AdamOptions): void {
  checkOptions(fn, options, ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad']);
  if (options.betas !== undefined) checkBetas(fn, options.betas);
  if (options.eps !== undefined) expectNonNegative(fn, 'eps', options.eps);
  if (options.amsgrad !== undefined) expectBoolean(fn, 'amsgrad', options.amsgrad);
}

/**
 * Adam, with the numbers of `torch.optim.Adam` (weight decay, if any, is added to the gradient). Built as
 * `chain(addDecayedWeights(weightDecay), scaleByAdam({ betas, eps, amsgrad }), scaleByLearningRate(lr))`.
 * Pass `params` to `update` when `weightDecay` is set.
 *
 * @example
 * ```ts
 * const opt = adam({ lr: 1e-3 });
 * ```
 */
export function adam(options: AdamOptions = {}): GradientTransformation<ChainState> {
  const fn = 'adam';
  checkAdamOptions(fn, options);
  const lr = checkLearningRate(fn, options.lr ?? 1e-3);
  const weightDecay = expectNonNegative(fn, 'weightDecay', options.weightDecay ?? 0);
  return chain(
    ...(weightDecay !== 0 ? [addDecayedWeights(weightDecay)] : []),
    scaleByAdam({ betas: options.betas, eps: options.eps, amsgrad: options.amsgrad }),
    scaleByLearningRate(lr),
  );
}

/**
 * AdamW: Adam with decoupled weight decay, with the numbers of `torch.optim.AdamW`. Built as
 * `chain(scaleByAdam(…), addDecayedWeights(weightDecay), scaleByLearningRate(lr))`, which applied as
 * `params + updates` is PyTorch's `param·(1 − lr·wd)` followed by the Adam step. `update` needs `params`
 * (unless `weightDecay` is 0).
 *
 * @example
 * ```ts
 * const opt = adamw({ lr: 1e-3, weightDecay: 0.01 });
 * const { updates, state: next } = opt.update(grads, state, params);
 * ```
 */
export function adamw(options: AdamOptions = {}): GradientTransformation<ChainState> {
  const fn = 'adamw';
  checkAdamOptions(fn, options);
  const lr = checkLearningRate(fn, options.lr ?? 1e-3);
  const weightDecay = expectNonNegative(fn, 'weightDecay', options.weightDecay ?? 1e-2);
  return chain(
    scaleByAdam({ betas: options.betas, eps: options.eps, amsgrad: options.amsgrad }),
    ...(weightDecay !== 0 ? [addDecayedWeights(weightDecay)] : []),
    scaleByLearningRate(lr),
  );
}
