import { ArgumentError, describeValue, expectInteger, tensor, type Tensor } from '@tapestry/core';
import { checkId } from './checks.js';

/** Options of {@link padSequences}. */
export interface PadOptions {
  /** The id written after each sequence's end. */
  padId: number;
  /** The padded length T. Default: the longest sequence's length. Longer sequences are truncated. */
  maxLength?: number;
  /**
   * Which end of a too-long sequence is cut: `'post'` (default) keeps its first `maxLength` ids, `'pre'`
   * keeps its last `maxLength` ids (as Keras' `truncating`).
   */
  truncate?: 'pre' | 'post';
}

/** Padded sequences: ids and the true lengths. */
export interface PaddedBatch {
  /** int32 [N, T]: row n holds sequence n's ids in `[0, lengths[n])`, then `padId`. */
  ids: Tensor;
  /** The length of each row before padding (after truncation): `min(length, T)`. */
  lengths: Int32Array;
}

/**
 * Pads variable-length id sequences at the end into one int32 `[N, T]` tensor, as PyTorch's
 * `pad_sequence(seqs, batch_first=True, padding_value=padId)`, returning the lengths for masking or
 * packing. `T` is `maxLength` if given (longer sequences are truncated, see {@link PadOptions.truncate}),
 * else the longest length. Empty sequences are allowed (length 0).
 *
 * @example
 * ```ts
 * const { ids, lengths } = padSequences([[5, 6, 7], [8]], { padId: 0 });
 * ids.toArray(); // [[5, 6, 7], [8, 0, 0]]
 * lengths;       // Int32Array [3, 1]
 * ```
 */
export function padSequences(seqs: readonly (readonly number[] | Int32Array)[], options: PadOptions): PaddedBatch {
  const fn = 'padSequences';
  if (!Array.isArray(seqs)) throw new ArgumentError(`${fn}: seqs must be an array of id arrays, got ${describeValue(seqs)}`);
  if (options === null || typeof options !== 'object') throw new ArgumentError(`${fn}: options { padId } are required`);
  const padId = checkId(fn, 'options.padId', options.padId);
  const truncate = options.truncate ?? 'post';
  if (truncate !== 'pre' && truncate !== 'post') throw new ArgumentError(`${fn}: options.truncate must be 'pre' or 'post', got ${describeValue(truncate)}`);
  seqs.forEach((seq, n) => {
    if (!(seq instanceof Int32Array) && !Array.isArray(seq)) {
      throw new ArgumentError(`${fn}: seqs[${n}] must be a number array or an Int32Array, got ${describeValue(seq)}`);
    }
  });
  const longest = seqs.reduce((m, seq) => Math.max(m, seq.length), 0);
  const steps = options.maxLength === undefined ? longest : expectInteger(fn, 'options.maxLength', options.maxLength, 1);
  const out = new Int32Array(seqs.length * steps).fill(padId);
  const lengths = new Int32Array(seqs.length);
  seqs.forEach((seq, n) => {
    const length = Math.min(seq.length, steps);
    const from = truncate === 'pre' ? seq.length - length : 0;
    for (let t = 0; t < length; t++) {
      const id = seq[from + t]!;
      if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) {
        throw new ArgumentError(`${fn}: seqs[${n}][${from + t}] = ${String(id)} is not a non-negative int32 id`);
      }
      out[n * steps + t] = id;
    }
    lengths[n] = length;
  });
  return { ids: tensor(out, { shape: [seqs.length, steps] }), lengths };
}
