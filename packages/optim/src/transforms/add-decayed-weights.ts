import { add, expectNonNegative, mul } from '@tapestry/core';
import { emptyState, type EmptyState, type GradientTransformation } from '../base.js';
import { mapTensors, requireParams } from '../internal/trees.js';

/**
 * Adds `weightDecay * params` to the updates (PyTorch's `grad.add(param, alpha=weight_decay)`). Placed
 * before a scaling transformation it is L2 regularisation folded into the gradient (SGD, Adam, RMSprop,
 * Adagrad); placed after it, right before {@link scaleByLearningRate}, it is decoupled weight decay
 * (AdamW). Needs `params` in `update`. Keeps no state.
 *
 * @example
 * ```ts
 * const l2Adam = chain(addDecayedWeights(1e-4), scaleByAdam(), scaleByLearningRate(1e-3));
 * ```
 */
export function addDecayedWeights(weightDecay: number): GradientTransformation<EmptyState> {
  const fn = 'addDecayedWeights';
  const wd = expectNonNegative(fn, 'weightDecay', weightDecay);
  return {
    init: () => emptyState(),
    update: (updates, state, params) => {
      const p = requireParams(`${fn}.update`, params, 'weight decay reads the parameters');
      return {
        updates: mapTensors(`${fn}.update`, (u, w) => add(u, mul(w, wd)), ['updates', updates], ['params', p]),
        state,
      };
    },
  };
}
