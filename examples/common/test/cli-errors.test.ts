import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/failing-cli.ts', import.meta.url));
const run = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(tsx, [fixture, ...args], { encoding: 'utf8', env: { ...process.env, TAPESTRY_VERBOSE: '', ...env }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const lines = (text: string) => text.split('\n').filter((l) => l !== '');

describe('runCli / handleCliErrors', () => {
  it('print one line naming the problem and exit 1, with the stack only under --verbose or TAPESTRY_VERBOSE=1', () => {
    const usage = run(['run', 'usage']);
    expect(usage.status).toBe(1);
    expect(lines(usage.stderr)).toEqual(['failing: --n 3 conflicts with the checkpoint, which has --n 2; drop --n or add --fresh']);

    const file = run(['run', 'file']);
    expect(file.status).toBe(1);
    expect(lines(file.stderr)).toEqual(['failing: cannot open /nonexistent/tapestry/input.txt: no such file or directory (ENOENT); check the path']);

    // a message that already names the program is not prefixed twice, and a multi-line one becomes one line
    const prefixed = run(['run', 'prefixed']);
    expect(lines(prefixed.stderr)).toEqual(['failing: the loss became NaN at step 3; lower --lr (--verbose prints the stack trace)']);

    const verbose = run(['run', 'usage', '--verbose']);
    expect(verbose.status).toBe(1);
    expect(lines(verbose.stderr)[0]).toBe('failing: --n 3 conflicts with the checkpoint, which has --n 2; drop --n or add --fresh');
    expect(verbose.stderr).toMatch(/UsageError: --n 3 conflicts[^\n]*\n\s+at /);

    // commander's usage errors stay one line with status 1
    const option = run(['run', 'ok', '--n', '0']);
    expect(option.status).toBe(1);
    expect(lines(option.stderr)).toEqual(["error: option '--n <n>' argument '0' is invalid. --n must be an integer ≥ 1, got 0"]);
    expect(run(['run', 'ok']).status).toBe(0);
  });

  it('handleCliErrors does the same for a script without options', () => {
    const script = run(['script']);
    expect(script.status).toBe(1);
    expect(lines(script.stderr)).toEqual(['failing: matmul: inner dimensions differ: a [2] vs b [3]']);
    const verbose = run(['script'], { TAPESTRY_VERBOSE: '1' });
    expect(verbose.status).toBe(1);
    expect(verbose.stderr).toMatch(/ArgumentError: matmul[^\n]*\n\s+at /);
  });
});
