import { isFloat } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { formatShape, shapesEqual } from '../shape.js';
import { onesLike, Tensor, zerosLike } from '../tensor.js';
import { treeFlattenWithPath, treeUnflatten, treeStructure, freezeTree, type TreeDef } from '../tree/tree.js';
import { add } from '../ops/arithmetic.js';
import { backward } from './backward.js';
import { closeTape, openTape, watch, type Tape } from '../binding/tape.js';
import { slotOn } from '../binding/track.js';

interface Watched {
  readonly def: TreeDef;
  readonly leaves: Tensor[];
  readonly paths: string[];
}

function watchArgument(op: string, tape: Tape, arg: unknown, index: number): [unknown, Watched] {
  const flat = treeFlattenWithPath<unknown>(arg);
  const leaves = flat.map(([path, leaf]) => {
    const where = `argument ${index}${path === '' ? '' : ` at ${path}`}`;
    if (!(leaf instanceof Tensor)) {
      throw new ArgumentError(
        `${op}: ${where} is ${leaf === null ? 'null' : typeof leaf}, but only tensors can be differentiated (pass it as a non-differentiated argument instead)`,
      );
    }
    if (!isFloat(leaf.dtype)) {
      throw new DTypeError(`${op}: ${where} is ${leaf.dtype} ${formatShape(leaf.shape)}; only float32/float64 can be differentiated (exclude it with argnums)`);
    }
    return watch(tape, leaf);
  });
  const def = treeStructure(arg);
  return [treeUnflatten(def, leaves), { def, leaves, paths: flat.map(([p]) => p) }];
}

function normalizeArgnums(op: string, argnums: number | readonly number[], count: number): number[] {
  if (typeof argnums !== 'number' && !Array.isArray(argnums)) {
    throw new ArgumentError(`${op}: argnums must be an argument position or an array of them, got ${JSON.stringify(argnums) ?? String(argnums)}`);
  }
  const list = typeof argnums === 'number' ? [argnums] : Array.from(argnums);
  for (const a of list) {
    if (!Number.isInteger(a) || a < 0 || a >= count) {
      throw new ArgumentError(`${op}: argnums ${JSON.stringify(argnums)} is out of range for ${count} argument${count === 1 ? '' : 's'}`);
    }
  }
  return list;
}

/**
 * Runs `f` with the arguments at `argnums` watched on a fresh tape; returns the output and a function
 * mapping output cotangents to argument cotangents.
 */
function record(op: string, f: (...args: any[]) => unknown, args: unknown[], argnums: number[]) {
  const tape = openTape();
  const watched = new Map<number, Watched>();
  let output: unknown;
  try {
    const callArgs = args.slice();
    for (const a of argnums) {
      const [replaced, info] = watchArgument(op, tape, args[a], a);
      callArgs[a] = replaced;
      watched.set(a, info);
    }
    output = f(...callArgs);
  } finally {
    closeTape(tape);
  }
  const pullback = (outputs: readonly Tensor[], cotangents: readonly Tensor[]): unknown[] => {
    const seeds = new Map<number, Tensor>();
    outputs.forEach((out, i) => {
      const slot = slotOn(out.track, tape);
      if (slot < 0) return; // this output does not depend on the watched arguments
      const ct = cotangents[i]!;
      const previous = seeds.get(slot);
      seeds.set(slot, previous === undefined ? ct : add(previous, ct));
    });
    const cts = backward(tape, seeds);
    return argnums.map((a) => {
      const info = watched.get(a)!;
      const grads = info.leaves.map((leaf) => {
        const slot = slotOn(leaf.track, tape);
        return cts[slot] ?? zerosLike(leaf);
      });
      return freezeTree(treeUnflatten(info.def, grads));
    });
  };
  return { output, pullback };
}

function scalarOutput(op: string, value: unknown): Tensor {
  if (!(value instanceof Tensor)) {
    throw new ArgumentError(
      `${op}: the function must return a scalar Tensor, got ${value === null ? 'null' : Array.isArray(value) ? 'an array (use hasAux to return [loss, aux])' : typeof value}`,
    );
  }
  if (value.size !== 1) {
    throw new ShapeError(
      `${op}: the function must return a scalar (one element), got shape ${formatShape(value.shape)} (reduce it with sum or mean, or use vjp)`,
    );
  }
  if (!isFloat(value.dtype)) throw new DTypeError(`${op}: the function returned ${value.dtype}; only float outputs can be differentiated`);
  return value;
}

/** Options of {@link valueAndGrad}. */
export interface ValueAndGradOptions {
  /** The function returns `[loss, aux]`; aux is passed through untouched and not differentiated. */
  hasAux?: boolean;
}

