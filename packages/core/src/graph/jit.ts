/**
 * jit: trace on first call, optimise, compile, and replay the compiled plan on later calls with the same
 * argument signature (tree structure, shapes, dtypes, static leaves). A new signature traces again.
 */
import { recording, tracing } from '../autodiff/tape.js';
import { ArgumentError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { isContainer } from '../tree/tree.js';
import { buildResult, bindArguments } from './arguments.js';
import { compileGraph, type CompiledGraph } from './compile.js';
import type { Graph } from './graph.js';
import { optimize, type OptimizeOptions } from './optimize.js';
import { trace } from './trace.js';

/** Options of {@link jit}. */
export interface JitOptions extends OptimizeOptions {
  /** Fuse elementwise chains into single kernels (default true). */
  fuse?: boolean;
}

/**
 * A jitted function: call it like the original; `lower` shows what a call with these arguments runs.
 * @typeParam F - the type of the function that was jitted.
 */
export type Jitted<F extends (...args: any[]) => any> = F & {
  /** The optimised graph compiled for arguments like these (traced and compiled if not cached yet). */
  lower(...args: Parameters<F>): Graph;
  /** How many signatures have been compiled. */
  readonly cacheSize: number;
};

const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;

/** The cache key of an argument list: structure, tensor types and static leaves, in one string. */
export function signatureOf(args: readonly unknown[]): string {
  const parts: string[] = [];
  const walk = (x: unknown): void => {
    if (x instanceof Tensor) {
      parts.push(x.dtype, '[', x.shape.join(','), ']');
    } else if (Array.isArray(x)) {
      parts.push('(');
      for (const c of x) walk(c);
      parts.push(')');
    } else if (isContainer(x)) {
      parts.push('{');
      for (const k of Object.keys(x)) {
        parts.push(JSON.stringify(k), ':');
        walk((x as Record<string, unknown>)[k]);
      }
      parts.push('}');
    } else if (x === null || x === undefined || typeof x === 'number' || typeof x === 'boolean' || typeof x === 'string') {
      parts.push(typeof x, ':', String(x), ';');
    } else if (typeof x === 'object' || typeof x === 'function') {
      let id = objectIds.get(x);
      if (id === undefined) objectIds.set(x, (id = nextObjectId++));
      parts.push('#', String(id), ';');
    } else parts.push(typeof x, ':', String(x), ';');
  };
  walk(args);
  return parts.join('');
}

function hasTracked(args: readonly unknown[]): boolean {
  let found = false;
  const walk = (x: unknown): void => {
    if (found) return;
    if (x instanceof Tensor) found = x.track !== null || x.traced !== null;
    else if (Array.isArray(x)) x.forEach(walk);
    else if (isContainer(x)) Object.values(x).forEach(walk);
  };
  walk(args);
  return found;
}

/**
 * Compiles `f` for speed. The first call with a given signature (argument tree structure, shapes, dtypes
 * and non-tensor leaves) traces `f`, runs the graph passes, fuses elementwise chains, plans memory and
 * builds a flat list of kernel calls; later calls with that signature only replay it. Results equal
 * eager execution's (fusion keeps each op's rounding). `f` must be pure: it runs once per signature, on
 * abstract values. Under a differentiation or inside a trace, a jitted function simply runs `f` (so
 * gradients flow through it); to train fast, jit the whole step — `valueAndGrad` inside.
 * @example
 * ```ts
 * const step = jit((params, state, batch) => {
 *   const [loss, grads] = valueAndGrad(lossFn)(params, batch);
 *   const { updates, state: next } = optimizer.update(grads, state, params);
 *   return { params: applyUpdates(params, updates), state: next, loss };
 * });
 * for (const batch of batches) ({ params, state, loss } = step(params, state, batch));
 * ```
 * @typeParam F - the function's type; the jitted function has the same signature.
 */
export function jit<F extends (...args: any[]) => any>(f: F, options: JitOptions = {}): Jitted<F> {
  if (typeof f !== 'function') throw new ArgumentError(`jit: expected a function, got ${typeof f}`);
  const cache = new Map<string, CompiledGraph>();
  const compiledFor = (args: unknown[]): CompiledGraph => {
    const key = signatureOf(args);
    let compiled = cache.get(key);
    if (compiled === undefined) {
      compiled = compileGraph(optimize(trace(f, ...args), options), options);
      cache.set(key, compiled);
    }
    return compiled;
  };
  const jitted = (...args: unknown[]): unknown => {
    // inside a trace or a differentiation the ops themselves must be seen: run f as it is
    if (tracing() || (recording() && hasTracked(args))) return f(...args);
    const compiled = compiledFor(args);
    const inputs = bindArguments('jit', compiled.graph, args);
    return buildResult(compiled.graph, compiled.run(inputs));
  };
  // a getter (Object.assign would copy the size once)
  Object.defineProperty(jitted, 'cacheSize', { get: () => cache.size });
  return Object.assign(jitted, { lower: (...args: unknown[]) => compiledFor(args).graph }) as unknown as Jitted<F>;
}
