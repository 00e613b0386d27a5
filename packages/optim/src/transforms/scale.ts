import { freezeTree, mul } from '@tapestry/core';
import { emptyState, type EmptyState, type GradientTransformation, type ScalarOrSchedule } from '../base.js';
import { checkFiniteNumber, checkLearningRate, valueAt } from '../internal/options.js';
import { stateCount } from '../internal/state.js';
import { mapTensors } from '../internal/trees.js';

/**
 * Multiplies every update by a fixed `factor`. Keeps no state.
 *
 * @example
 * ```ts
 * scale(-0.1).update(grads, state).updates; // -0.1 * grads
 * ```
 */
export function scale(factor: number): GradientTransformation<EmptyState> {
  const f = checkFiniteNumber('scale', 'factor', factor);
  return {
    init: () => emptyState(),
    update: (updates, state) => ({
      updates: mapTensors('scale.update', (u) => mul(u, f), ['updates', updates]),
      state,
    }),
  };
}

/** The state of {@link scaleByLearningRate}: how many updates it has made. */
export interface ScaleByLearningRateState {
  /** The number of updates made so far; the next update evaluates the schedule at this step. */
  readonly count: number;
}

/** Options of {@link scaleByLearningRate}. */
export interface ScaleByLearningRateOptions {
  /** Multiply by `-lr` rather than `lr`, turning a descent direction into an update (default true). */
  flipSign?: boolean;
}

/**
 * Multiplies every update by `-lr` (or `lr` with `flipSign: false`). With a schedule, update k (0-based)
 * uses `lr(k)`; the count lives in the state. This is the last link of every optimiser here, and the
 * sign flip reproduces PyTorch's `param.add_(d_p, alpha=-lr)` exactly once applied as `params + updates`.
 *
 * @example
 * ```ts
 * const opt = chain(scaleByAdam(), scaleByLearningRate(cosineDecay({ initValue: 1e-3, decaySteps: 1000 })));
 * ```
 */
export function scaleByLearningRate(
  lr: ScalarOrSchedule,
  options: ScaleByLearningRateOptions = {},
): GradientTransformation<ScaleByLearningRateState> {
  const fn = 'scaleByLearningRate';
  const rate = checkLearningRate(fn, lr);
  const flip = options.flipSign ?? true;
  return {
    init: () => freezeTree({ count: 0 }) as ScaleByLearningRateState,
    update: (updates, state) => {
      const count = stateCount(`${fn}.update`, state);
      const value = valueAt(`${fn}.update`, 'lr', rate, count);
      const factor = flip ? -value : value;
      return {
        updates: mapTensors(`${fn}.update`, (u) => mul(u, factor), ['updates', updates]),
        state: freezeTree({ count: count + 1 }) as ScaleByLearningRateState,
      };
    },
  };
}
