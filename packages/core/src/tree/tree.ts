/**
 * Trees: nested plain objects and arrays whose leaves are anything else (usually tensors). Parameters,
 * gradients, optimiser states and scan carries are all trees; nothing has to be registered. `null` and
 * `undefined` are empty subtrees: they keep their place in the structure and hold no leaves.
 */
import { freeze } from 'immer';
import { ArgumentError } from '../errors.js';

/** A nested structure of plain objects and arrays with leaves of type `L`. */
export type Tree<L> = L | null | undefined | readonly Tree<L>[] | { readonly [key: string]: Tree<L> };

/** The structure of a tree without its leaves, as {@link treeFlatten} returns it. */
export type TreeDef =
  | {
      /** A leaf. */
      readonly kind: 'leaf';
    }
  | {
      /** An empty subtree. */
      readonly kind: 'none';
      /** Which empty value it was. */
      readonly value: null | undefined;
    }
  | {
      /** An array. */
      readonly kind: 'array';
      /** The structure of each element. */
      readonly children: readonly TreeDef[];
    }
  | {
      /** A plain object. */
      readonly kind: 'object';
      /** Its keys, in insertion order. */
      readonly keys: readonly string[];
      /** The structure of each key's value, in the order of `keys`. */
      readonly children: readonly TreeDef[];
    };

/** Whether `x` is a container (plain object or array) rather than a leaf. */
export function isContainer(x: unknown): x is Record<string, unknown> | unknown[] {
  if (Array.isArray(x)) return true;
  if (x === null || typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function childPath(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
}

/**
 * The leaves of a tree with their paths (`layers[0].weight`), depth first, object keys in insertion order.
 * @example
 * ```ts
 * treeFlattenWithPath({ w: a, b: [c] }); // [['w', a], ['b[0]', c]]
 * ```
 */
export function treeFlattenWithPath<L = unknown>(tree: unknown): [string, L][] {
  const out: [string, L][] = [];
  // an explicit stack: deep trees (a long list of per-step states) must not overflow the JS stack
  const stack: [unknown, string][] = [[tree, '']];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (node === null || node === undefined) continue;
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push([node[i], childPath(path, i)]);
    } else if (isContainer(node)) {
      const keys = Object.keys(node);
      for (let i = keys.length - 1; i >= 0; i--) stack.push([(node as Record<string, unknown>)[keys[i]!], childPath(path, keys[i]!)]);
    } else out.push([path, node as L]);
  }
  return out;
}

/** The leaves of a tree, depth first. */
export function treeLeaves<L = unknown>(tree: unknown): L[] {
  return treeFlattenWithPath<L>(tree).map(([, leaf]) => leaf);
}

function structure(tree: unknown): TreeDef {
  if (tree === null || tree === undefined) return { kind: 'none', value: tree };
  if (Array.isArray(tree)) return { kind: 'array', children: tree.map(structure) };
  if (isContainer(tree)) {
    const keys = Object.keys(tree);
    return { kind: 'object', keys, children: keys.map((k) => structure((tree as Record<string, unknown>)[k])) };
  }
  return { kind: 'leaf' };
}

/**
 * Splits a tree into its leaves and its structure; {@link treeUnflatten} puts them back together.
 * @example
 * ```ts
 * const [leaves, def] = treeFlatten(params);
 * const doubled = treeUnflatten(def, leaves.map((x) => mul(x, 2)));
 * ```
 */
export function treeFlatten<L = unknown>(tree: unknown): [L[], TreeDef] {
  return [treeLeaves<L>(tree), structure(tree)];
}

/** Rebuilds a tree of the given structure from leaves in {@link treeFlatten}'s order. */
export function treeUnflatten<L = unknown, T = unknown>(def: TreeDef, leaves: readonly L[]): T {
  let next = 0;
  const build = (d: TreeDef): unknown => {
    switch (d.kind) {
      case 'leaf':
        if (next >= leaves.length) throw new ArgumentError(`treeUnflatten: the structure has more leaves than the ${leaves.length} given`);
        return leaves[next++];
      case 'none':
        return d.value;
      case 'array':
        return d.children.map(build);
      case 'object': {
        const out: Record<string, unknown> = {};
        d.keys.forEach((k, i) => (out[k] = build(d.children[i]!)));
        return out;
      }
    }
  };
  const tree = build(def);
  if (next !== leaves.length) throw new ArgumentError(`treeUnflatten: ${leaves.length} leaves given but the structure has ${next}`);
  return tree as T;
}

