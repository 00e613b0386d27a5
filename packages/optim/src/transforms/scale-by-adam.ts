import { add, cast, div, expectBoolean, expectNonNegative, freezeTree, maximum, mul, pow, sqrt, sub, zerosLike, type Tensor } from '@tapestry/core';
import type { GradientTransformation } from '../base.js';
import { checkBetas, checkOptions } from '../internal/options.js';
import { inDtype, scalarFloat } from '../internal/scalars.js';
import { incremented, stateCounter, stateField, zeroCounter } from '../internal/state.js';
import { mapTensors } from '../internal/trees.js';

/** Options of {@link scaleByAdam}. */
export interface ScaleByAdamOptions {
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps?: number;
  /** Divide by the running maximum of the second moment (AMSGrad; default false). */
  amsgrad?: boolean;
}

/** The state of {@link scaleByAdam}. */
export interface ScaleByAdamState {
  /** The number of updates made so far, a 0-d int32 tensor (bias corrections use `count + 1`). */
  readonly count: Tensor;
  /** First moment (PyTorch's `exp_avg`), shaped like the params. */
  readonly mu: unknown;
  /** Second moment (PyTorch's `exp_avg_sq`), shaped like the params. */
  readonly nu: unknown;
  /** Running maximum of `nu` (PyTorch's `max_exp_avg_sq`); present only with `amsgrad`. */
  readonly nuMax?: unknown;
}

/**
 * Adam's direction without the learning rate, with the arithmetic of PyTorch's single-tensor Adam:
 * `mu = b1·mu + (1−b1)·g`, `nu = b2·nu + ((1−b2)·g)·g`,
 * `denom = sqrt(nu) / sqrt(1 − b2^t) + eps`, output `(mu / (1 − b1^t)) / denom` with `t` the 1-based step.
 * Follow it with {@link scaleByLearningRate} (as {@link adam} does).
 *
 * @example
 * ```ts
 * const opt = chain(scaleByAdam({ betas: [0.9, 0.98] }), scaleByLearningRate(3e-4));
 * ```
 */
export function scaleByAdam(options: ScaleByAdamOptions = {}): GradientTransformation<ScaleByAdamState> {
  const fn = 'scaleByAdam';
  checkOptions(fn, options, ['betas', 'eps', 'amsgrad']);
  const [b1, b2] = checkBetas(fn, options.betas ?? [0.9, 0.999]);
  const eps = expectNonNegative(fn, 'eps', options.eps ?? 1e-8);
  const amsgrad = expectBoolean(fn, 'amsgrad', options.amsgrad ?? false);
  return {
    init: (params) => {
      const zeros = () => mapTensors(`${fn}.init`, (p) => zerosLike(p), ['params', params]);
      const count = zeroCounter(params);
      const state = amsgrad ? { count, mu: zeros(), nu: zeros(), nuMax: zeros() } : { count, mu: zeros(), nu: zeros() };
      return freezeTree(state) as ScaleByAdamState;
    },
    update: (updates, state) => {
      const where = `${fn}.update`;
      const count = stateCounter(where, state);
      const g: readonly [string, typeof updates] = ['updates', updates];
      const mu = mapTensors(where, (u, m) => add(mul(m, b1), mul(u, 1 - b1)), g, ['state.mu', stateField(where, state, 'mu')]);
      const nu = mapTensors(where, (u, v) => add(mul(v, b2), mul(mul(u, 1 - b2), u)), g, ['state.nu', stateField(where, state, 'nu')]);
      const nuMax = amsgrad ? mapTensors(where, (v, vMax) => maximum(vMax, v), ['nu', nu], ['state.nuMax', stateField(where, state, 'nuMax')]) : undefined;
      // Bias corrections in double precision, as PyTorch computes them in Python (1 - b1 ** t and
      // Math.sqrt(1 - b2 ** t)), cast to each update's dtype where those numbers used to enter the ops;
      // in float32 on a device without float64 (WebGPU), so that a step there runs on the device alone.
      const t = incremented(count);
      const step = cast(t, scalarFloat(t.backend));
      const bc1 = inDtype(sub(1, pow(b1, step)));
      const bc2Sqrt = inDtype(sqrt(sub(1, pow(b2, step))));
      const out = mapTensors(where, (m, v) => div(div(m, bc1(m.dtype)), add(div(sqrt(v), bc2Sqrt(m.dtype)), eps)), ['mu', mu], ['nu', nuMax ?? nu]);
      const next = nuMax === undefined ? { count: t, mu, nu } : { count: t, mu, nu, nuMax };
      return { updates: out as typeof updates, state: freezeTree(next) as ScaleByAdamState };
    },
  };
}
