import { add, div, expectNonNegative, freezeTree, full, mul, sqrt } from '@tapestry/core';
import type { GradientTransformation } from '../base.js';
import { checkOptions } from '../internal/options.js';
import { stateField } from '../internal/state.js';
import { mapTensors } from '../internal/trees.js';

/** Options of {@link scaleByAdagrad}. */
export interface ScaleByAdagradOptions {
  /** Added to the root of the accumulator for numerical stability (default 1e-10, PyTorch's default). */
  eps?: number;
  /** Starting value of the accumulator (default 0). */
  initialAccumulatorValue?: number;
}

/** The state of {@link scaleByAdagrad}. */
export interface ScaleByAdagradState {
  /** Sum of squared updates so far (PyTorch's `sum`), shaped like the params. */
  readonly sum: unknown;
}

/**
 * Adagrad's scaling with PyTorch's arithmetic: `sum = sum + g·g`, output `g / (sqrt(sum) + eps)`.
 * Follow it with {@link scaleByLearningRate} (as {@link adagrad} does).
 *
 * @example
 * ```ts
 * const opt = chain(scaleByAdagrad({ initialAccumulatorValue: 0.1 }), scaleByLearningRate(0.01));
 * ```
 */
export function scaleByAdagrad(options: ScaleByAdagradOptions = {}): GradientTransformation<ScaleByAdagradState> {
  const fn = 'scaleByAdagrad';
  checkOptions(fn, options, ['eps', 'initialAccumulatorValue']);
  const eps = expectNonNegative(fn, 'eps', options.eps ?? 1e-10);
  const init = expectNonNegative(fn, 'initialAccumulatorValue', options.initialAccumulatorValue ?? 0);
  return {
    init: (params) =>
      freezeTree({
        sum: mapTensors(`${fn}.init`, (p) => full(p.shape, init, p.dtype), ['params', params]),
      }) as ScaleByAdagradState,
    update: (updates, state) => {
      const where = `${fn}.update`;
      const sum = mapTensors(where, (u, s) => add(s, mul(u, u)), ['updates', updates], ['state.sum', stateField(where, state, 'sum')]);
      const out = mapTensors(where, (u, s) => div(u, add(sqrt(s), eps)), ['updates', updates], ['sum', sum]);
      return { updates: out, state: freezeTree({ sum }) as ScaleByAdagradState };
    },
  };
}
