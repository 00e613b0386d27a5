import { expectBoolean, expectFinite, freezeTree, mul, neg, type Tensor } from '@tapestry/core';
import { emptyState, type EmptyState, type GradientTransformation, type ScalarOrSchedule } from '../base.js';
import { checkLearningRate, checkOptions, valueAt } from '../internal/options.js';
import { inDtype } from '../internal/scalars.js';
import { incremented, stateCounter, zeroCounter } from '../internal/state.js';
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
  const f = expectFinite('scale', 'factor', factor);
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
  /** The number of updates made so far (a 0-d int32 tensor); the next update evaluates the schedule on it. */
  readonly count: Tensor;
}

/** Options of {@link scaleByLearningRate}. */
export interface ScaleByLearningRateOptions {
  /** Multiply by `-lr` rather than `lr`, turning a descent direction into an update (default true). */
  flipSign?: boolean;
}

/**
 * Multiplies every update by `-lr` (or `lr` with `flipSign: false`). With a schedule, update k (0-based)
 * uses the schedule's value at count k (computed in float64 — float32 on a device without float64 — then cast to the updates' dtype); the count
 * lives in the state as a 0-d int32 tensor, so a jitted step traces once. This is the last link of every
 * optimiser here, and the sign flip reproduces PyTorch's `param.add_(d_p, alpha=-lr)` exactly once applied
 * as `params + updates`.
 *
 * @example
 * ```ts
 * const opt = chain(scaleByAdam(), scaleByLearningRate(cosineDecay({ initValue: 1e-3, decaySteps: 1000 })));
 * ```
 */
export function scaleByLearningRate(lr: ScalarOrSchedule, options: ScaleByLearningRateOptions = {}): GradientTransformation<ScaleByLearningRateState> {
  const fn = 'scaleByLearningRate';
  const rate = checkLearningRate(fn, lr);
  checkOptions(fn, options, ['flipSign']);
  const flip = expectBoolean(fn, 'flipSign', options.flipSign ?? true);
  return {
    init: (params) => freezeTree({ count: zeroCounter(params) }) as ScaleByLearningRateState,
    update: (updates, state) => {
      const count = stateCounter(`${fn}.update`, state);
      const value = valueAt(`${fn}.update`, 'lr', rate, count);
      const factor = inDtype(typeof value === 'number' ? (flip ? -value : value) : flip ? neg(value) : value);
      return {
        updates: mapTensors(`${fn}.update`, (u) => mul(u, factor(u.dtype)), ['updates', updates]),
        state: freezeTree({ count: incremented(count) }) as ScaleByLearningRateState,
      };
    },
  };
}
