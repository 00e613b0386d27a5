import { Tensor } from '../tensor.js';
import { treeMap } from '../tree/tree.js';
import { untracked } from '../binding/tape.js';

/**
 * The same value (a tensor or a tree of them), cut from every tape: no gradient flows back through it.
 * Truncated BPTT is this on the carried state between windows.
 * @example
 * ```ts
 * state = stopGradient(state); // { h, c } carried into the next window, detached
 * ```
 */
export function stopGradient<T>(x: T): T {
  if (x instanceof Tensor) return untracked(x) as T;
  return treeMap((leaf: unknown) => (leaf instanceof Tensor ? untracked(leaf) : leaf), x) as T;
}
