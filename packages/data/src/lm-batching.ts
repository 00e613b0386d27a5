import { ArgumentError, describeValue, DTypeError, expectInteger, formatShape, ShapeError, slice, tensor, Tensor } from '@tapestry/core';

// Language-model batching as in PyTorch's examples/word_language_model (`batchify`, `get_batch` and the
// `range(0, source.size(0) - 1, bptt)` loop), but batch-first: PyTorch's source is time-major [T, N]
// (`data.view(bsz, -1).t()`); ours is the same data before the `.t()`, [N, T], which is what
// batch-first layers consume. Element [b, t] here is element [t, b] there.

/** One truncated-BPTT window of a batchified stream: inputs and the next-token targets. */
export interface LanguageModelBatch {
  /** Token ids [N, L]: `source[:, start : start + L]`. */
  inputs: Tensor;
  /** Token ids [N, L]: `source[:, start + 1 : start + 1 + L]`, the inputs shifted by one step. */
  targets: Tensor;
  /** The window's first time step in the source. */
  start: number;
}

/** Copies ids given as an array, a typed array or a 1-D int32 tensor into a fresh Int32Array. */
function idsOf(fn: string, ids: unknown): Int32Array {
  if (ids instanceof Tensor) {
    if (ids.dtype !== 'int32') throw new DTypeError(`${fn}: ids must be an int32 tensor, got ${ids.dtype}`);
    if (ids.rank !== 1) throw new ShapeError(`${fn}: ids must be 1-D, got shape ${formatShape(ids.shape)}`);
    return ids.dataSync() as Int32Array;
  }
  if (ids instanceof Int32Array) return ids.slice();
  if (Array.isArray(ids)) {
    const out = new Int32Array(ids.length);
    ids.forEach((v, i) => {
      if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
        throw new ArgumentError(`${fn}: ids[${i}] = ${String(v)} is not an int32 integer`);
      }
      out[i] = v;
    });
    return out;
  }
  throw new ArgumentError(`${fn}: ids must be an Int32Array, a number array or a 1-D int32 tensor, got ${describeValue(ids)}`);
}

/**
 * Splits a token stream into `batchSize` contiguous streams, dropping the `length mod batchSize`
 * trailing tokens exactly as PyTorch's `batchify` does. The result is int32 `[N, T]` with
 * `T = floor(length / N)`: row `b` is `ids[b·T, (b+1)·T)`. PyTorch's layout is the transpose, `[T, N]`.
 *
 * @example
 * ```ts
 * batchify(new Int32Array([0, 1, 2, 3, 4, 5, 6]), 2).toArray(); // [[0, 1, 2], [3, 4, 5]] (6 dropped)
 * ```
 */
export function batchify(ids: Int32Array | readonly number[] | Tensor, batchSize: number): Tensor {
  const fn = 'batchify';
  expectInteger(fn, 'batchSize', batchSize, 1);
  const data = idsOf(fn, ids);
  const steps = Math.floor(data.length / batchSize);
  if (steps < 1) {
    throw new ArgumentError(`${fn}: ${data.length} ids cannot fill ${batchSize} streams of at least one step; use a smaller batchSize`);
  }
  // Row-major [N, T] is the first N·T ids in order: stream b is the b-th contiguous run.
  return tensor(data.subarray(0, batchSize * steps), { shape: [batchSize, steps] });
}

function checkSource(fn: string, source: unknown): Tensor {
  if (!(source instanceof Tensor)) throw new ArgumentError(`${fn}: source must be the int32 [N, T] tensor from batchify, got ${describeValue(source)}`);
  if (source.dtype !== 'int32') throw new DTypeError(`${fn}: source must be int32, got ${source.dtype}`);
  if (source.rank !== 2) throw new ShapeError(`${fn}: source must be [N, T] (from batchify), got shape ${formatShape(source.shape)}`);
  return source;
}

/**
 * The window of a batchified source starting at time step `i`, as PyTorch's `get_batch`:
 * `L = min(seqLen, T − 1 − i)`, inputs `source[:, i : i+L]`, targets `source[:, i+1 : i+1+L]`, both int32
 * `[N, L]`. `i` must be in `[0, T − 2]`. (PyTorch returns targets flattened time-major to `[L·N]`;
 * flatten ours with `reshape(targets, [-1])`, which is batch-major — a mean loss is the same.)
 *
 * @example
 * ```ts
 * const source = batchify(new Int32Array([0, 1, 2, 3, 4, 5]), 2); // [[0, 1, 2], [3, 4, 5]]
 * const { inputs, targets } = getBatch(source, 0, 5);
 * inputs.toArray();  // [[0, 1], [3, 4]]
 * targets.toArray(); // [[1, 2], [4, 5]]
 * ```
 */
export function getBatch(source: Tensor, i: number, seqLen: number): LanguageModelBatch {
  const fn = 'getBatch';
  checkSource(fn, source);
  expectInteger(fn, 'seqLen', seqLen, 1);
  const [n, steps] = source.shape as [number, number];
  if (!Number.isInteger(i) || i < 0 || i > steps - 2) {
    throw new ArgumentError(
      `${fn}: i must be an integer in [0, ${steps - 2}] for a source of ${steps} steps (T − 2 is the last start with a target), got ${String(i)}`,
    );
  }
  const length = Math.min(seqLen, steps - 1 - i);
  return {
    inputs: slice(source, [0, i], [n, length]),
    targets: slice(source, [0, i + 1], [n, length]),
    start: i,
  };
}

/**
 * The truncated-BPTT windows of one epoch, in order: `getBatch(source, i, seqLen)` for
 * `i = 0, seqLen, 2·seqLen, … < T − 1` — PyTorch's `for i in range(0, source.size(0) - 1, bptt)`. The
 * windows' inputs tile `source[:, 0 : T−1]` and their targets tile `source[:, 1 : T]`, each step once.
 * Carry the recurrent state across windows with `stopGradient` for truncated BPTT.
 *
 * @example
 * ```ts
 * for (const { inputs, targets } of bpttWindows(source, 35)) {
 *   // loss of model(params, inputs, state) against targets …
 * }
 * ```
 */
export function bpttWindows(source: Tensor, seqLen: number): Generator<LanguageModelBatch, void, undefined> {
  const fn = 'bpttWindows';
  // Checked here, not inside the generator, so bad arguments throw at the call rather than at first use.
  checkSource(fn, source);
  expectInteger(fn, 'seqLen', seqLen, 1);
  return windows(source, seqLen);
}

function* windows(source: Tensor, seqLen: number): Generator<LanguageModelBatch, void, undefined> {
  const steps = source.shape[1]!;
  for (let i = 0; i < steps - 1; i += seqLen) yield getBatch(source, i, seqLen);
}

/**
 * The number of windows {@link bpttWindows} yields for a source of `steps` time steps: `ceil((T − 1) / seqLen)`.
 *
 * @example
 * ```ts
 * countBpttWindows(101, 35); // 3 (windows of 35, 35 and 30 steps)
 * ```
 */
export function countBpttWindows(steps: number, seqLen: number): number {
  expectInteger('countBpttWindows', 'steps', steps, 0);
  expectInteger('countBpttWindows', 'seqLen', seqLen, 1);
  return Math.max(0, Math.ceil((steps - 1) / seqLen));
}
