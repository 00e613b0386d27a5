import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every example CLI fails the same way: exit status 1, one line on stderr naming the problem and the fix,
// and no stack trace. Each case fails before any data is read or any training starts, so it is quick.
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const run = (example: string, args: string[]) => {
  const cwd = fileURLToPath(new URL(`../../${example}`, import.meta.url));
  const r = spawnSync(tsx, ['src/cli.ts', ...args], { cwd, encoding: 'utf8', env: { ...process.env, TAPESTRY_VERBOSE: '' }, timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
};

describe('example CLIs', () => {
  it.each([
    [
      'forecast',
      ['--burn-in', '100', '--window', '60'],
      /^forecast: --burn-in 100 leaves nothing to score in windows of --window 60; make --burn-in smaller than --window$/,
    ],
    ['gradient-flow', ['--hidden', 'wide'], /^error: option '--hidden <n>' argument 'wide' is invalid\. --hidden must be an integer/],
    ['sentiment', ['--dropout', '2'], /^error: option '--dropout <p>' argument '2' is invalid\. --dropout must be in \[0, 1\), got 2$/],
    [
      'seq2seq',
      ['eval', '--model', '/nonexistent/seq2seq'],
      /^seq2seq: \/nonexistent\/seq2seq holds no seq2seq model; train one first \(seq2seq train --out \/nonexistent\/seq2seq\) or pass --model$/,
    ],
    ['seq2seq', ['eval', '--split', 'train'], /^seq2seq: --split must be 'test' or 'valid', got train$/],
  ])('%s %j: one line, exit 1, no stack trace', (example, args, pattern) => {
    const r = run(example, args);
    expect(r.status).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
  });
});
