/** The playground's training run, in Node: the same module the page's worker runs. */
import { describe, expect, it } from 'vitest';
import { foldIn, randomKey } from '@tapestry/core';
import { batchify, decodeSafetensors, splitByPosition } from '@tapestry/data';
import { charModel } from '../../char-rnn/src/model.js';
import { DEFAULT_CONFIG, defaultThreads, validateCompute, type PlaygroundConfig } from '../src/config.js';
import { checkCell, compileCell, DEFAULT_CELL_SOURCE } from '../src/custom-cell.js';
import { mobyDickExcerpt } from '../src/excerpt-node.js';
import { dataParallel } from '@tapestry/parallel/node';
import { playgroundModel } from '../src/model.js';
import { playgroundReplica } from '../src/replica-entry.js';
import { importWeights, Trainer, type Compute } from '../src/trainer.js';

const text = mobyDickExcerpt(40_000);
const small: PlaygroundConfig = { ...DEFAULT_CONFIG, hiddenSize: 32, embeddingDim: 16, batchSize: 8, seqLen: 16, lr: 1e-2 };

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** CPU threads through the Node entry: the pool's workers load the replica's module through tsx. */
const cpu = (threads = 1): Compute => ({ device: 'cpu', threads, loadPool: async () => ({ dataParallel, replica: playgroundReplica }) });

/** `count` steps' losses in bits per character. */
async function losses(trainer: Trainer, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await trainer.trainStep()).bitsPerChar);
  return out;
}

/** Every parameter's values, by state-dict name. */
async function values(trainer: Trainer): Promise<Record<string, number[]>> {
  const dict = trainer.model.toStateDict(await trainer.params());
  return Object.fromEntries(Object.entries(dict).map(([name, t]) => [name, Array.from(t.dataSync())]));
}

