import { ArgumentError, freezeTree } from '@tapestry/core';
import type { GradientTransformation } from './base.js';

/** The state of a {@link chain}: the states of its transformations, in order. */
export type ChainState = readonly unknown[];

/**
 * Composes transformations left to right: the updates leave the first and enter the second, and so on.
 * The state is the array of the inner states. This is how every optimiser here is built, e.g.
 * `adam = chain(scaleByAdam(…), scaleByLearningRate(lr))`, and how clipping goes in front of one.
 *
 * @example
 * ```ts
 * const opt = chain(clipByGlobalNorm(1), adam({ lr: 1e-3 }));
 * ```
 */
export function chain(...transforms: GradientTransformation<unknown>[]): GradientTransformation<ChainState> {
  const parts = [...transforms];
  parts.forEach((t: unknown, i) => {
    // a number or a factory (adam instead of adam()) would otherwise fail at init or update, far from here
    const { init, update } = (t ?? {}) as Partial<GradientTransformation<unknown>>;
    if (t === null || typeof t !== 'object' || typeof init !== 'function' || typeof update !== 'function') {
      const given =
        t === null
          ? 'null'
          : typeof t === 'function'
            ? `the function ${t.name || '(anonymous)'} (call it: ${t.name || 'f'}(…))`
            : typeof t === 'object'
              ? 'an object without init/update functions'
              : `${String(t)} (${typeof t})`;
      throw new ArgumentError(`chain: transforms[${i}] must be a gradient transformation { init, update } (adam(), clipByGlobalNorm(1), …), got ${given}`);
    }
  });
  return {
    init: (params) => freezeTree(parts.map((t) => t.init(params))) as ChainState,
    update: (updates, state, params) => {
      if (!Array.isArray(state) || state.length !== parts.length) {
        throw new ArgumentError(
          `chain.update: state must be the array of ${parts.length} inner states returned by init or the last update, ` +
            `got ${Array.isArray(state) ? `an array of ${state.length}` : typeof state}`,
        );
      }
      const next: unknown[] = [];
      let u = updates;
      parts.forEach((t, i) => {
        const result = t.update(u, state[i], params);
        u = result.updates;
        next.push(result.state);
      });
      return { updates: u, state: freezeTree(next) as ChainState };
    },
  };
}
