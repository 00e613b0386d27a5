import {
  ArgumentError,
  describeValue,
  DTypeError,
  formatShape,
  freezeTree,
  ShapeError,
  Tensor,
  treeFlattenWithPath,
  treeStructure,
  treeUnflatten,
} from '@tapestry/core';
import { decodeSafetensors, encodeSafetensors, type SafetensorsContents } from './safetensors.js';

// Trees (parameters, optimiser states, carried states) to and from safetensors, one tensor per leaf, named
// by the leaf's tree path (`rnn.layers[0].forward.weightIh`, `[1][0].mu.head.bias`). Loading needs a
// template of the same structure (a fresh init, say): the file supplies the values, the template says what
// must be there, so a file from another model or another optimiser fails on its first disagreement with
// the path, the expected and the found, instead of somewhere later inside a reshape or a matmul.

/** Options of {@link loadTree}. */
export interface LoadTreeOptions {
  /** What the bytes are (a file name, say), put into every error message. */
  readonly name?: string;
  /**
   * Metadata entries the file must carry with exactly these values (for example `{ step: '120' }`, to check
   * that the parts of a checkpoint were saved together); a missing or different entry is an error naming it.
   */
  readonly metadata?: Readonly<Record<string, string>>;
}

const label = (path: string): string => (path === '' ? '(the root)' : JSON.stringify(path));

/** The tree's tensors by path; every leaf must be a Tensor and every path unique. */
function tensorsByPath(fn: string, what: string, tree: unknown): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [path, leaf] of treeFlattenWithPath(tree)) {
    if (!(leaf instanceof Tensor)) {
      throw new ArgumentError(
        `${fn}: ${what} leaf ${label(path)} must be a Tensor, got ${describeValue(leaf)} (only tensors can be stored; keep other values elsewhere)`,
      );
    }
    // `{ 'a.b': x, a: { b: y } }` flattens to one path twice; a file could not tell the two apart
    if (out.has(path)) throw new ArgumentError(`${fn}: ${what} has two leaves at path ${label(path)}; rename a key so that paths are unique`);
    out.set(path, leaf);
  }
  return out;
}

/** decodeSafetensors, with its errors restated under the name the caller called. */
function decode(where: string, bytes: Uint8Array | ArrayBuffer): SafetensorsContents {
  try {
    return decodeSafetensors(bytes);
  } catch (error) {
    if (!(error instanceof ArgumentError || error instanceof DTypeError)) throw error;
    const Class = error instanceof DTypeError ? DTypeError : ArgumentError;
    throw new Class(`${where} ${error.message.replace(/^decodeSafetensors: /, '')}`);
  }
}

/**
 * Serialises a tree of tensors to safetensors bytes: one tensor per leaf, named by its path in the tree
 * (as `treeFlattenWithPath` spells it: `head.weight`, `layers[0].bias`, `[1][0].mu.w`). A flat object of
 * PyTorch state-dict names (`{ 'rnn.weight_ih_l0': w }`) is a tree too, and keeps its names, so the file
 * loads into `torch.nn.Module.load_state_dict`. `null` and `undefined` are empty subtrees and store nothing;
 * any other non-tensor leaf is an `ArgumentError` naming its path. `metadata` (string to string) goes into
 * the file's `__metadata__`, for a step count or a configuration. Browser-safe: returns bytes, writes nothing.
 *
 * @example
 * ```ts
 * const bytes = saveTree({ params, optState }, { step: String(step) });
 * // Node: fs.writeFileSync('state.safetensors', bytes); browser: new Blob([bytes])
 * const { params, optState } = loadTree(bytes, { params: init(key), optState: optimizer.init(init(key)) });
 * ```
 */
export function saveTree(tree: unknown, metadata?: Record<string, string>): Uint8Array {
  const tensors = tensorsByPath('saveTree', 'the tree', tree);
  return encodeSafetensors(Object.fromEntries(tensors), metadata);
}

/**
 * Reads a tree saved by {@link saveTree} into the structure of `template` (any tree of tensors of the
 * expected shapes and dtypes, a fresh init for instance; its values are not used). Every path is checked
 * before anything is returned, and the first disagreement is thrown naming the path, what the template
 * expects and what the file holds: a tensor missing from the file or one the template does not have
 * (`ArgumentError`), a different shape (`ShapeError`) or dtype (`DTypeError`). The result is a new, frozen
 * tree; neither the bytes nor the template is changed.
 *
 * `source` may also be the result of `decodeSafetensors`, for a caller that reads the file's metadata too.
 *
 * @example
 * ```ts
 * const params = loadTree(bytes, model.init(randomKey(0)), { name: 'model.safetensors' });
 * const { tensors, metadata } = decodeSafetensors(bytes); // the same file, metadata included
 * const state = loadTree({ tensors, metadata }, template, { metadata: { step: '120' } });
 * ```
 */
export function loadTree<T>(source: Uint8Array | ArrayBuffer | SafetensorsContents, template: T, options: LoadTreeOptions = {}): T {
  const fn = 'loadTree';
  const where = options.name === undefined ? `${fn}:` : `${fn}: ${options.name}:`;
  const contents = source instanceof Uint8Array || source instanceof ArrayBuffer ? decode(where, source) : source;
  if (contents === null || typeof contents !== 'object' || contents.tensors === null || typeof contents.tensors !== 'object') {
    throw new ArgumentError(
      `${fn}: source must be safetensors bytes (a Uint8Array or an ArrayBuffer) or decodeSafetensors' result, got ${describeValue(source)}`,
    );
  }
  const expected = tensorsByPath(fn, 'the template', template);

  for (const [key, value] of Object.entries(options.metadata ?? {})) {
    const got = contents.metadata?.[key];
    if (got !== value) {
      throw new ArgumentError(
        `${where} metadata ${JSON.stringify(key)} is ${got === undefined ? 'missing' : JSON.stringify(got)} but ${JSON.stringify(value)} was expected ` +
          '(the file was saved by another run or at another point of this one)',
      );
    }
  }
  const stored = contents.tensors;
  const extra = Object.keys(stored).filter((name) => !expected.has(name));
  if (extra.length > 0) {
    const shown = extra
      .slice(0, 3)
      .map((name) => `${label(name)} (${stored[name]!.dtype} ${formatShape(stored[name]!.shape)})`)
      .join(', ');
    throw new ArgumentError(
      `${where} the file holds ${extra.length} tensor${extra.length === 1 ? '' : 's'} the template has no leaf for: ${shown}` +
        `${extra.length > 3 ? ', …' : ''}; it was saved from a differently shaped tree (another model or optimiser?)`,
    );
  }
  const leaves: Tensor[] = [];
  for (const [path, want] of expected) {
    const got = Object.hasOwn(stored, path) ? stored[path] : undefined;
    if (!(got instanceof Tensor)) {
      throw new ArgumentError(
        `${where} tensor ${label(path)} is missing; the template expects ${want.dtype} ${formatShape(want.shape)} ` +
          `(the file holds ${Object.keys(stored).length} tensors: saved from a differently shaped tree?)`,
      );
    }
    if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
      throw new ShapeError(`${where} tensor ${label(path)} has shape ${formatShape(got.shape)} but the template expects ${formatShape(want.shape)}`);
    }
    if (got.dtype !== want.dtype) {
      throw new DTypeError(`${where} tensor ${label(path)} has dtype ${got.dtype} but the template expects ${want.dtype}`);
    }
    leaves.push(got);
  }
  return freezeTree(treeUnflatten<Tensor, T>(treeStructure(template), leaves));
}
