/**
 * jit: trace on first call, optimise, compile, and replay the compiled plan on later calls with the same
 * argument signature (tree structure, shapes, dtypes, static leaves). A new signature traces again.
 */
import { recording, tracing } from '../binding/tape.js';
import type { Backend } from '../backend/backend.js';
import { cpu } from '../backend/cpu.js';
import { ArgumentError } from '../errors.js';
import type { DType } from '../dtype.js';
import { donateStorage, isDonated, Tensor } from '../tensor.js';
import { isContainer } from '../tree/tree.js';
import { buildResult, bindArguments } from './arguments.js';
import { compileRunnable, type RunnableGraph } from './compile.js';
import type { Graph } from './graph.js';
import { optimize, type OptimizeOptions } from './optimize.js';
import { trace } from './trace.js';

/** Options of {@link jit}. */
export interface JitOptions extends OptimizeOptions {
  /** Fuse elementwise chains into single kernels (default true). */
  fuse?: boolean;
  /**
   * Positions of arguments the call may take the storage of (JAX's `donate_argnums`). Every tensor in a
   * donated argument is consumed by the call: reading it afterwards throws, and its storage is recycled as
   * the storage of a later call's results of the same dtype and length. Donate what a training step
   * replaces (parameters, optimiser state, carried state) and the step allocates nothing after its second
   * call but the results it has no donated storage for. Do not donate a tensor whose storage other live
   * tensors share (a reshape of it, say): they would see the recycled storage change.
   */
  donate?: readonly number[];
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
function signatureOf(args: readonly unknown[]): string {
  const parts: string[] = [];
  const walk = (x: unknown): void => {
    if (x instanceof Tensor) {
      parts.push(x.dtype, '@', x.backend.name, '[', x.shape.join(','), ']');
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

/** The donated argument positions, checked. */
function checkDonate(donate: readonly number[] | undefined): readonly number[] {
  if (donate === undefined) return [];
  if (!Array.isArray(donate)) throw new ArgumentError(`jit: donate must be an array of argument positions, got ${typeof donate}`);
  donate.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 0) throw new ArgumentError(`jit: donate[${i}] must be a non-negative integer argument position, got ${String(k)}`);
    if (donate.indexOf(k) !== i) throw new ArgumentError(`jit: donate lists argument ${k} twice`);
  });
  return [...donate];
}

/** The tensor leaves of `x` with their paths under `prefix`. */
function tensorLeaves(x: unknown, prefix: string, out: [string, Tensor][]): [string, Tensor][] {
  if (x instanceof Tensor) out.push([prefix, x]);
  else if (Array.isArray(x)) x.forEach((c, i) => tensorLeaves(c, `${prefix}[${i}]`, out));
  else if (isContainer(x)) for (const [k, c] of Object.entries(x)) tensorLeaves(c, `${prefix}.${k}`, out);
  return out;
}

/** Whether `storage` is not a view into memory other arrays may share (a typed array over part of a buffer). */
function ownsBuffer(storage: unknown): boolean {
  if (!ArrayBuffer.isView(storage)) return true;
  return storage.byteOffset === 0 && storage.byteLength === storage.buffer.byteLength;
}

/**
 * Storage recycled from donated arguments, by dtype and length, for the results of later calls of one
 * compiled graph; it keeps no more arrays of a kind than the graph has results of that kind.
 */
class StoragePool {
  private readonly free = new Map<string, unknown[]>();
  private readonly capacity = new Map<string, number>();

  constructor(results: readonly { readonly dtype: DType; readonly size: number }[]) {
    for (const { dtype, size } of results) {
      const key = `${dtype}:${size}`;
      this.capacity.set(key, (this.capacity.get(key) ?? 0) + 1);
    }
  }

  /** Takes an array for a result, never one of `busy` (storage the call reads). */
  take(dtype: DType, size: number, busy: ReadonlySet<unknown>): unknown {
    const list = this.free.get(`${dtype}:${size}`);
    if (list === undefined) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      if (!busy.has(list[i]!)) return list.splice(i, 1)[0];
    }
    return undefined;
  }

  /** Offers the storage of a donated tensor. */
  give(dtype: DType, size: number, data: unknown): void {
    const key = `${dtype}:${size}`;
    const list = this.free.get(key) ?? [];
    if (list.length < (this.capacity.get(key) ?? 0) && ownsBuffer(data) && !list.includes(data)) {
      list.push(data);
      this.free.set(key, list);
    }
  }
}

