/**
 * The shape every optimiser in this package has: a pair of pure functions over trees, after optax's
 * `GradientTransformation`. Nothing here holds or mutates state; the caller threads it through.
 */
import { add, freezeTree, type Tensor } from '@tapestry/core';
import { mapTensors } from './internal/trees.js';

/**
 * A learning-rate (or any hyper-parameter) schedule: maps the 0-based count of the update being
 * computed — a 0-d int32 tensor, the `count` an optimiser keeps in its state — to a 0-d float tensor on
 * the count's device (float64 on the CPU, float32 on a device without float64 such as WebGPU: see
 * `scheduleDtype`), computed with core ops so that a jitted training step evaluates it on the traced count
 * (one compiled graph serves every step). The first update sees count 0, which matches a PyTorch loop that calls
 * `optimizer.step()` and then `scheduler.step()`: update k uses the learning rate the scheduler holds
 * after k scheduler steps. Read one at a JS step with {@link scheduleValue}.
 *
 * @example
 * ```ts
 * // 1e-3 / sqrt(1 + k), written by hand
 * const lr: Schedule = (count) => div(1e-3, sqrt(add(cast(count, scheduleDtype(count.backend)), 1)));
 * scheduleValue(lr, 3); // 0.0005
 * ```
 */
export type Schedule = (count: Tensor) => Tensor;

/** A fixed number (a constant) or a {@link Schedule}. */
export type ScalarOrSchedule = number | Schedule;

/** What {@link GradientTransformation.update} returns: the transformed updates and the next state. */
export interface UpdateResult<T, S> {
  /** The transformed updates, a frozen tree shaped like the input updates. */
  readonly updates: T;
  /** The new state, to be passed to the next call of `update`. */
  readonly state: S;
}

/**
 * A gradient transformation: `init(params)` builds the initial state; `update(updates, state, params?)`
 * maps incoming updates (gradients, for the first transformation of a chain) to new updates and returns
 * the next state. Both are pure: inputs are never mutated and outputs are frozen trees. Trees are nested
 * plain objects and arrays whose leaves are float tensors.
 *
 * @example
 * ```ts
 * const opt = adam({ lr: 1e-3 });
 * let state = opt.init(params);
 * const grads = grad(loss)(params, batch);
 * const { updates, state: next } = opt.update(grads, state, params);
 * params = applyUpdates(params, updates);
 * state = next;
 * ```
 */
export interface GradientTransformation<S = unknown> {
  /** Builds the initial state for a parameter tree (state tensors match the params' shapes and dtypes). */
  init<T>(params: T): S;
  /**
   * Transforms `updates` (shaped like the params). `params` is needed by transformations that read the
   * parameters (weight decay); passing it always is harmless.
   */
  update<T>(updates: T, state: S, params?: T): UpdateResult<T, S>;
}

/** The state of a transformation that keeps none: a frozen empty object. */
export type EmptyState = Readonly<Record<string, never>>;

const EMPTY: EmptyState = freezeTree({}) as EmptyState;

/** The empty state, shared (it is frozen, so sharing is safe). */
export function emptyState(): EmptyState {
  return EMPTY;
}

/**
 * The transformation that returns its updates unchanged and keeps no state.
 *
 * @example
 * ```ts
 * chain(identity(), sgd({ lr: 0.1 })); // behaves exactly like sgd({ lr: 0.1 })
 * ```
 */
export function identity(): GradientTransformation<EmptyState> {
  return {
    init: () => EMPTY,
    update: (updates, state) => ({ updates, state }),
  };
}

/**
 * Applies updates to params: `params + updates`, leaf by leaf. Returns a new frozen tree; neither
 * argument is modified. The trees must have the same structure, shapes and dtypes.
 *
 * @example
 * ```ts
 * const { updates, state: next } = opt.update(grads, state, params);
 * const newParams = applyUpdates(params, updates);
 * ```
 */
export function applyUpdates<T>(params: T, updates: T): T {
  return mapTensors('applyUpdates', (p, u) => add(p, u), ['params', params], ['updates', updates]);
}
