/**
 * PyTorch state dicts at the boundary. Parameter trees stay structured inside tapestry; these helpers name
 * their leaves the way PyTorch does and check a given dict against what a layer expects.
 */
import { ArgumentError, DTypeError, formatShape, ShapeError, shapesEqual, tensor, Tensor } from '@tapestry/core';
import type { DType, NestedArray } from '@tapestry/core';

/** A state dict: PyTorch parameter names (`weight_ih_l0`, `bias_hh_l1_reverse`, `weight`) to tensors. */
export type StateDict = Readonly<Record<string, Tensor>>;

/**
 * A state dict as accepted by `fromStateDict`: tensors, or nested number arrays (e.g. exported from
 * PyTorch with `tensor.tolist()`), which are converted to the layer's dtype.
 */
export type StateDictInput = Readonly<Record<string, Tensor | NestedArray>>;

/** One entry a layer expects in a state dict. */
export interface StateDictEntry {
  /** The PyTorch-style name, e.g. `weight_ih_l0`. */
  readonly name: string;
  /** The shape the tensor must have. */
  readonly shape: readonly number[];
  /** The dtype the tensor must have. */
  readonly dtype: DType;
}

/**
 * The snake_case name of a parameter-tree path, as PyTorch spells parameters: `weightIh` → `weight_ih`,
 * `peephole.i` → `peephole_i`, `gates[0]` → `gates_0`.
 */
export function snakeName(path: string): string {
  return path
    .replace(/\[(\d+)\]/g, '_$1')
    .replace(/\./g, '_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/^_+/, '');
}

/**
 * Checks `dict` against the `expected` entries and returns its tensors in that order. Every problem is
 * reported at once (missing, unexpected, wrong shape, wrong dtype), followed by the full expected listing.
 */
export function readStateDict(where: string, expected: readonly StateDictEntry[], dict: StateDictInput): Tensor[] {
  if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) {
    throw new ArgumentError(`${where}: expected a state dict (an object of name → tensor), got ${dict === null ? 'null' : typeof dict}`);
  }
  const wanted = new Map(expected.map((e) => [e.name, e]));
  const given = Object.keys(dict);
  const problems: string[] = [];
  const missing = expected.filter((e) => !(e.name in dict)).map((e) => e.name);
  // present but undefined (or null): a key the caller wrote without a value, named here, not lost later
  const empty = expected.filter((e) => e.name in dict && (dict[e.name] === undefined || dict[e.name] === null)).map((e) => e.name);
  if (empty.length > 0) problems.push(`present but ${empty.map((n) => `${n} = ${String(dict[n])}`).join(', ')}`);
  const unexpected = given.filter((name) => !wanted.has(name));
  if (missing.length > 0) problems.push(`missing: ${missing.join(', ')}`);
  if (unexpected.length > 0) {
    problems.push(`unexpected: ${unexpected.join(', ')}`);
    const prefixed = unexpected.filter((name) => expected.some((e) => name.endsWith(`.${e.name}`)));
    if (prefixed.length > 0) problems.push(`(names like '${prefixed[0]}' carry a module prefix: strip it, e.g. 'rnn.weight_ih_l0' → 'weight_ih_l0')`);
  }
  const tensors: Tensor[] = [];
  const kinds = new Set<'name' | 'shape' | 'dtype'>(problems.length > 0 ? ['name'] : []);
  for (const entry of expected) {
    const value = dict[entry.name];
    if (value === undefined || value === null) continue;
    let t: Tensor;
    if (value instanceof Tensor) {
      t = value;
    } else {
      try {
        t = tensor(value as NestedArray, { dtype: entry.dtype });
      } catch (e) {
        kinds.add('name');
        problems.push(`${entry.name}: not a tensor or a nested number array (${(e as Error).message})`);
        continue;
      }
    }
    if (!shapesEqual(t.shape, entry.shape)) {
      problems.push(`${entry.name}: expected shape ${formatShape(entry.shape)}, given ${formatShape(t.shape)}`);
      kinds.add('shape');
    } else if (t.dtype !== entry.dtype) {
      problems.push(`${entry.name}: expected dtype ${entry.dtype}, given ${t.dtype} (cast it, or build the layer with dtype '${t.dtype}')`);
      kinds.add('dtype');
    }
    tensors.push(t);
  }
  if (problems.length > 0) {
    const listing = expected.map((e) => `${e.name} ${formatShape(e.shape)}`).join(', ');
    const message = `${where}: the state dict does not fit this layer:\n  ${problems.join('\n  ')}\nexpected: ${listing}`;
    // The most specific class when all problems are of one kind
    if (kinds.size === 1 && kinds.has('shape')) throw new ShapeError(message);
    if (kinds.size === 1 && kinds.has('dtype')) throw new DTypeError(message);
    throw new ArgumentError(message);
  }
  return tensors;
}
