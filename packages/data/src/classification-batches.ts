import { ArgumentError, describeValue, expectInteger, Key, tensor, Tensor } from '@tapestry/core';
import { checkId } from './checks.js';
import { padSequences, type PaddedBatch } from './padding.js';
import { batchIndices } from './shuffle.js';

/** Options of {@link classificationBatches}. */
export interface ClassificationBatchOptions {
  /** Examples per batch. */
  batchSize: number;
  /** The padding id (see {@link padSequences}). */
  padId: number;
  /** Pad (and truncate) every batch to this length; default: each batch's longest sequence. */
  maxLength?: number;
  /** Which end of a too-long sequence is cut (see {@link PadOptions.truncate}). Default `'post'`. */
  truncate?: 'pre' | 'post';
  /** Shuffle with this key; without one, examples stay in order (e.g. for evaluation). */
  key?: Key;
  /** Drop a final batch smaller than `batchSize`. Default false. */
  dropLast?: boolean;
}

/** One minibatch of padded sequences with their labels. */
export interface ClassificationBatch extends PaddedBatch {
  /** int32 [B]: the labels of the batch's examples. */
  labels: Tensor;
  /** Which examples (indices into the inputs) the batch holds, in row order. */
  indices: Int32Array;
}

/**
 * Minibatches for sequence classification: shuffles the examples with `options.key` (see
 * {@link batchIndices}), then pads each batch with {@link padSequences}. Labels are int32 class ids
 * (use `cast(labels, 'float32')` for a binary loss on logits).
 *
 * @example
 * ```ts
 * const seqs = reviews.map((r) => vocab.encode(tokenizeWords(r.text)));
 * for (const { ids, lengths, labels } of classificationBatches(seqs, stars, { batchSize: 32, padId: vocab.padId!, key: foldIn(key, epoch) })) {
 *   // logits = model(params, ids, lengths); loss = crossEntropy(logits, labels) …
 * }
 * ```
 */
export function classificationBatches(
  seqs: readonly (readonly number[] | Int32Array)[],
  labels: readonly number[] | Int32Array,
  options: ClassificationBatchOptions,
): ClassificationBatch[] {
  const fn = 'classificationBatches';
  if (!Array.isArray(seqs)) throw new ArgumentError(`${fn}: seqs must be an array of id arrays, got ${describeValue(seqs)}`);
  if (!Array.isArray(labels) && !(labels instanceof Int32Array)) {
    throw new ArgumentError(`${fn}: labels must be a number array or an Int32Array, got ${describeValue(labels)}`);
  }
  if (labels.length !== seqs.length) {
    throw new ArgumentError(`${fn}: ${seqs.length} sequences but ${labels.length} labels; give one label per sequence`);
  }
  labels.forEach((label, i) => {
    if (!Number.isInteger(label) || label < -0x80000000 || label > 0x7fffffff) {
      throw new ArgumentError(`${fn}: labels[${i}] = ${String(label)} is not an int32 class id`);
    }
  });
  // Everything batchIndices and padSequences would check, checked here first, so that errors name the
  // function the caller called and index seqs as the caller does (not by position within a batch).
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError(`${fn}: options { batchSize, padId } are required, got ${describeValue(options)}`);
  }
  expectInteger(fn, 'options.batchSize', options.batchSize, 1);
  checkId(fn, 'options.padId', options.padId);
  if (options.maxLength !== undefined) expectInteger(fn, 'options.maxLength', options.maxLength, 1);
  if (options.truncate !== undefined && options.truncate !== 'pre' && options.truncate !== 'post') {
    throw new ArgumentError(`${fn}: options.truncate must be 'pre' or 'post', got ${describeValue(options.truncate)}`);
  }
  if (options.dropLast !== undefined && typeof options.dropLast !== 'boolean') {
    throw new ArgumentError(`${fn}: options.dropLast must be a boolean, got ${describeValue(options.dropLast)}`);
  }
  if (options.key !== undefined && !(options.key instanceof Key) && !((options.key as unknown) instanceof Tensor)) {
    throw new ArgumentError(`${fn}: options.key must be a Key (from randomKey), got ${describeValue(options.key)}`);
  }
  seqs.forEach((seq, n) => {
    if (!(seq instanceof Int32Array) && !Array.isArray(seq)) {
      throw new ArgumentError(`${fn}: seqs[${n}] must be a number array or an Int32Array, got ${describeValue(seq)}`);
    }
    for (let t = 0; t < seq.length; t++) checkId(fn, `seqs[${n}][${t}]`, seq[t]);
  });
  const pad = { padId: options.padId, maxLength: options.maxLength, truncate: options.truncate };
  const batchOptions = { dropLast: options.dropLast, ...(options.key === undefined ? {} : { key: options.key }) };
  return batchIndices(seqs.length, options.batchSize, batchOptions).map((indices) => {
    const { ids, lengths } = padSequences(
      Array.from(indices, (i) => seqs[i]!),
      pad,
    );
    return { ids, lengths, labels: tensor(Int32Array.from(indices, (i) => labels[i]!)), indices };
  });
}
