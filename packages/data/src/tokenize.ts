import { ArgumentError, describeValue } from '@tapestry/core';

// A run of letters (any script) and apostrophes. The typographic apostrophe U+2019 is folded to ' first.
const WORD = /[\p{L}']+/gu;

/**
 * A small, predictable word tokenizer for classification data: lower-cases the text (`toLowerCase`),
 * folds the typographic apostrophe `’` to `'`, and returns the maximal runs of letters (any script) and
 * apostrophes, with apostrophes at either end of a run removed (so quotes don't stick to words, while
 * `don't` and `whale's` stay whole). Everything else — digits, punctuation, spaces — separates tokens
 * and is dropped.
 *
 * @example
 * ```ts
 * tokenizeWords("Call me Ishmael. It's 'grand'!"); // ['call', 'me', 'ishmael', "it's", 'grand']
 * ```
 */
export function tokenizeWords(text: string): string[] {
  if (typeof text !== 'string') throw new ArgumentError(`tokenizeWords: text must be a string, got ${describeValue(text)}`);
  const tokens: string[] = [];
  for (const match of text
    .toLowerCase()
    .replace(/\u2019/g, "'")
    .matchAll(WORD)) {
    const word = match[0].replace(/^'+|'+$/g, '');
    if (word.length > 0) tokens.push(word);
  }
  return tokens;
}
