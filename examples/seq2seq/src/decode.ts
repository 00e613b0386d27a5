/** Greedy (batched) and beam-search decoding of pronunciations, and their scoring on held-out words. */
import { argmax, tensor } from '@tapestry/core';
import { beamSearch, reorderState } from '@tapestry/data';
import { BOS, EOS, type Entry, type Vocabularies } from './cmudict.js';
import { encodeSources } from './batching.js';
import { errorRates, type ErrorRates } from './edit-distance.js';
import type { Seq2SeqModel, Seq2SeqParams } from './model.js';

/** The longest pronunciation decoding may produce, from the word's length (CMUdict has at most ~1.3 phonemes per letter). */
const maxPhonemes = (word: string): number => 2 * word.length + 5;

/** Phoneme ids up to (without) the end token → phoneme strings. */
function toPhonemes(ids: ArrayLike<number>, vocab: Vocabularies): string[] {
  const eos = vocab.phonemes.idOf(EOS);
  const out: string[] = [];
  for (let i = 0; i < ids.length && ids[i] !== eos; i++) out.push(vocab.phonemes.tokenOf(ids[i]!));
  return out;
}

/**
 * Greedy decoding of many words at once, `batchSize` at a time: every step feeds each word's most likely
 * phoneme back in; a word stops at its end token, and the batch shrinks to the words still running (their
 * states are gathered with `reorderState`), so a batch costs as many steps as its longest output.
 */
export function greedyDecode(model: Seq2SeqModel, params: Seq2SeqParams, entries: readonly Entry[], vocab: Vocabularies, batchSize = 256): string[][] {
  const step = model.step(params);
  const bos = vocab.phonemes.idOf(BOS);
  const eos = vocab.phonemes.idOf(EOS);
  const results: string[][] = [];
  for (let from = 0; from < entries.length; from += batchSize) {
    const part = entries.slice(from, from + batchSize);
    const { source, sourceLengths, sourceMask } = encodeSources(part, vocab);
    let state = model.encode(params, source, sourceLengths, sourceMask);
    const outputs: number[][] = part.map(() => []);
    let running = part.map((_, i) => i);
    let tokens = new Int32Array(part.length).fill(bos);
    const limit = Math.max(...part.map((e) => maxPhonemes(e.word)));
    for (let t = 0; t < limit && running.length > 0; t++) {
      const out = step(tensor(tokens), state, tensor(tokens, { shape: [tokens.length, 1] }));
      const best = argmax(out.logits, -1).dataSync();
      const keep: number[] = [];
      running.forEach((word, row) => {
        outputs[word]!.push(best[row]!);
        if (best[row] !== eos && outputs[word]!.length < maxPhonemes(part[word]!.word)) keep.push(row);
      });
      tokens = Int32Array.from(keep, (row) => best[row]!);
      state = keep.length === running.length ? out.state : reorderState(out.state, keep);
      running = keep.map((row) => running[row]!);
    }
    for (const ids of outputs) results.push(toPhonemes(ids, vocab));
  }
  return results;
}

/** Beam-search decoding of each word with `@tapestry/data`'s beamSearch; the best hypothesis per word. */
export function beamDecode(model: Seq2SeqModel, params: Seq2SeqParams, entries: readonly Entry[], vocab: Vocabularies, beamWidth: number): string[][] {
  const step = model.step(params);
  return entries.map((entry) => {
    const { source, sourceLengths, sourceMask } = encodeSources([entry], vocab);
    const [best] = beamSearch({
      step,
      initialState: model.encode(params, source, sourceLengths, sourceMask),
      startToken: vocab.phonemes.idOf(BOS),
      endToken: vocab.phonemes.idOf(EOS),
      beamWidth,
      maxLength: maxPhonemes(entry.word),
    });
    return toPhonemes(best!.tokens, vocab);
  });
}

/** PER and word accuracy of predictions against the entries' pronunciations. */
export function score(entries: readonly Entry[], predictions: readonly (readonly string[])[]): ErrorRates {
  return errorRates(
    entries.map((e) => e.phonemes),
    predictions,
  );
}