/**
 * Returns a function computing `f`'s value and its gradient with respect to the arguments at `argnums`
 * (default 0). Arguments are trees of tensors; each gradient has exactly its argument's structure.
 * With a number `argnums` the gradient is one tree; with an array, an array of trees.
 * @example
 * ```ts
 * const loss = (w: Tensor, x: Tensor) => sum(square(matmul(x, w)));
 * const [value, dw] = valueAndGrad(loss)(w, x);
 * const [[l, state], g] = valueAndGrad((p) => [lossOf(p), newState] as const, 0, { hasAux: true })(params);
 * ```
 */
export function valueAndGrad(f: (...args: any[]) => any, argnums: number | readonly number[] = 0, options: ValueAndGradOptions = {}) {
  return valueAndGradAs('valueAndGrad', f, argnums, options);
}

/**
 * {@link valueAndGrad} whose errors name `op`, the function the user called (`grad`, `checkGrad`).
 * @internal
 */
export function valueAndGradAs(op: string, f: (...args: any[]) => any, argnums: number | readonly number[], options: ValueAndGradOptions) {
  if (typeof f !== 'function') throw new ArgumentError(`${op}: expected a function, got ${typeof f}`);
  if (options === null || typeof options !== 'object') throw new ArgumentError(`${op}: options must be an object, got ${String(options)}`);
  if (typeof argnums !== 'number' && !Array.isArray(argnums)) normalizeArgnums(op, argnums, 0);
  return (...args: any[]): [any, any] => {
    const nums = normalizeArgnums(op, argnums, args.length);
    const { output, pullback } = record(op, f, args, nums);
    let loss: Tensor;
    let aux: unknown;
    if (options.hasAux) {
      if (!Array.isArray(output) || output.length !== 2) {
        throw new ArgumentError(`${op}: with hasAux the function must return [loss, aux]`);
      }
      loss = scalarOutput(op, output[0]);
      aux = output[1];
    } else loss = scalarOutput(op, output);
    const grads = pullback([loss], [onesLike(loss)]);
    const g = typeof argnums === 'number' ? grads[0] : grads;
    return [options.hasAux ? [loss, aux] : loss, g];
  };
}

/**
 * Returns a function computing the gradient of scalar-valued `f` with respect to the arguments at `argnums`
 * (default 0). Gradients of gradients work: the backward pass is made of differentiable ops.
 * @example
 * ```ts
 * const df = grad((x: Tensor) => sum(mul(x, x)));
 * df(tensor([1, 2, 3])); // [2, 4, 6]
 * const d2f = grad((x: Tensor) => sum(df(x)));  // second order
 * ```
 */
export function grad(f: (...args: any[]) => any, argnums: number | readonly number[] = 0, options: ValueAndGradOptions = {}) {
  const vg = valueAndGradAs('grad', f, argnums, options);
  return (...args: any[]): any => vg(...args)[1];
}

/**
 * Evaluates `f(...args)` and returns its output with a pullback: given a cotangent tree shaped like the
 * output, the pullback returns the cotangents of all arguments (an array, one tree per argument).
 * @example
 * ```ts
 * const [y, pullback] = vjp((x: Tensor) => tanh(x), x);
 * const [dx] = pullback(onesLike(y));
 * ```
 */
export function vjp(f: (...args: any[]) => any, ...args: any[]): [any, (cotangent: any) => any[]] {
  if (typeof f !== 'function') throw new ArgumentError(`vjp: expected a function, got ${typeof f}`);
  const nums = args.map((_, i) => i);
  const { output, pullback } = record('vjp', f, args, nums);
  const outputs = treeFlattenWithPath<Tensor>(output);
  return [
    output,
    (cotangent: unknown) => {
      const cts = treeFlattenWithPath<Tensor>(cotangent);
      if (cts.length !== outputs.length) {
        throw new ArgumentError(`vjp: the cotangent has ${cts.length} leaves but the output has ${outputs.length}`);
      }
      cts.forEach(([path, ct], i) => {
        const out = outputs[i]![1];
        if (!(ct instanceof Tensor) || !shapesEqual(ct.shape, out.shape) || ct.dtype !== out.dtype) {
          throw new ShapeError(
            `vjp: cotangent ${path || '(root)'} must be a ${out.dtype} tensor of shape ${formatShape(out.shape)}, got ` +
              (ct instanceof Tensor ? `${ct.dtype} ${formatShape(ct.shape)}` : typeof ct),
          );
        }
      });
      return pullback(
        outputs.map(([, o]) => o),
        cts.map(([, c]) => c),
      );
    },
  ];
}
