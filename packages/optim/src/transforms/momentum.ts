import {
  add,
  ArgumentError,
  equal,
  expectBoolean,
  expectNonNegative,
  expectUnitInterval,
  freezeTree,
  mul,
  where,
  zerosLike,
  type Tensor,
} from '@tapestry/core';
import type { GradientTransformation } from '../base.js';
import { checkOptions } from '../internal/options.js';
import { incremented, stateCounter, stateField, zeroCounter } from '../internal/state.js';
import { mapTensors } from '../internal/trees.js';

/** Options of {@link momentum}. */
export interface MomentumOptions {
  /** The momentum factor: the buffer decays by this much each step. */
  decay: number;
  /** Dampening: new updates enter the buffer scaled by `1 - dampening` (default 0; not on the first step). */
  dampening?: number;
  /** Nesterov momentum: emit `update + decay * buffer` instead of the buffer (default false). */
  nesterov?: boolean;
}

/** The state of {@link momentum}. */
export interface MomentumState {
  /** The number of updates made so far, a 0-d int32 tensor (the first update seeds the buffer). */
  readonly count: Tensor;
  /** The momentum buffer, shaped like the params (zeros before the first update). */
  readonly momentum: unknown;
}

/**
 * Momentum with PyTorch SGD's arithmetic: the first update seeds the buffer with the update itself
 * (`buf = d_p`), later ones do `buf = decay * buf + (1 - dampening) * d_p`; the output is the buffer,
 * or `d_p + decay * buf` with Nesterov. With zero dampening the first step equals decaying a zero buffer,
 * so this is also RMSprop's momentum buffer. The first step is selected with `where(count == 0, …)`
 * rather than a JS branch, so the transformation traces.
 *
 * @example
 * ```ts
 * const heavyBall = chain(momentum({ decay: 0.9 }), scaleByLearningRate(0.1)); // sgd({ lr: 0.1, momentum: 0.9 })
 * ```
 */
export function momentum(options: MomentumOptions): GradientTransformation<MomentumState> {
  const fn = 'momentum';
  checkOptions(fn, options, ['decay', 'dampening', 'nesterov'], true);
  const decay = expectNonNegative(fn, 'decay', options.decay);
  const dampening = expectUnitInterval(fn, 'dampening', options.dampening ?? 0);
  const nesterov = expectBoolean(fn, 'nesterov', options.nesterov ?? false);
  if (nesterov && (decay <= 0 || dampening !== 0)) {
    throw new ArgumentError(`${fn}: Nesterov momentum needs decay > 0 and dampening 0, got decay ${decay} and dampening ${dampening}`);
  }
  return {
    init: (params) =>
      freezeTree({
        count: zeroCounter(params),
        momentum: mapTensors(`${fn}.init`, (p) => zerosLike(p), ['params', params]),
      }) as MomentumState,
    update: (updates, state) => {
      const count = stateCounter(`${fn}.update`, state);
      const buffer = stateField(`${fn}.update`, state, 'momentum');
      // PyTorch seeds the buffer with the first update (buf = d_p, no dampening)
      const first = equal(count, 0);
      const momentum = mapTensors(
        `${fn}.update`,
        (u, b) => where(first, u, add(mul(b, decay), mul(u, 1 - dampening))),
        ['updates', updates],
        ['state.momentum', buffer],
      );
      const out = nesterov ? mapTensors(`${fn}.update`, (u, b) => add(u, mul(b, decay)), ['updates', updates], ['momentum', momentum]) : momentum;
      return {
        updates: out as typeof updates,
        state: freezeTree({ count: incremented(count), momentum }) as MomentumState,
      };
    },
  };
}
