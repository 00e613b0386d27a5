/**
 * Argument checks for the trees optimisers receive (params, gradients, updates, state), so a
 * mismatch is reported by the optimiser that met it, naming the leaf by its tree path, instead of
 * surfacing later as a broadcasting error deep inside an op.
 */
import { ArgumentError, DTypeError, ShapeError, Tensor, formatShape, freezeTree, treeFlattenWithPath, treeStructure, treeUnflatten } from '@tapestry/core';
import { describeGiven } from './describe.js';

/** `grads` + `layers[0].weight` → `grads.layers[0].weight`; the root alone is just `grads`. */
function joinPath(arg: string, path: string): string {
  if (path === '') return arg;
  return path.startsWith('[') ? `${arg}${path}` : `${arg}.${path}`;
}

/** One tensor leaf: its path inside the tree, its path with the argument name (for messages), the tensor. */
interface Leaf {
  readonly path: string;
  readonly where: string;
  readonly tensor: Tensor;
}

function leaves(fn: string, arg: string, tree: unknown): Leaf[] {
  return treeFlattenWithPath(tree).map(([path, leaf]) => {
    const where = joinPath(arg, path);
    if (!(leaf instanceof Tensor)) {
      throw new ArgumentError(`${fn}: ${where} is ${describeGiven(leaf)}; every leaf of ${arg} must be a Tensor`);
    }
    if (leaf.dtype !== 'float32' && leaf.dtype !== 'float64') {
      throw new DTypeError(`${fn}: ${where} has dtype ${leaf.dtype}; ${arg} must hold float32 or float64 tensors`);
    }
    return { path, where, tensor: leaf };
  });
}

/** The leaves of `tree` with their full paths, after checking that every leaf is a float tensor. */
export function tensorLeaves(fn: string, arg: string, tree: unknown): [string, Tensor][] {
  return leaves(fn, arg, tree).map((l) => [l.where, l.tensor]);
}

/**
 * The leaves of `other` in the order of `reference`'s leaves, after checking that both have the same
 * leaf paths, shapes and dtypes (object key order may differ). Messages name the first leaf that differs.
 */
function alignedLeaves(fn: string, reference: readonly Leaf[], refName: string, other: readonly [string, unknown]): Tensor[] {
  const [name, tree] = other;
  const byPath = new Map(leaves(fn, name, tree).map((l) => [l.path, l]));
  const out = reference.map((ref) => {
    const leaf = byPath.get(ref.path);
    if (leaf === undefined) {
      throw new ArgumentError(
        `${fn}: ${name} has no leaf ${joinPath(name, ref.path)} to match ${ref.where}; ` + `${name} and ${refName} must have the same tree structure`,
      );
    }
    const a = leaf.tensor;
    const b = ref.tensor;
    if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
      throw new ShapeError(`${fn}: ${leaf.where} has shape ${formatShape(a.shape)} but ${ref.where} has shape ${formatShape(b.shape)}`);
    }
    if (a.dtype !== b.dtype) {
      throw new DTypeError(`${fn}: ${leaf.where} has dtype ${a.dtype} but ${ref.where} has dtype ${b.dtype}`);
    }
    byPath.delete(ref.path);
    return a;
  });
  const extra = byPath.values().next();
  if (!extra.done) {
    throw new ArgumentError(`${fn}: ${extra.value.where} has no counterpart in ${refName}; ${name} and ${refName} must have the same tree structure`);
  }
  return out;
}

/**
 * Maps `f` over matching tensor leaves of several trees, each given as [argument name, tree] and checked
 * against the first, and returns a new frozen tree shaped like the first.
 */
export function mapTensors<T>(fn: string, f: (...leaves: Tensor[]) => Tensor, first: readonly [string, T], ...rest: (readonly [string, unknown])[]): T {
  const reference = leaves(fn, first[0], first[1]);
  const others = rest.map((other) => alignedLeaves(fn, reference, first[0], other));
  const mapped = reference.map((ref, i) => f(ref.tensor, ...others.map((o) => o[i]!)));
  return freezeTree(treeUnflatten(treeStructure(first[1]), mapped)) as T;
}

/** Throws when a transformation that needs the params (weight decay) was called without them. */
export function requireParams<T>(fn: string, params: T | undefined, why: string): T {
  if (params === undefined) {
    throw new ArgumentError(`${fn}: params are required (${why}); call update(grads, state, params)`);
  }
  return params;
}
