/**
 * Minibatches of whole sentences, padded to the longest sentence in the batch and run with `lengths`, so
 * every word of every sentence is read (nothing is truncated). To keep padding — wasted recurrent steps —
 * small, training batches are drawn by length buckets: shuffle, cut into pools of `poolBatches` batches,
 * sort each pool by length, cut it into batches, and shuffle the batch order (as torchtext's BucketIterator).
 */
import { foldIn, type Key } from '@tapestry/core';
import { padSequences, permutation, type PaddedBatch } from '@tapestry/data';

/** A padded batch with the examples it holds. */
export interface SentenceBatch extends PaddedBatch {
  /** Indices of the batch's examples in the split, in row order. */
  readonly indices: Int32Array;
}

/** Options of {@link sentenceBatches}. */
export interface SentenceBatchOptions {
  readonly batchSize: number;
  readonly padId: number;
  /** Shuffle (and bucket by length) with this key; without one the examples stay in order, for evaluation. */
  readonly key?: Key;
  /** Batches per length-sorting pool when shuffling (default 8). */
  readonly poolBatches?: number;
}

/** Splits a list of sentences into padded minibatches; see the module comment. */
export function sentenceBatches(seqs: readonly Int32Array[], options: SentenceBatchOptions): SentenceBatch[] {
  const { batchSize, padId } = options;
  const n = seqs.length;
  const groups: Int32Array[] = [];
  if (options.key === undefined) {
    for (let start = 0; start < n; start += batchSize) groups.push(Int32Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i));
  } else {
    const order = permutation(foldIn(options.key, 0), n);
    const pool = batchSize * (options.poolBatches ?? 8);
    for (let start = 0; start < n; start += pool) {
      const sorted = Array.from(order.subarray(start, Math.min(n, start + pool))).sort((a, b) => seqs[a]!.length - seqs[b]!.length);
      for (let b = 0; b < sorted.length; b += batchSize) groups.push(Int32Array.from(sorted.slice(b, b + batchSize)));
    }
    const batchOrder = permutation(foldIn(options.key, 1), groups.length);
    const reordered = Array.from(batchOrder, (i) => groups[i]!);
    groups.splice(0, groups.length, ...reordered);
  }
  return groups.map((indices) => ({
    ...padSequences(
      Array.from(indices, (i) => seqs[i]!),
      { padId },
    ),
    indices,
  }));
}
