/** Encoding word / pronunciation pairs into padded batches, and length-bucketed shuffled minibatches. */
import { foldIn, tensor, type Key, type Tensor } from '@tapestry/core';
import { padSequences, permutation } from '@tapestry/data';
import { BOS, EOS, type Entry, type Vocabularies } from './cmudict.js';
import { IGNORE, type Batch } from './model.js';

/** int32 [B, 1, T]: 1 at the first `lengths[b]` positions of row b, 0 after (the attention mask). */
function lengthMask(lengths: Int32Array, steps: number): Tensor {
  const mask = new Int32Array(lengths.length * steps);
  lengths.forEach((length, b) => mask.fill(1, b * steps, b * steps + length));
  return tensor(mask, { shape: [lengths.length, 1, steps] });
}

/** Encodes the sources of `entries` (letters) as a padded batch with its mask. */
export function encodeSources(entries: readonly Entry[], vocab: Vocabularies): Pick<Batch, 'source' | 'sourceLengths' | 'sourceMask'> {
  const { ids, lengths } = padSequences(
    entries.map((e) => vocab.letters.encode(e.word)),
    { padId: vocab.letters.padId! },
  );
  return { source: ids, sourceLengths: lengths, sourceMask: lengthMask(lengths, ids.shape[1]!) };
}

/** The teacher-forcing batch of `entries`: decoder input `<s> p1 … pn`, targets `p1 … pn </s>`. */
export function makeBatch(entries: readonly Entry[], vocab: Vocabularies): Batch {
  const bos = vocab.phonemes.idOf(BOS);
  const eos = vocab.phonemes.idOf(EOS);
  const phonemes = entries.map((e) => Array.from(vocab.phonemes.encode(e.phonemes)));
  const input = padSequences(
    phonemes.map((p) => [bos, ...p]),
    { padId: vocab.phonemes.padId! },
  );
  const targets = padSequences(
    phonemes.map((p) => [...p, eos]),
    { padId: 0 },
  );
  const steps = targets.ids.shape[1]!;
  const target = new Int32Array(targets.ids.dataSync());
  targets.lengths.forEach((length, b) => target.fill(IGNORE, b * steps + length, (b + 1) * steps));
  return {
    ...encodeSources(entries, vocab),
    decoderInput: input.ids,
    targets: tensor(target, { shape: [entries.length, steps] }),
  };
}

/**
 * The minibatches of one epoch: the entries are shuffled with `key`, cut into pools of `poolBatches`
 * batches, each pool sorted by word length and cut into batches, and the batches shuffled again. Words of
 * similar length then share a batch (little padding, so fewer wasted recurrent steps), while every epoch
 * still sees different batches in a different order.
 */
export function bucketedBatches(count: number, batchSize: number, key: Key, lengthOf: (i: number) => number, poolBatches = 50): Int32Array[] {
  const order = permutation(foldIn(key, 0), count);
  const batches: Int32Array[] = [];
  const pool = batchSize * poolBatches;
  for (let from = 0; from < count; from += pool) {
    const part = Array.from(order.subarray(from, Math.min(count, from + pool))).sort((a, b) => lengthOf(a) - lengthOf(b) || a - b);
    for (let i = 0; i < part.length; i += batchSize) batches.push(Int32Array.from(part.slice(i, i + batchSize)));
  }
  const shuffle = permutation(foldIn(key, 1), batches.length);
  return Array.from(shuffle, (i) => batches[i]!);
}