/**
 * Runs `compiled` on `args` donating the arguments at `donate`: results take recycled storage where the pool
 * has some, and the donated tensors' storage joins the pool unless a result or a kept argument still uses it.
 */
function runDonating(compiled: RunnableGraph, pool: StoragePool, args: readonly unknown[], donate: readonly number[]): unknown {
  const given: [string, Tensor][] = [];
  const kept: [string, Tensor][] = [];
  args.forEach((a, k) => tensorLeaves(a, `args[${k}]`, donate.includes(k) ? given : kept));
  for (const k of donate) {
    if (k >= args.length) throw new ArgumentError(`jit: donate names argument ${k}, but the call has ${args.length} arguments`);
  }
  for (const [path, t] of [...given, ...kept]) {
    if (isDonated(t)) {
      throw new ArgumentError(`jit: argument ${path} (${t.toString()}) was donated to an earlier call; pass that call's results instead`);
    }
  }
  const inputs = bindArguments('jit', compiled.graph, args);
  const busy = new Set(inputs.map((t) => t.storage));
  const result = buildResult(
    compiled.graph,
    compiled.run(inputs, (dtype, size) => pool.take(dtype, size, busy)),
  );
  const inUse = new Set<unknown>(kept.map(([, t]) => t.storage));
  for (const [, t] of tensorLeaves(result, '', [])) inUse.add(t.storage);
  for (const [, t] of given) {
    if (isDonated(t)) continue; // the same tensor twice
    const data = donateStorage(t);
    if (!inUse.has(data)) pool.give(t.dtype, t.size, data);
  }
  return result;
}

/** The backend the tensor arguments live on (the CPU when there are none); all must share it. */
function backendOfArguments(args: readonly unknown[]): Backend {
  const leaves = tensorLeaves(args, 'args', []);
  if (leaves.length === 0) return cpu;
  const [firstPath, first] = leaves[0]!;
  for (const [path, t] of leaves) {
    if (t.backend !== first.backend) {
      throw new ArgumentError(
        `jit: arguments live on two backends: ${firstPath} on ${first.backend.name} and ${path} on ${t.backend.name}; ` +
          'move them to one with devicePut(tree, device)',
      );
    }
  }
  return first.backend;
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
 * gradients flow through it); to train fast, jit the whole step — `valueAndGrad` inside — and donate
 * what it replaces, so that it reuses their storage instead of allocating.
 * @example
 * ```ts
 * const step = jit((params, state, batch) => {
 *   const [loss, grads] = valueAndGrad(lossFn)(params, batch);
 *   const { updates, state: next } = optimizer.update(grads, state, params);
 *   return { params: applyUpdates(params, updates), state: next, loss };
 * }, { donate: [0, 1] });
 * for (const batch of batches) ({ params, state, loss } = step(params, state, batch));
 * ```
 * @typeParam F - the function's type; the jitted function has the same signature.
 */
export function jit<F extends (...args: any[]) => any>(f: F, options: JitOptions = {}): Jitted<F> {
  if (typeof f !== 'function') throw new ArgumentError(`jit: expected a function, got ${typeof f}`);
  const donate = checkDonate(options.donate);
  const cache = new Map<string, RunnableGraph>();
  const pools = new Map<RunnableGraph, StoragePool>();
  const compiledFor = (args: unknown[]): RunnableGraph => {
    const key = signatureOf(args);
    let compiled = cache.get(key);
    if (compiled === undefined) {
      const backend = backendOfArguments(args);
      compiled = compileRunnable(optimize(trace(f, ...args), options), { ...options, backend });
      cache.set(key, compiled);
    }
    return compiled;
  };
  const jitted = (...args: unknown[]): unknown => {
    // inside a trace or a differentiation the ops themselves must be seen: run f as it is
    if (tracing() || (recording() && hasTracked(args))) return f(...args);
    const compiled = compiledFor(args);
    if (donate.length > 0) {
      let pool = pools.get(compiled);
      if (pool === undefined) pools.set(compiled, (pool = new StoragePool(compiled.freshResults)));
      return runDonating(compiled, pool, args, donate);
    }
    const inputs = bindArguments('jit', compiled.graph, args);
    return buildResult(compiled.graph, compiled.run(inputs));
  };
  // a getter (Object.assign would copy the size once)
  Object.defineProperty(jitted, 'cacheSize', { get: () => cache.size });
  return Object.assign(jitted, { lower: (...args: unknown[]) => compiledFor(args).graph }) as unknown as Jitted<F>;
}
