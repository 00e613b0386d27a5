/**
 * The UCI "Sentiment Labelled Sentences" data set (Kotzias, Denil, de Freitas and Smyth, KDD 2015; CC BY 4.0):
 * 1000 IMDb, 1000 Amazon and 1000 Yelp sentences, each labelled 0 (negative) or 1 (positive), half of each.
 * It is read from the copy that the exact-pinned npm package `sentiment` ships as test fixtures, never
 * downloaded.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { permutation, tokenizeWords, Vocabulary } from '@tapestry/data';
import { randomKey } from '@tapestry/core';

/** The three sources of the data set. */
export const SOURCES = ['imdb', 'amazon', 'yelp'] as const;

/** One of {@link SOURCES}. */
type Source = (typeof SOURCES)[number];

/** A labelled sentence. */
export interface Example {
  readonly text: string;
  /** 1 positive, 0 negative. */
  readonly label: 0 | 1;
  readonly source: Source;
}

/** The seed of the train/validation/test split: fixed, so every model and every `--seed` is scored on the same test sentences. */
export const SPLIT_SEED = 2015;

/** The path of one source's JSON file inside the `sentiment` package. */
function fixturePath(source: Source): string {
  const require = createRequire(import.meta.url);
  return require.resolve('sentiment/package.json').replace(/package\.json$/, `test/fixtures/${source}.json`);
}

/** Reads all 3000 sentences; the files end with an empty `{ text: "", class: null }` record, which is dropped. */
export function readExamples(): Example[] {
  const out: Example[] = [];
  for (const source of SOURCES) {
    const records = JSON.parse(readFileSync(fixturePath(source), 'utf8')) as { text: string; class: number | null }[];
    for (const r of records) {
      if (r.text.trim() === '' && r.class === null) continue;
      if (r.class !== 0 && r.class !== 1) throw new Error(`sentiment: unexpected class ${String(r.class)} in ${source}.json for ${JSON.stringify(r.text)}`);
      out.push({ text: r.text.trim(), label: r.class, source });
    }
  }
  return out;
}

/** Sentences as token ids, with their labels. */
export interface EncodedSplit {
  readonly examples: readonly Example[];
  readonly ids: readonly Int32Array[];
  readonly labels: Int32Array;
}

/** The three splits, encoded with a word vocabulary built from the training split only. */
export interface SentimentData {
  readonly vocab: Vocabulary;
  readonly train: EncodedSplit;
  readonly valid: EncodedSplit;
  readonly test: EncodedSplit;
}

/** Options of {@link prepareData}. */
export interface PrepareOptions {
  /** Fractions of the examples in the training and validation splits; the rest is the test split (default 0.7, 0.15). */
  readonly fractions?: readonly [number, number];
  /**
   * Words seen fewer times than this in the training split become `<unk>` (default 2). With 1 the training
   * data never contains `<unk>`, so the embedding that every unseen test word maps to stays at its random
   * initialisation; with 2 the training split's rare words train it.
   */
  readonly minFrequency?: number;
  /** Use only the first n training examples (after shuffling), for quick runs; validation and test are unchanged. */
  readonly maxTrain?: number;
}

/**
 * Shuffles the examples with {@link SPLIT_SEED} and splits them 70/15/15 (2100/450/450). The vocabulary
 * comes from the training sentences only, so validation and test words never seen in training are `<unk>`,
 * as they would be for new text. A sentence with no word at all (e.g. only digits) becomes a single `<unk>`,
 * because every sequence needs at least one step.
 */
export function prepareData(examples: readonly Example[], options: PrepareOptions = {}): SentimentData {
  const [fTrain, fValid] = options.fractions ?? [0.7, 0.15];
  const order = permutation(randomKey(SPLIT_SEED), examples.length);
  const shuffled = Array.from(order, (i) => examples[i]!);
  const nTrain = Math.round(examples.length * fTrain);
  const nValid = Math.round(examples.length * fValid);
  const train = shuffled.slice(0, options.maxTrain === undefined ? nTrain : Math.min(nTrain, options.maxTrain));
  const valid = shuffled.slice(nTrain, nTrain + nValid);
  const test = shuffled.slice(nTrain + nValid);
  const tokens = (e: Example) => tokenizeWords(e.text);
  const vocab = Vocabulary.fromTokens(train.flatMap(tokens), { minFrequency: options.minFrequency ?? 2 });
  const encode = (split: readonly Example[]): EncodedSplit => ({
    examples: split,
    ids: split.map((e) => {
      const ids = vocab.encode(tokens(e));
      return ids.length > 0 ? ids : Int32Array.of(vocab.unkId!);
    }),
    labels: Int32Array.from(split, (e) => e.label),
  });
  return { vocab, train: encode(train), valid: encode(valid), test: encode(test) };
}
