import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The CLI as a user runs it, on a tiny model and text, so each command takes a few seconds at most.
const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'char-rnn-cli-'));
const ckpt = join(work, 'ckpt');
const data = join(work, 'text.txt');
const TINY = [
  '--hidden',
  '8',
  '--layers',
  '1',
  '--embedding',
  '4',
  '--batch',
  '4',
  '--seq-len',
  '8',
  '--threads',
  '1',
  '--eval-chars',
  '200',
  '--sample-length',
  '10',
];

function cli(args: string[]) {
  const result = spawnSync(tsx, ['src/cli.ts', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, TAPESTRY_VERBOSE: '' }, timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A failure as the CLIs promise it: exit status 1 and exactly one line on stderr, with no stack trace. */
function expectOneLineFailure(r: ReturnType<typeof cli>, pattern: RegExp): void {
  expect(r.status).toBe(1);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.includes('|'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

beforeAll(() => {
  writeFileSync(data, 'Call me Ishmael. Some years ago - never mind how long precisely - having little or no money in my purse. '.repeat(12));
  const r = cli(['train', '--fresh', '--checkpoint', ckpt, '--data', data, '--steps', '3', ...TINY]);
  expect(r.stderr).not.toMatch(/char-rnn:|Error|\n\s+at /);
  expect(r.status).toBe(0);
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('char-rnn CLI', () => {
  it('trains into a ckpt-<step> directory with a latest pointer, and samples and evaluates from it', () => {
    expect(readFileSync(join(ckpt, 'latest'), 'utf8').trim()).toMatch(/^ckpt-3(\.1)?$/);
    const sample = cli(['sample', '--checkpoint', ckpt, '--prompt', 'Call', '--length', '5', '--top-k', '2']);
    expect(sample.status).toBe(0);
    expect(sample.stdout.startsWith('Call')).toBe(true);
    const evaluated = cli(['eval', '--checkpoint', ckpt, '--data', data]);
    expect(evaluated.status).toBe(0);
    expect(evaluated.stdout).toMatch(/validation bits\/char: \d+\.\d{3}\ntest bits\/char: \d+\.\d{3}/);
  });

  it('refuses on resume an option that conflicts with the checkpoint, naming the option, both values and the fix', () => {
    const r = cli(['train', '--checkpoint', ckpt, '--data', data, '--steps', '4', ...TINY, '--hidden', '16']);
    expectOneLineFailure(
      r,
      /^char-rnn: --hidden 16 conflicts with the checkpoint in .*, which has --hidden 8 \(the model's shape cannot change on resume\); drop --hidden to continue that run, or add --fresh/,
    );
    expectOneLineFailure(
      cli(['train', '--checkpoint', ckpt, '--data', data, '--steps', '4', '--cell', 'gru']),
      /--cell gru conflicts with the checkpoint .* which has --cell lstm/,
    );
  });

  it('applies on resume an option that may change, and says so', () => {
    const r = cli(['train', '--checkpoint', ckpt, '--data', data, '--steps', '4', ...TINY, '--lr', '0.5']);
    expect(r.stderr).not.toMatch(/char-rnn:|Error|\n\s+at /);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/resuming .*ckpt-3(\.1)? at step 3/);
    expect(r.stdout).toContain("using --lr 0.5 instead of the checkpoint's 0.002");
    expect(r.stdout).toMatch(/trained 4 steps/);
    // the new checkpoint keeps the new learning rate
    const latest = readFileSync(join(ckpt, 'latest'), 'utf8').trim();
    expect(JSON.parse(readFileSync(join(ckpt, latest, 'checkpoint.json'), 'utf8')).config.lr).toBe(0.5);
  });

  it('refuses --top-k 0 instead of sampling without a top-k', () => {
    expectOneLineFailure(cli(['sample', '--checkpoint', ckpt, '--top-k', '0']), /--top-k must be an integer ≥ 1, got 0/);
  });

  it("refuses several threads with --device webgpu (threads are the CPU's) and an unknown device, before training", () => {
    expectOneLineFailure(
      cli(['train', '--fresh', '--checkpoint', join(work, 'gpu-threads'), '--data', data, '--steps', '1', '--device', 'webgpu', '--threads', '2']),
      /--threads 2 applies to --device cpu only; --device webgpu trains on one thread/,
    );
    expectOneLineFailure(cli(['sample', '--checkpoint', ckpt, '--device', 'tpu']), /--device.*tpu/);
  });

  it('turns a damaged checkpoint, a missing one and a missing file into one line; --verbose adds the stack', () => {
    const latest = readFileSync(join(ckpt, 'latest'), 'utf8').trim();
    const weights = join(ckpt, latest, 'model.safetensors');
    const good = readFileSync(weights);
    writeFileSync(weights, good.subarray(0, good.length - 10));
    try {
      expectOneLineFailure(cli(['sample', '--checkpoint', ckpt]), /^char-rnn: .*model\.safetensors: is damaged \(.*truncated.*\); start over with --fresh/);
      const verbose = cli(['sample', '--checkpoint', ckpt, '--verbose']);
      expect(verbose.status).toBe(1);
      expect(verbose.stderr).toMatch(/\n\s+at /);
    } finally {
      writeFileSync(weights, good);
    }
    expectOneLineFailure(cli(['sample', '--checkpoint', join(work, 'nothing')]), /^char-rnn: .*nothing holds no checkpoint; train one first/);
    expectOneLineFailure(
      cli(['eval', '--checkpoint', ckpt, '--data', join(work, 'missing.txt')]),
      /^char-rnn: cannot open .*missing\.txt: no such file or directory \(ENOENT\); check the path$/,
    );
    writeFileSync(join(ckpt, 'latest'), 'garbage');
    try {
      expectOneLineFailure(
        cli(['train', '--checkpoint', ckpt, '--data', data, '--steps', '5']),
        /latest should name a checkpoint directory .* or start over with --fresh/,
      );
    } finally {
      writeFileSync(join(ckpt, 'latest'), `${latest}\n`);
    }
    expect(readdirSync(ckpt).filter((e) => e.startsWith('ckpt-')).length).toBeLessThanOrEqual(2);
  });
});
