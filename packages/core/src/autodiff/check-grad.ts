import { ArgumentError, DTypeError } from '../errors.js';
import { formatShape } from '../shape.js';
import { hostData, Tensor } from '../tensor.js';
import { treeFlattenWithPath, treeStructure, treeUnflatten } from '../tree/tree.js';
import { valueAndGradAs } from './grad.js';

/** Options of {@link checkGrad}. */
export interface CheckGradOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Largest accepted error `|analytic − numeric| / max(1, |analytic|, |numeric|)` (default 1e-6). */
  tol?: number;
  /** Which arguments to check (default: all). */
  argnums?: number | readonly number[];
}

/** The outcome of {@link checkGrad}. */
export interface CheckGradResult {
  /** Whether every element is within `tol`. */
  ok: boolean;
  /** The largest error found. */
  maxError: number;
  /** Where the largest error is and both values, or a summary when all is well. */
  message: string;
}

/**
 * Compares reverse-mode gradients of scalar `f` with central finite differences,
 * `(f(x + ε) − f(x − ε)) / 2ε`, element by element, in float64. Every differentiated leaf must be float64
 * (float32 is too coarse for finite differences). Use it on your own functions and cells.
 * @example
 * ```ts
 * const x = tensor([0.3, -1.2], { dtype: 'float64' });
 * const r = checkGrad((x: Tensor) => sum(tanh(x)), [x]);
 * if (!r.ok) throw new Error(r.message);
 * ```
 */
export function checkGrad(f: (...args: any[]) => Tensor, args: readonly unknown[], options: CheckGradOptions = {}): CheckGradResult {
  if (typeof f !== 'function') throw new ArgumentError(`checkGrad: f must be a function, got ${typeof f}`);
  if (!Array.isArray(args)) throw new ArgumentError(`checkGrad: args must be an array of arguments, got ${args === null ? 'null' : typeof args}`);
  if (options === null || typeof options !== 'object') throw new ArgumentError(`checkGrad: options must be an object, got ${String(options)}`);
  const eps = options.eps ?? 1e-6;
  const tol = options.tol ?? 1e-6;
  // eps 0 divides by zero and tol NaN fails every comparison: either would report nonsense, not a check
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps <= 0) {
    throw new ArgumentError(`checkGrad: options.eps must be a finite number > 0, got ${String(eps)}`);
  }
  if (typeof tol !== 'number' || Number.isNaN(tol) || tol < 0) throw new ArgumentError(`checkGrad: options.tol must be a number ≥ 0, got ${String(tol)}`);
  const argnums = options.argnums === undefined ? args.map((_, i) => i) : typeof options.argnums === 'number' ? [options.argnums] : options.argnums;
  const analytic = valueAndGradAs('checkGrad', f, argnums, {})(...args)[1] as unknown[];
  let maxError = 0;
  let worst = 'no elements to check';
  let count = 0;
  argnums.forEach((argIndex, k) => {
    const leaves = treeFlattenWithPath<Tensor>(args[argIndex]);
    const grads = treeFlattenWithPath<Tensor>(analytic[k]);
    const def = treeStructure(args[argIndex]);
    leaves.forEach(([path, leaf], li) => {
      if (leaf.dtype !== 'float64') {
        throw new DTypeError(
          `checkGrad: argument ${argIndex}${path ? ` at ${path}` : ''} is ${leaf.dtype} ${formatShape(leaf.shape)}; finite differences need float64`,
        );
      }
      const g = hostData(grads[li]![1], 'checkGrad');
      const base = hostData(leaf, 'checkGrad') as Float64Array;
      for (let e = 0; e < leaf.size; e++) {
        const evalAt = (delta: number): number => {
          const data = base.slice();
          data[e] = base[e]! + delta;
          const replaced = leaves.map(([, l], j) => (j === li ? new Tensor(data, l.shape, l.dtype) : l));
          const callArgs = args.slice();
          callArgs[argIndex] = treeUnflatten(def, replaced);
          return f(...callArgs).item();
        };
        const numeric = (evalAt(eps) - evalAt(-eps)) / (2 * eps);
        const a = g[e]!;
        const error = Math.abs(a - numeric) / Math.max(1, Math.abs(a), Math.abs(numeric));
        count++;
        if (Number.isNaN(error) || error > maxError || count === 1) {
          maxError = Number.isNaN(error) ? Infinity : Math.max(maxError, error);
          worst = `argument ${argIndex}${path ? ` at ${path}` : ''}, element ${e}: analytic ${a}, numeric ${numeric}`;
        }
      }
    });
  });
  const ok = maxError <= tol;
  const message = ok
    ? `checkGrad: ${count} elements within ${tol} (max error ${maxError.toExponential(2)})`
    : `checkGrad: max error ${maxError.toExponential(3)} > ${tol} at ${worst}`;
  return { ok, maxError, message };
}