/** The structure of a tree, for comparing two trees. */
export function treeStructure(tree: unknown): TreeDef {
  return structure(tree);
}

function describe(def: TreeDef): string {
  switch (def.kind) {
    case 'leaf':
      return 'a leaf';
    case 'none':
      return String(def.value);
    case 'array':
      return `an array of ${def.children.length}`;
    case 'object':
      return `an object with keys {${def.keys.join(', ')}}`;
  }
}

/**
 * Throws an ArgumentError naming the first path where `b`'s structure differs from `a`'s.
 * @internal
 */
export function assertSameStructure(op: string, a: unknown, b: unknown, names: [string, string] = ['tree', 'other']): void {
  const stack: [TreeDef, TreeDef, string][] = [[structure(a), structure(b), '']];
  while (stack.length > 0) {
    const [x, y, path] = stack.pop()!;
    const where = path === '' ? 'at the root' : `at ${path}`;
    const same =
      x.kind === y.kind &&
      (x.kind !== 'array' || x.children.length === (y as typeof x).children.length) &&
      (x.kind !== 'object' || x.keys.join('\u0000') === (y as typeof x).keys.join('\u0000'));
    if (!same) throw new ArgumentError(`${op}: tree structures differ ${where}: ${names[0]} has ${describe(x)}, ${names[1]} has ${describe(y)}`);
    if (x.kind === 'array') x.children.forEach((c, i) => stack.push([c, (y as typeof x).children[i]!, childPath(path, i)]));
    if (x.kind === 'object') x.children.forEach((c, i) => stack.push([c, (y as typeof x).children[i]!, childPath(path, x.keys[i]!)]));
  }
}

/**
 * Applies `fn` to every leaf (and the matching leaves of `rest`, which must have the same structure).
 * The result is a new tree whose containers are frozen; the inputs are not touched, and neither is what
 * `fn` returns (an object or a Map returned for a leaf stays the caller's, mutable as it was).
 * @example
 * ```ts
 * const scaled = treeMap((g) => mul(g, 0.5), grads);
 * const updated = treeMap((p, g) => sub(p, mul(g, lr)), params, grads);
 * ```
 */
export function treeMap<R, L = any>(fn: (leaf: L, ...rest: any[]) => R, tree: unknown, ...rest: unknown[]): any {
  rest.forEach((r, i) => assertSameStructure('treeMap', tree, r, ['tree', `rest[${i}]`]));
  const [leaves, def] = treeFlatten<L>(tree);
  const others = rest.map((r) => treeLeaves(r));
  const mapped = leaves.map((leaf, i) => fn(leaf, ...others.map((o) => o[i])));
  return freezeContainers(def, treeUnflatten(def, mapped));
}

/**
 * Pairs up the leaves of trees of the same structure: a tree of arrays `[a, b, …]`.
 * @example
 * ```ts
 * treeZip({ w: a }, { w: b }); // { w: [a, b] } — the arrays are leaves of the result
 * ```
 */
export function treeZip(...trees: unknown[]): any {
  if (trees.length === 0) throw new ArgumentError('treeZip: expected at least one tree');
  const [first, ...rest] = trees;
  // the pairs are arrays treeZip builds, so they are frozen like the rest of its result
  return treeMap((leaf: unknown, ...others: unknown[]) => freeze([leaf, ...others]), first, ...rest);
}

/**
 * Freezes a tree's containers (plain objects and arrays, all the way down) with immer. Leaves are left alone:
 * tensors are immutable already, and a Map, a class instance or a function held as a leaf belongs to the
 * caller, who may still change it. Returns the same tree.
 */
export function freezeTree<T>(tree: T): T {
  return freezeContainers(structure(tree), tree);
}

/**
 * Freezes the containers of `tree` that `def` describes, and nothing below its leaves: what a tree function
 * built is frozen, what the caller handed in as a leaf (or a mapping function returned) is not. Returns `tree`.
 * @internal
 */
export function freezeContainers<T>(def: TreeDef, tree: T): T {
  const stack: [TreeDef, unknown][] = [[def, tree]];
  while (stack.length > 0) {
    const [d, node] = stack.pop()!;
    if (d.kind === 'array') (node as unknown[]).forEach((c, i) => stack.push([d.children[i]!, c]));
    else if (d.kind === 'object') d.keys.forEach((k, i) => stack.push([d.children[i]!, (node as Record<string, unknown>)[k]]));
    else continue;
    freeze(node, false);
  }
  return tree;
}
