import { add, div, expectBoolean, expectNonNegative, expectUnitInterval, freezeTree, mul, sqrt, sub, zerosLike } from '@tapestry/core';
import type { GradientTransformation } from '../base.js';
import { checkOptions } from '../internal/options.js';
import { stateField } from '../internal/state.js';
import { mapTensors } from '../internal/trees.js';

/** Options of {@link scaleByRms}. */
export interface ScaleByRmsOptions {
  /** Smoothing constant of the running averages (default 0.99, PyTorch's RMSprop default). */
  alpha?: number;
  /** Added to the root-mean-square for numerical stability (default 1e-8). */
  eps?: number;
  /** Divide by an estimate of the variance (subtract the squared running mean) instead (default false). */
  centered?: boolean;
}

/** The state of {@link scaleByRms}. */
export interface ScaleByRmsState {
  /** Running average of squared updates (PyTorch's `square_avg`). */
  readonly nu: unknown;
  /** Running average of updates (PyTorch's `grad_avg`); present only when centered. */
  readonly mu?: unknown;
}

/**
 * RMSprop's scaling with PyTorch's arithmetic: `nu = alpha·nu + ((1−alpha)·g)·g`; centered also keeps
 * `mu = alpha·mu + (1−alpha)·g` and uses `nu − mu·mu`; output `g / (sqrt(·) + eps)`. Follow it with
 * {@link momentum} for momentum and {@link scaleByLearningRate} (as {@link rmsprop} does).
 *
 * @example
 * ```ts
 * const opt = chain(scaleByRms({ alpha: 0.9 }), scaleByLearningRate(1e-3));
 * ```
 */
export function scaleByRms(options: ScaleByRmsOptions = {}): GradientTransformation<ScaleByRmsState> {
  const fn = 'scaleByRms';
  checkOptions(fn, options, ['alpha', 'eps', 'centered']);
  const alpha = expectUnitInterval(fn, 'alpha', options.alpha ?? 0.99);
  const eps = expectNonNegative(fn, 'eps', options.eps ?? 1e-8);
  const centered = expectBoolean(fn, 'centered', options.centered ?? false);
  return {
    init: (params) => {
      const zeros = () => mapTensors(`${fn}.init`, (p) => zerosLike(p), ['params', params]);
      return freezeTree(centered ? { nu: zeros(), mu: zeros() } : { nu: zeros() }) as ScaleByRmsState;
    },
    update: (updates, state) => {
      const where = `${fn}.update`;
      const g: readonly [string, typeof updates] = ['updates', updates];
      const nu = mapTensors(where, (u, v) => add(mul(v, alpha), mul(mul(u, 1 - alpha), u)), g, ['state.nu', stateField(where, state, 'nu')]);
      let out: typeof updates;
      let next: ScaleByRmsState;
      if (centered) {
        const mu = mapTensors(where, (u, m) => add(mul(m, alpha), mul(u, 1 - alpha)), g, ['state.mu', stateField(where, state, 'mu')]);
        out = mapTensors(where, (u, v, m) => div(u, add(sqrt(sub(v, mul(m, m))), eps)), g, ['nu', nu], ['mu', mu]);
        next = { nu, mu };
      } else {
        out = mapTensors(where, (u, v) => div(u, add(sqrt(v), eps)), g, ['nu', nu]);
        next = { nu };
      }
      return { updates: out, state: freezeTree(next) as ScaleByRmsState };
    },
  };
}
