/**
 * Guards against diverging runs. {@link checkFinite} finds the first NaN or infinity in a tree and stops
 * with a message that names it (eagerly: it reads values). {@link guardFinite} decides with ops and skips
 * a non-finite step instead, so it runs inside a jitted training step.
 */
import { ArgumentError, equal, freezeTree, isFinite, minimum, sum, Tensor, treeFlattenWithPath, treeStructure, treeUnflatten, where } from '@tapestry/core';
import type { GradientTransformation } from './base.js';
import { deviceOfTree } from './internal/scalars.js';
import { counterOn, incremented, stateCounter, stateField, zeroCounter } from './internal/state.js';
import { mapTensors, tensorLeaves } from './internal/trees.js';

/** Thrown by {@link checkFinite}; says where the first non-finite value sits. */
export class NonFiniteError extends ArgumentError {
  /** `'NonFiniteError'`, so the class shows in stack traces. */
  override name = 'NonFiniteError';
  /** The tree path of the leaf holding the value, e.g. `grads.layers[0].weight`. */
  readonly path: string;
  /** The index of the value within that leaf, one entry per axis. */
  readonly index: readonly number[];
  /** The value found: NaN, Infinity or -Infinity. */
  readonly value: number;

  /** Built by {@link checkFinite}; the message is complete, the fields are for programs that react to it. */
  constructor(message: string, path: string, index: readonly number[], value: number) {
    super(message);
    this.path = path;
    this.index = index;
    this.value = value;
  }
}

/** Options of {@link checkFinite}. */
export interface CheckFiniteOptions {
  /** What the tree is, used as the root of paths in the message (default 'tree'). */
  name?: string;
  /** Who is checking, prefixed to the message (default 'checkFinite'). */
  caller?: string;
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    index[axis] = flat % shape[axis]!;
    flat = Math.floor(flat / shape[axis]!);
  }
  return index;
}

/**
 * Throws a {@link NonFiniteError} naming the first leaf (in tree order) that holds a NaN or an infinity,
 * with the element's index and how many of the leaf's elements are non-finite. Returns the tree unchanged
 * when every value is finite, so it can wrap an expression. It reads the values back, so it runs eagerly
 * only: inside `trace`/`jit` it throws, pointing to {@link guardFinite} (or check the step's results
 * after the jitted call).
 *
 * @example
 * ```ts
 * checkFinite(grads, { name: 'grads' });
 * // NonFiniteError: checkFinite: grads.layers[0].weight[2, 1] is NaN (1 of 6 values in that leaf are not finite) …
 * ```
 */
export function checkFinite<T>(tree: T, options: CheckFiniteOptions = {}): T {
  const caller = options.caller ?? 'checkFinite';
  for (const [path, leaf] of tensorLeaves(caller, options.name ?? 'tree', tree)) {
    if (leaf.isAbstract) {
      throw new ArgumentError(
        `${caller}: ${path} is an abstract value of trace/jit (a shape and a dtype, no data yet), and ${caller} ` +
          'reads values to name the first NaN/Inf, which a traced function cannot do. Inside a jitted step use ' +
          'guardFinite(optimizer), which skips non-finite steps with ops; or call checkFinite on the results ' +
          'of the jitted call.',
      );
    }
    const data = leaf.dataSync();
    let first = -1;
    let bad = 0;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) {
        if (first < 0) first = i;
        bad++;
      }
    }
    if (first >= 0) {
      const index = unravel(first, leaf.shape);
      const value = data[first]!;
      const at = index.length === 0 ? path : `${path}[${index.join(', ')}]`;
      throw new NonFiniteError(
        `${caller}: ${at} is ${value} (${bad} of ${data.length} values in that leaf are not finite). ` +
          'The run has diverged or the input holds NaN/Inf: lower the learning rate, clip gradients ' +
          '(clipByGlobalNorm) or check the data and the loss for log(0) and division by zero.',
        path,
        index,
        value,
      );
    }
  }
  return tree;
}

/** The state of {@link guardFinite}: the inner transformation's state and the tallies of skipped steps. */
export interface GuardFiniteState<S> {
  /** The inner transformation's state, as of the last finite step. */
  readonly inner: S;
  /** Non-finite steps in a row up to now, a 0-d int32 tensor (0 after a finite step). */
  readonly notFiniteCount: Tensor;
  /** 1 if the last step was finite (and applied), 0 if it was skipped: a 0-d int32 tensor (1 before any step). */
  readonly lastFinite: Tensor;
  /** Non-finite steps skipped since init, a 0-d int32 tensor. */
  readonly totalNotFinite: Tensor;
}

