/** The playground's training run, in Node: the same module the page's worker runs. */
import { describe, expect, it } from 'vitest';
import { randomKey } from '@tapestry/core';
import { decodeSafetensors } from '@tapestry/data';
import { charModel } from '../../char-rnn/src/model.js';
import { DEFAULT_CONFIG, type PlaygroundConfig } from '../src/config.js';
import { checkCell, compileCell, DEFAULT_CELL_SOURCE } from '../src/custom-cell.js';
import { mobyDickExcerpt } from '../src/excerpt-node.js';
import { importWeights, Trainer } from '../src/trainer.js';

const text = mobyDickExcerpt(40_000);
const small: PlaygroundConfig = { ...DEFAULT_CONFIG, hiddenSize: 32, embeddingDim: 16, batchSize: 8, seqLen: 16, lr: 1e-2 };

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('playground trainer', () => {
  it('the excerpt is the start of Moby-Dick', () => {
    expect(mobyDickExcerpt().startsWith('CHAPTER 1. Loomings.')).toBe(true);
    expect(mobyDickExcerpt().length).toBeGreaterThan(150_000);
  });

  it('trains the LSTM: the loss falls over 30 steps, validation and samples work', () => {
    const trainer = Trainer.fromText(small, text);
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) losses.push(trainer.trainStep().bitsPerChar);
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 0.5);
    expect(trainer.validate(2000)).toBeLessThan(losses[0]!);
    const sample = trainer.sample({ length: 40, temperature: 0.8, topK: 5 });
    expect(Array.from(sample)).toHaveLength(40);
  });

  it('writes the char-rnn CLI state-dict names and shapes (PyTorch nn.LSTM names under rnn.)', () => {
    const trainer = Trainer.fromText({ ...small, numLayers: 2 }, text);
    const ours = trainer.model.toStateDict(trainer.params);
    const cli = charModel({ vocabSize: trainer.vocab.size, embeddingDim: 16, hiddenSize: 32, numLayers: 2, cell: 'lstm', dropout: 0, dtype: 'float32' });
    const theirs = cli.toStateDict(cli.init(randomKey(1)));
    const shapes = (d: Record<string, { shape: readonly number[] }>) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.shape]));
    expect(shapes(ours)).toEqual(shapes(theirs));
    expect(Object.keys(ours).sort()).toEqual([
      'embedding.weight', 'head.bias', 'head.weight',
      'rnn.bias_hh_l0', 'rnn.bias_hh_l1', 'rnn.bias_ih_l0', 'rnn.bias_ih_l1',
      'rnn.weight_hh_l0', 'rnn.weight_hh_l1', 'rnn.weight_ih_l0', 'rnn.weight_ih_l1',
    ]);
    // nn.Embedding, nn.LSTM(16, 32, num_layers=2) and nn.Linear(32, V) layouts
    const V = trainer.vocab.size;
    expect(shapes(ours)).toEqual({
      'embedding.weight': [V, 16], 'head.weight': [V, 32], 'head.bias': [V],
      'rnn.weight_ih_l0': [128, 16], 'rnn.weight_hh_l0': [128, 32], 'rnn.bias_ih_l0': [128], 'rnn.bias_hh_l0': [128],
      'rnn.weight_ih_l1': [128, 32], 'rnn.weight_hh_l1': [128, 32], 'rnn.bias_ih_l1': [128], 'rnn.bias_hh_l1': [128],
    });
    // and the CLI's model reads the playground's parameters
    expect(() => cli.fromStateDict(ours)).not.toThrow();
  });

  it('weights round-trip through safetensors and continue to the same numbers', () => {
    const trainer = Trainer.fromText(small, text);
    for (let i = 0; i < 3; i++) trainer.trainStep();
    const bytes = trainer.exportWeights();
    const loaded = importWeights(bytes);
    expect(loaded.config).toEqual(small);
    expect(loaded.step).toBe(3);
    expect(loaded.vocab.tokens).toEqual(trainer.vocab.tokens);
    const before = trainer.model.toStateDict(trainer.params);
    const after = new Trainer(loaded.config, loaded.vocab, text, loaded.params).model.toStateDict(loaded.params);
    for (const [name, t] of Object.entries(before)) expect(Array.from(after[name]!.dataSync())).toEqual(Array.from(t.dataSync()));
    expect(decodeSafetensors(bytes).metadata?.format).toBe('tapestry-playground/1');
  });

  it('rejects weights whose shapes do not fit, naming the tensor', () => {
    const bytes = Trainer.fromText(small, text).exportWeights();
    const { tensors, metadata } = decodeSafetensors(bytes);
    const config = JSON.parse(metadata!.config!) as PlaygroundConfig;
    const edited = new TextEncoder().encode(JSON.stringify({ ...config, embeddingDim: 8 }));
    expect(tensors['embedding.weight']!.shape).toEqual([expect.any(Number), 16]);
    expect(() => importWeights(reencode(bytes, { config: new TextDecoder().decode(edited) }))).toThrow(/embedding\.weight.*\[\d+, 16\].*needs \[\d+, 8\]/);
  });

  it('checks the default custom cell with checkGrad and trains it in the same loop', () => {
    const check = checkCell(DEFAULT_CELL_SOURCE);
    expect(check.ok).toBe(true);
    expect(check.maxError).toBeLessThan(1e-6);
    const trainer = Trainer.fromText({ ...small, cell: 'custom', cellSource: DEFAULT_CELL_SOURCE }, text);
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) losses.push(trainer.trainStep().bitsPerChar);
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 0.5);
    expect(Object.keys(trainer.model.toStateDict(trainer.params))).toContain('rnn.wf_l0');
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
