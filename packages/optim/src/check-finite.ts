/**
 * A guard against diverging runs: find the first NaN or infinity in a tree and stop with a message that
 * names it, instead of letting NaN spread silently through parameters and optimiser state.
 */
import { ArgumentError } from '@tapestry/core';
import { emptyState, type EmptyState, type GradientTransformation } from './base.js';
import { tensorLeaves } from './internal/trees.js';

/** Thrown by {@link checkFinite} and {@link guardFinite}; says where the first non-finite value sits. */
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
 * when every value is finite, so it can wrap an expression. It reads the values back, so it does not
 * belong inside a traced function.
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

/**
 * A transformation that passes updates through unchanged but throws a {@link NonFiniteError} (naming the
 * leaf) as soon as one is not finite. First in a chain it checks the gradients; last, the final updates.
 *
 * @example
 * ```ts
 * const opt = chain(guardFinite(), clipByGlobalNorm(1), adam({ lr: 1e-3 }));
 * ```
 */
export function guardFinite(options: { name?: string } = {}): GradientTransformation<EmptyState> {
  const name = options.name ?? 'updates';
  return {
    init: () => emptyState(),
    update: (updates, state) => ({ updates: checkFinite(updates, { name, caller: 'guardFinite' }), state }),
  };
}