/** A 0-d int32 tensor: 1 when every value of every leaf of `tree` is finite, 0 otherwise. */
function allFinite(fn: string, name: string, tree: unknown): Tensor {
  let finite = counterOn(deviceOfTree(tree), 1);
  for (const [, leaf] of tensorLeaves(fn, name, tree)) {
    // counting the finite elements rather than taking min(isFinite(leaf)): core's int32 min/max
    // reductions start from ±Infinity, which an Int32Array stores as 0
    if (leaf.size > 0) finite = minimum(finite, equal(sum(isFinite(leaf)), leaf.size));
  }
  return finite;
}

/**
 * `chosen` where `keep` is 1, `fallback` where it is 0, leaf by leaf: the inner state after the step, or
 * the one before it. Both come from the inner transformation, so they have one structure; leaves that
 * are not tensors must be identical (they cannot be selected by value).
 */
function selectState<S>(fn: string, keep: Tensor, chosen: S, fallback: S): S {
  const next = treeFlattenWithPath(chosen);
  const previous = treeFlattenWithPath(fallback);
  if (next.length !== previous.length || next.some(([path], i) => path !== previous[i]![0])) {
    throw new ArgumentError(`${fn}: the inner transformation returned a state shaped unlike the one it was given`);
  }
  const leaves = next.map(([path, leaf], i) => {
    const old = previous[i]![1];
    if (leaf instanceof Tensor && old instanceof Tensor) return where(keep, leaf, old);
    if (leaf === old) return leaf;
    throw new ArgumentError(
      `${fn}: state.inner.${path} is not a tensor and changed in the step (${String(old)} → ${String(leaf)}); ` +
        'guardFinite selects state leaves with ops, so the inner state must keep changing values in tensors',
    );
  });
  return freezeTree(treeUnflatten(treeStructure(chosen), leaves)) as S;
}

/**
 * Wraps a transformation (usually the whole optimiser) so that a step with a NaN or an infinity is
 * skipped rather than applied: if the incoming updates (the gradients) or the updates the inner
 * transformation makes from them hold a non-finite value, the outgoing updates are zeros and the inner
 * state stays as it was (its step count too), as optax's `apply_if_finite`. The decision is made with
 * ops (`isFinite`, reductions, `where`), so the guard traces and a jitted step keeps one graph. The
 * state counts skipped steps (`notFiniteCount` in a row, `totalNotFinite` in all, `lastFinite`); read
 * them after a step to stop a run that keeps producing NaN. To stop at the first NaN with its location
 * named instead, call {@link checkFinite} eagerly.
 *
 * @example
 * ```ts
 * const opt = guardFinite(chain(clipByGlobalNorm(1), adam({ lr: 1e-3 })));
 * const { updates, state: next } = opt.update(grads, state, params);
 * if (next.notFiniteCount.item() > 10) throw new Error('10 non-finite steps in a row');
 * ```
 */
export function guardFinite<S>(inner: GradientTransformation<S>): GradientTransformation<GuardFiniteState<S>> {
  const fn = 'guardFinite';
  if (inner === null || typeof inner !== 'object' || typeof inner.init !== 'function' || typeof inner.update !== 'function') {
    throw new ArgumentError(`${fn}: inner must be a transformation ({ init, update }), e.g. guardFinite(adam()), got ${String(inner)}`);
  }
  return {
    init: (params) =>
      freezeTree({
        inner: inner.init(params),
        notFiniteCount: zeroCounter(params),
        lastFinite: counterOn(deviceOfTree(params), 1),
        totalNotFinite: zeroCounter(params),
      }) as GuardFiniteState<S>,
    update: (updates, state, params) => {
      const context = `${fn}.update`;
      const innerState = stateField(context, state, 'inner') as S;
      const inARow = stateCounter(context, state, 'notFiniteCount');
      stateCounter(context, state, 'lastFinite'); // not read, but its presence says this is a guardFinite state
      const total = stateCounter(context, state, 'totalNotFinite');
      const result = inner.update(updates, innerState, params);
      const finite = minimum(allFinite(context, 'updates', updates), allFinite(context, 'inner updates', result.updates));
      return {
        updates: mapTensors(context, (u) => where(finite, u, 0), ['inner updates', result.updates]),
        state: freezeTree({
          inner: selectState(context, finite, result.state, innerState),
          notFiniteCount: where(finite, 0, incremented(inARow)),
          lastFinite: finite,
          totalNotFinite: where(finite, total, incremented(total)),
        }) as GuardFiniteState<S>,
      };
    },
  };
}
