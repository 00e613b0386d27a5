import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { treeLeaves, type Tensor } from '@tapestry/core';
import { prepareCorpus, readText } from '../src/corpus.js';
import { bitsPerCharacter } from '../src/evaluate.js';
import { loadCheckpoint, readCheckpointHeader, saveCheckpoint } from '../src/checkpoint.js';
import { sampleText } from '../src/generate-text.js';
import { DEFAULT_CONFIG, initialTrainingState, makeModel, makeOptimizer, trainLoop, type TrainConfig, type TrainingState } from '../src/training.js';
import { randomKey } from '@tapestry/core';

const { text, source } = readText(undefined, 60_000);
const corpus = prepareCorpus(text, source);
const config: TrainConfig = { ...DEFAULT_CONFIG, hiddenSize: 48, numLayers: 1, embeddingDim: 16, batchSize: 16, seqLen: 32, lr: 1e-2, warmupSteps: 5 };
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'char-rnn-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function losses(state: TrainingState, steps: number, model = makeModel(config, corpus.vocab.size), threads = 1) {
  const seen: number[] = [];
  const end = await trainLoop(config, corpus, model, state, { maxSteps: state.step + steps, threads, onStep: (_s, l) => seen.push(l) });
  return { seen, end };
}

describe('char-rnn', () => {
  it('reads Moby-Dick from node_modules and splits it 90/5/5 with a training-split vocabulary', () => {
    expect(text.startsWith('CHAPTER 1. Loomings.')).toBe(true);
    expect(corpus.train.length).toBe(54_000);
    expect(corpus.valid.length).toBe(3_000);
    expect(corpus.test.length).toBe(3_000);
    expect(corpus.vocab.unkId).toBe(corpus.vocab.size - 1);
  });

  it('learns: the training loss falls and validation beats the uniform model within 60 steps', async () => {
    const model = makeModel(config, corpus.vocab.size);
    const optimizer = makeOptimizer(config);
    const start = initialTrainingState(config, model, optimizer);
    const before = await bitsPerCharacter(model, start.params, corpus.valid, { batchSize: 8, seqLen: 32 });
    const { seen, end } = await losses(start, 60, model);
    const first = seen.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
    const last = seen.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(last).toBeLessThan(first - 1);
    const after = await bitsPerCharacter(model, end.params, corpus.valid, { batchSize: 8, seqLen: 32 });
    expect(after).toBeLessThan(before - 1.5);
    expect(after).toBeLessThan(Math.log2(corpus.vocab.size) - 1.5);
  }, 60_000);

  it('is deterministic: the same seed gives identical losses', async () => {
    const model = makeModel(config, corpus.vocab.size);
    const optimizer = makeOptimizer(config);
    const a = (await losses(initialTrainingState(config, model, optimizer), 4)).seen;
    const b = (await losses(initialTrainingState(config, model, optimizer), 4)).seen;
    expect(a).toEqual(b);
  });

  it("the jitted step computes the eager step's losses (float32, 1e-5 relative)", async () => {
    const model = makeModel(config, corpus.vocab.size);
    const optimizer = makeOptimizer(config);
    const run = async (jit: boolean) => {
      const seen: number[] = [];
      await trainLoop(config, corpus, model, initialTrainingState(config, model, optimizer), { maxSteps: 4, jit, onStep: (_s, l) => seen.push(l) });
      return seen;
    };
    const eager = await run(false);
    (await run(true)).forEach((l, i) => expect(Math.abs(l - eager[i]!)).toBeLessThan(1e-5 * Math.abs(eager[i]!)));
  });

  it('checkpoints round-trip and resuming equals an uninterrupted run', async () => {
    const model = makeModel(config, corpus.vocab.size);
    const optimizer = makeOptimizer(config);
    const uninterrupted = (await losses(initialTrainingState(config, model, optimizer), 6)).seen;
    const firstHalf = await losses(initialTrainingState(config, model, optimizer), 3);
    const dir = tempDir();
    saveCheckpoint(dir, config, corpus.vocab, model, firstHalf.end);
    const header = readCheckpointHeader(dir);
    expect(header.config).toEqual(config);
    expect(header.vocab.tokens).toEqual(corpus.vocab.tokens);
    const restored = loadCheckpoint(dir, model, optimizer);
    const a = treeLeaves<Tensor>(firstHalf.end.params).map((t) => Array.from(t.dataSync()));
    const b = treeLeaves<Tensor>(restored.params).map((t) => Array.from(t.dataSync()));
    expect(b).toEqual(a);
    expect(restored.step).toBe(3);
    const secondHalf = (await losses(restored, 3)).seen;
    expect([...firstHalf.seen, ...secondHalf]).toEqual(uninterrupted);
    // the weights file is plain safetensors with PyTorch names for the recurrent layer
    const bytes = readFileSync(join(dir, 'ckpt-3', 'model.safetensors'));
    const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const names = Object.keys(JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))));
    expect(names).toContain('rnn.weight_ih_l0');
    expect(names).toContain('rnn.bias_hh_l0');
  });

  it("on two threads computes the one-thread losses (mean of the shards' gradients = the batch gradient) and resumes exactly", async () => {
    const model = makeModel(config, corpus.vocab.size);
    const optimizer = makeOptimizer(config);
    const single = (await losses(initialTrainingState(config, model, optimizer), 6)).seen;
    const two = (await losses(initialTrainingState(config, model, optimizer), 6, model, 2)).seen;
    two.forEach((l, i) => expect(Math.abs(l - single[i]!)).toBeLessThan(1e-5 * single[i]!));
    // determinism and resumption: 3 + 3 steps through a checkpoint give the uninterrupted losses bit for bit
    const firstHalf = await losses(initialTrainingState(config, model, optimizer), 3, model, 2);
    const dir = tempDir();
    saveCheckpoint(dir, config, corpus.vocab, model, firstHalf.end);
    const secondHalf = (await losses(loadCheckpoint(dir, model, optimizer), 3, model, 2)).seen;
    expect([...firstHalf.seen, ...secondHalf]).toEqual(two);
  }, 60_000);

  it("with dropout: the compiled step draws the eager step's masks, a new one each step, and resumes exactly on two threads", async () => {
    const dropped: TrainConfig = { ...config, dropout: 0.3 };
    const model = makeModel(dropped, corpus.vocab.size);
    const optimizer = makeOptimizer(dropped);
    const run = async (start: TrainingState, steps: number, options: { jit?: boolean; threads?: number } = {}) => {
      const seen: number[] = [];
      const end = await trainLoop(dropped, corpus, model, start, { maxSteps: start.step + steps, ...options, onStep: (_s, l) => seen.push(l) });
      return { seen, end };
    };
    const fresh = () => initialTrainingState(dropped, model, optimizer);
    const eager = (await run(fresh(), 4, { jit: false })).seen;
    const compiled = (await run(fresh(), 4)).seen;
    compiled.forEach((l, i) => expect(Math.abs(l - eager[i]!)).toBeLessThan(1e-5 * eager[i]!));
    // dropout is on: the losses differ from the same run without it (whose first step sees the same parameters)
    const plain = (await losses(initialTrainingState(config, model, optimizer), 1)).seen;
    expect(Math.abs(compiled[0]! - plain[0]!)).toBeGreaterThan(1e-4);
    const two = (await run(fresh(), 6, { threads: 2 })).seen;
    const firstHalf = await run(fresh(), 3, { threads: 2 });
    const dir = tempDir();
    saveCheckpoint(dir, dropped, corpus.vocab, model, firstHalf.end);
    const secondHalf = (await run(loadCheckpoint(dir, model, optimizer), 3, { threads: 2 })).seen;
    expect([...firstHalf.seen, ...secondHalf]).toEqual(two);
  }, 60_000);

  it('refuses a thread count that does not divide the batch', async () => {
    const model = makeModel(config, corpus.vocab.size);
    const optimizer = makeOptimizer(config);
    await expect(losses(initialTrainingState(config, model, optimizer), 1, model, 3)).rejects.toThrow(/--threads 3 must divide the batch size 16/);
  });

  it('samples text from a prompt', async () => {
    const model = makeModel(config, corpus.vocab.size);
    const state = initialTrainingState(config, model, makeOptimizer(config));
    const s = await sampleText(model, state.params, corpus.vocab, { prompt: 'Call me ', length: 20, temperature: 1, key: randomKey(3) });
    expect(s.startsWith('Call me ')).toBe(true);
    expect(Array.from(s).length).toBe(28);
  });
});
