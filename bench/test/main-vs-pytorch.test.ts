/**
 * The main-job comparison's pieces: it reads the main job from examples/char-rnn, takes the run's
 * configuration from its checkpoint, and the PyTorch script splits and encodes the text as the example does.
 * The whole comparison takes minutes (it trains twice); `run main-vs-pytorch --minutes 0.5` runs it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitByPosition, Vocabulary } from '@tapestry/data';
import { describe, expect, it } from 'vitest';
import { mainJobArguments, mainJobText, pytorchArguments, readMainJobCheckpoint, type MainJobConfig } from '../src/main-vs-pytorch.js';
import { DEFAULT_PYTHON, pytorchAvailability } from '../src/pytorch.js';

const CONFIG: MainJobConfig = {
  cell: 'gru',
  hiddenSize: 16,
  numLayers: 2,
  embeddingDim: 8,
  dropout: 0.1,
  seqLen: 12,
  batchSize: 4,
  lr: 5e-3,
  warmupSteps: 3,
  clip: 5,
  seed: 2,
};

describe('main-vs-pytorch', () => {
  it("runs examples/char-rnn's main script with its own flags", () => {
    const args = mainJobArguments();
    expect(args.slice(0, 2)).toEqual(['src/cli.ts', 'train']);
    const dir = mkdtempSync(join(tmpdir(), 'main-job-'));
    try {
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: { main: 'node train.js' } }));
      expect(() => mainJobArguments(join(dir, 'package.json'))).toThrow(
        `main-vs-pytorch: ${join(dir, 'package.json')}'s "main" script should be "tsx src/cli.ts train …", got "node train.js"`,
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it("reads the run's configuration and result from the latest checkpoint and passes every field to PyTorch", () => {
    const dir = mkdtempSync(join(tmpdir(), 'main-job-'));
    try {
      mkdirSync(join(dir, 'ckpt-40'));
      writeFileSync(join(dir, 'latest'), 'ckpt-40');
      const history = {
        train: [],
        valid: [
          { chars: 100, bpc: 3.5 },
          { chars: 2048, bpc: 2.25 },
        ],
      };
      writeFileSync(join(dir, 'ckpt-40', 'checkpoint.json'), JSON.stringify({ config: CONFIG, step: 40, charsSeen: 2048, elapsedMs: 4000, history }));
      const { config, run } = readMainJobCheckpoint(dir);
      expect(config).toEqual(CONFIG);
      expect(run).toEqual({ steps: 40, chars: 2048, trainSeconds: 4, charsPerSec: 512, validBpc: 2.25 });
      const args = pytorchArguments(config, '/data.txt', 0.5, 1);
      const flag = (name: string): string => args[args.indexOf(name) + 1]!;
      expect([flag('--cell'), flag('--hidden'), flag('--layers'), flag('--embedding'), flag('--dropout'), flag('--seq-len'), flag('--batch')]).toEqual([
        'gru',
        '16',
        '2',
        '8',
        '0.1',
        '12',
        '4',
      ]);
      expect([flag('--lr'), flag('--warmup'), flag('--decay-steps'), flag('--min-lr'), flag('--clip'), flag('--seed')]).toEqual([
        '0.005',
        '3',
        '0',
        '0.0005',
        '5',
        '2',
      ]);
      expect([flag('--data'), flag('--minutes'), flag('--threads')]).toEqual(['/data.txt', '0.5', '1']);

      writeFileSync(
        join(dir, 'ckpt-40', 'checkpoint.json'),
        JSON.stringify({ config: CONFIG, step: 40, charsSeen: 2048, elapsedMs: 4000, history: { valid: [] } }),
      );
      expect(() => readMainJobCheckpoint(dir)).toThrow('lacks config, step, charsSeen, elapsedMs or a final history.valid entry');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it("the PyTorch script trains on the example's split and vocabulary (where torch is installed)", () => {
    const availability = pytorchAvailability();
    if ('missing' in availability) {
      // nothing to run: the command refuses with this reason (and the bench's PyTorch rows are skipped)
      expect(availability.missing).toContain(DEFAULT_PYTHON);
      return;
    }
    const maxChars = 4000;
    const data = mainJobText();
    const out = execFileSync(DEFAULT_PYTHON, [...pytorchArguments(CONFIG, data, 0.001, 1), '--max-chars', String(maxChars)], { encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').at(-1)!);
    // what examples/char-rnn's prepareCorpus does with the same text
    const [train, valid] = splitByPosition(Array.from(readFileSync(data, 'utf8')).slice(0, maxChars)) as [string[], string[]];
    expect(result.vocab).toBe(Vocabulary.fromCharacters(train.join('')).size);
    expect(result.validChars).toBe(valid.length);
    expect(result.steps).toBeGreaterThan(0);
    expect(result.chars).toBe(result.steps * CONFIG.batchSize * CONFIG.seqLen);
    expect(Number.isFinite(result.validBpc)).toBe(true);
  }, 120_000);
});