describe('playground trainer', () => {
  it('the excerpt is the start of Moby-Dick', () => {
    expect(mobyDickExcerpt().startsWith('CHAPTER 1. Loomings.')).toBe(true);
    expect(mobyDickExcerpt().length).toBeGreaterThan(150_000);
  });

  it('trains the LSTM: the loss falls over 30 steps, validation and samples work', async () => {
    const trainer = await Trainer.fromText(small, text, cpu());
    const seen = await losses(trainer, 30);
    expect(mean(seen.slice(-5))).toBeLessThan(mean(seen.slice(0, 5)) - 0.5);
    expect(await trainer.validate(2000)).toBeLessThan(seen[0]!);
    const sample = await trainer.sample({ length: 40, temperature: 0.8, topK: 5 });
    expect(Array.from(sample)).toHaveLength(40);
    trainer.close();
  });

  it('on 2 threads: the batch loss of the 1-thread step up to rounding, and the same bits on every run', async () => {
    const config = { ...small, dropout: 0.1 };
    const one = await Trainer.fromText({ ...config, dropout: 0 }, text, cpu(1));
    const two = await Trainer.fromText({ ...config, dropout: 0 }, text, cpu(2));
    // the first step starts from the same parameters: the mean of two halves' mean losses is the batch's mean
    const [a, b] = [(await one.trainStep()).bitsPerChar, (await two.trainStep()).bitsPerChar];
    expect(Math.abs(a - b)).toBeLessThan(1e-5 * a);
    one.close();
    two.close();
    // with dropout (each thread draws its own masks) two runs on 2 threads agree to the bit
    const runs: { seen: number[]; params: Record<string, number[]> }[] = [];
    for (let r = 0; r < 2; r++) {
      const trainer = await Trainer.fromText(config, text, cpu(2));
      const seen = await losses(trainer, 8);
      runs.push({ seen, params: await values(trainer) });
      trainer.close();
    }
    expect(runs[1]!.seen).toEqual(runs[0]!.seen);
    expect(runs[1]!.params).toEqual(runs[0]!.params);
    expect(mean(runs[0]!.seen.slice(-2))).toBeLessThan(runs[0]!.seen[0]!);
  });

  it('defaults to a power of two of threads up to the cores (at most 8), and to 1 without shared memory', () => {
    expect([1, 2, 3, 4, 6, 12, 64].map((cores) => defaultThreads(cores, true))).toEqual([1, 2, 2, 4, 4, 8, 8]);
    expect(defaultThreads(16, false)).toBe(1);
    expect(() => validateCompute({ device: 'cpu', threads: 0 }, small)).toThrow(/threads must be a positive integer, got 0/);
    // the GPU runs the whole batch: no thread count applies
    expect(() => validateCompute({ device: 'webgpu', threads: 3 }, small)).not.toThrow();
  });

  it('one thread, compiled in the calling thread, gives the bits of a @tapestry/parallel pool of one', async () => {
    const trainer = await Trainer.fromText(small, text, cpu(1));
    const direct = await losses(trainer, 4);
    const [train] = splitByPosition(Array.from(text), [0.9, 0.1]) as [string[], string[]];
    const model = playgroundModel(small, trainer.vocab.size);
    const pool = await dataParallel(playgroundReplica, {
      threads: 1,
      setup: {
        config: small,
        vocabSize: trainer.vocab.size,
        source: batchify(trainer.vocab.encode(train), small.batchSize),
        params: model.init(foldIn(randomKey(small.seed), 0)),
      },
    });
    const pooled = [0, 1, 2, 3].map((k) => pool.step({ step: k, window: k }).loss.item() / Math.LN2);
    pool.close();
    expect(pooled).toEqual(direct);
  });

  it('refuses a thread count that does not divide the batch, naming both', async () => {
    await expect(Trainer.fromText(small, text, cpu(3))).rejects.toThrow(/a batch of 8 streams does not split evenly over 3 threads/);
  });

  it('writes the char-rnn CLI state-dict names and shapes (PyTorch nn.LSTM names under rnn.)', async () => {
    const trainer = await Trainer.fromText({ ...small, numLayers: 2 }, text, cpu());
    const ours = trainer.model.toStateDict(await trainer.params());
    const cli = charModel({ vocabSize: trainer.vocab.size, embeddingDim: 16, hiddenSize: 32, numLayers: 2, cell: 'lstm', dropout: 0, dtype: 'float32' });
    const theirs = cli.toStateDict(cli.init(randomKey(1)));
    const shapes = (d: Record<string, { shape: readonly number[] }>) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.shape]));
    expect(shapes(ours)).toEqual(shapes(theirs));
    expect(Object.keys(ours).sort()).toEqual([
      'embedding.weight',
      'head.bias',
      'head.weight',
      'rnn.bias_hh_l0',
      'rnn.bias_hh_l1',
      'rnn.bias_ih_l0',
      'rnn.bias_ih_l1',
      'rnn.weight_hh_l0',
      'rnn.weight_hh_l1',
      'rnn.weight_ih_l0',
      'rnn.weight_ih_l1',
    ]);
    // nn.Embedding, nn.LSTM(16, 32, num_layers=2) and nn.Linear(32, V) layouts
    const V = trainer.vocab.size;
    expect(shapes(ours)).toEqual({
      'embedding.weight': [V, 16],
      'head.weight': [V, 32],
      'head.bias': [V],
      'rnn.weight_ih_l0': [128, 16],
      'rnn.weight_hh_l0': [128, 32],
      'rnn.bias_ih_l0': [128],
      'rnn.bias_hh_l0': [128],
      'rnn.weight_ih_l1': [128, 32],
      'rnn.weight_hh_l1': [128, 32],
      'rnn.bias_ih_l1': [128],
      'rnn.bias_hh_l1': [128],
    });
    // and the CLI's model reads the playground's parameters
    expect(() => cli.fromStateDict(ours)).not.toThrow();
  });

  it('weights round-trip through safetensors and continue from the same numbers', async () => {
    const trainer = await Trainer.fromText(small, text, cpu());
    await losses(trainer, 3);
    const bytes = await trainer.exportWeights();
    const loaded = importWeights(bytes);
    expect(loaded.config).toEqual(small);
    expect(loaded.step).toBe(3);
    expect(loaded.vocab.tokens).toEqual(trainer.vocab.tokens);
    const resumed = await Trainer.create(loaded.config, loaded.vocab, text, cpu(), { params: loaded.params, step: loaded.step });
    expect(await values(resumed)).toEqual(await values(trainer));
    expect(resumed.step).toBe(3);
    expect(decodeSafetensors(bytes).metadata?.format).toBe('tapestry-playground/1');
    trainer.close();
    resumed.close();
  });

  it('rejects weights whose shapes do not fit, naming the tensor', async () => {
    const bytes = await (await Trainer.fromText(small, text, cpu())).exportWeights();
    const { tensors, metadata } = decodeSafetensors(bytes);
    const config = JSON.parse(metadata!.config!) as PlaygroundConfig;
    const edited = new TextEncoder().encode(JSON.stringify({ ...config, embeddingDim: 8 }));
    expect(tensors['embedding.weight']!.shape).toEqual([expect.any(Number), 16]);
    expect(() => importWeights(reencode(bytes, { config: new TextDecoder().decode(edited) }))).toThrow(/embedding\.weight.*\[\d+, 16\].*needs \[\d+, 8\]/);
  });

  it('checks the default custom cell with checkGrad and trains it in the same loop', async () => {
    const check = checkCell(DEFAULT_CELL_SOURCE);
    expect(check.ok).toBe(true);
    expect(check.maxError).toBeLessThan(1e-6);
    const trainer = await Trainer.fromText({ ...small, cell: 'custom', cellSource: DEFAULT_CELL_SOURCE }, text, cpu());
    const seen = await losses(trainer, 30);
    expect(mean(seen.slice(-5))).toBeLessThan(mean(seen.slice(0, 5)) - 0.5);
    expect(Object.keys(trainer.model.toStateDict(await trainer.params()))).toContain('rnn.wf_l0');
  });

  it('finds a wrong gradient in a cell and reports bad sources clearly', () => {
    // stopGradient inside the step hides part of the derivative: checkGrad must notice
    const broken = DEFAULT_CELL_SOURCE.replace('mul(sub(1, f), h)', 'mul(sub(1, f), stopGradient(h))');
    expect(broken).not.toBe(DEFAULT_CELL_SOURCE);
    expect(checkCell(broken).ok).toBe(false);
    expect(() => compileCell('return {', 4)).toThrow(/does not parse/);
    expect(() => compileCell('return { init() {} };', 4)).toThrow(/no initialState\(\) function/);
  });
});

/** The same file with some metadata entries replaced. */
function reencode(bytes: Uint8Array, metadata: Record<string, string>): Uint8Array {
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  header.__metadata__ = { ...(header.__metadata__ as object), ...metadata };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + bytes.length - 8 - headerLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes.subarray(8 + headerLength), 8 + json.length);
  return out;
}
