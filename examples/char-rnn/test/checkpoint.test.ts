import * as fs from 'node:fs';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { full, Tensor, treeFlattenWithPath } from '@tapestry/core';
import { decodeSafetensors, encodeSafetensors } from '@tapestry/data';
import { CheckpointError, type CheckpointFs } from '@tapestry/example-common';
import { readCheckpoint, saveCheckpoint } from '../src/checkpoint.js';
import { prepareCorpus } from '../src/corpus.js';
import { DEFAULT_CONFIG, initialTrainingState, makeModel, makeOptimizer, type TrainConfig, type TrainingState } from '../src/training.js';

const corpus = prepareCorpus('Call me Ishmael. Some years ago, never mind how long precisely. '.repeat(20), 'test');
const config: TrainConfig = { ...DEFAULT_CONFIG, hiddenSize: 8, numLayers: 2, embeddingDim: 4, batchSize: 4, seqLen: 8 };
const model = makeModel(config, corpus.vocab.size);
const optimizer = makeOptimizer(config);

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'char-rnn-ckpt-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A state at `step` whose every tensor (parameters, optimiser state, carried state) is tagged by the seed it came from. */
function stateAt(step: number, seed: number): TrainingState {
  const start = initialTrainingState({ ...config, seed }, model, optimizer);
  const carryShape = [config.numLayers, config.batchSize, config.hiddenSize];
  return { ...start, step, window: step, charsSeen: step * 32, carry: { h: full(carryShape, seed), c: full(carryShape, -seed) } };
}
const fingerprint = (s: TrainingState) =>
  treeFlattenWithPath<Tensor>({ params: s.params, carry: s.carry }).map(([path, t]) => [path, Array.from(t.dataSync())]);

const realFs = fs as unknown as CheckpointFs;
function failingFs(failAt: number): { fs: CheckpointFs; calls: () => number } {
  let n = 0;
  const hit = (): void => {
    if (n++ === failAt) throw Object.assign(new Error(`injected failure at call ${failAt}`), { code: 'ENOSPC' });
  };
  const wrap =
    <A extends unknown[], R>(f: (...args: A) => R) =>
    (...args: A): R => {
      hit();
      return f(...args);
    };
  return {
    calls: () => n,
    fs: {
      ...realFs,
      mkdirSync: wrap(realFs.mkdirSync),
      rmSync: wrap(realFs.rmSync),
      openSync: wrap(realFs.openSync),
      fsyncSync: wrap(realFs.fsyncSync),
      closeSync: wrap(realFs.closeSync),
      renameSync: wrap(realFs.renameSync),
      writeFileSync: (path, data) => {
        // a full disk: part of the file is written, then the write fails
        if (n === failAt) realFs.writeFileSync(path, data.slice(0, Math.floor(data.length / 3)));
        hit();
        realFs.writeFileSync(path, data);
      },
    },
  };
}

describe('char-rnn checkpoints', () => {
  it('round-trip parameters, optimiser state, carried state and position; the weights keep PyTorch names', () => {
    const dir = tempDir();
    const state = stateAt(5, 1);
    saveCheckpoint(dir, config, corpus.vocab, model, state);
    const stored = readCheckpoint(dir)!;
    expect(stored.step).toBe(5);
    expect(stored.config).toEqual(config);
    const loaded = stored.load(model, optimizer);
    expect(fingerprint(loaded)).toEqual(fingerprint(state));
    expect(loaded.window).toBe(5);
    const names = Object.keys(decodeSafetensors(readFileSync(join(dir, 'ckpt-5', 'model.safetensors'))).tensors).sort();
    expect(names).toEqual([
      'embedding.weight',
      'head.bias',
      'head.weight',
      ...['bias_hh_l0', 'bias_hh_l1', 'bias_ih_l0', 'bias_ih_l1', 'weight_hh_l0', 'weight_hh_l1', 'weight_ih_l0', 'weight_ih_l1'].map((n) => `rnn.${n}`),
    ]);
  });

  it('a save that fails at any point (fault injection) loads as the old checkpoint or the new one, never a mix', () => {
    const base = tempDir();
    const old = stateAt(3, 1);
    const next = stateAt(6, 2);
    saveCheckpoint(base, config, corpus.vocab, model, old);
    const counting = failingFs(-1);
    const probe = tempDir();
    cpSync(base, probe, { recursive: true });
    saveCheckpoint(probe, config, corpus.vocab, model, next, { fs: counting.fs });
    const seen = new Set<number>();
    for (let failAt = 0; failAt < counting.calls(); failAt++) {
      const dir = tempDir();
      cpSync(base, dir, { recursive: true });
      expect(() => saveCheckpoint(dir, config, corpus.vocab, model, next, { fs: failingFs(failAt).fs })).toThrow(/injected failure/);
      const loaded = readCheckpoint(dir)!.load(model, optimizer);
      expect([3, 6]).toContain(loaded.step);
      expect(fingerprint(loaded)).toEqual(fingerprint(loaded.step === 3 ? old : next));
      seen.add(loaded.step);
    }
    expect([...seen].sort()).toEqual([3, 6]);
  });

  it('refuses parts that do not belong together, naming the part', () => {
    const dir = tempDir();
    saveCheckpoint(dir, config, corpus.vocab, model, stateAt(3, 1));
    saveCheckpoint(dir, config, corpus.vocab, model, stateAt(6, 2));
    const load = () => readCheckpoint(dir)!.load(model, optimizer);
    // the optimiser part of the previous checkpoint, copied into the latest one (what the old layout allowed)
    const ckpt6 = join(dir, 'ckpt-6');
    const good = readFileSync(join(ckpt6, 'optimizer.safetensors'));
    writeFileSync(join(ckpt6, 'optimizer.safetensors'), readFileSync(join(dir, 'ckpt-3', 'optimizer.safetensors')));
    expect(load).toThrow(CheckpointError);
    expect(load).toThrow(/ckpt-6\/optimizer\.safetensors was saved at step 3 by another save .* its parts do not belong together/);
    writeFileSync(join(ckpt6, 'optimizer.safetensors'), good);
    expect(load().step).toBe(6);

    // a carried state of another batch size, and a head one row short of the vocabulary (stamps intact)
    const rewrite = (part: string, edit: (tensors: Record<string, Tensor>) => void) => {
      const { tensors, metadata } = decodeSafetensors(readFileSync(join(ckpt6, part)));
      edit(tensors);
      writeFileSync(join(ckpt6, part), encodeSafetensors(tensors, metadata));
    };
    rewrite('optimizer.safetensors', (t) => {
      t['carry.h'] = full([2, 3, 8], 0);
    });
    expect(load).toThrow(/optimizer\.safetensors: tensor "carry\.h" has shape \[2, 3, 8\] but the template expects \[2, 4, 8\]/);
    writeFileSync(join(ckpt6, 'optimizer.safetensors'), good);
    rewrite('model.safetensors', (t) => {
      t['head.weight'] = full([corpus.vocab.size - 1, 8], 0);
    });
    expect(load).toThrow(
      new RegExp(
        `model\\.safetensors: the model's head predicts ${corpus.vocab.size - 1} characters but checkpoint\\.json's vocabulary has ${corpus.vocab.size}`,
      ),
    );
  });

  it('refuses a damaged checkpoint.json or safetensors part with the file named and --fresh as the fix', () => {
    const dir = tempDir();
    saveCheckpoint(dir, config, corpus.vocab, model, stateAt(2, 1));
    const json = join(dir, 'ckpt-2', 'checkpoint.json');
    const original = readFileSync(json, 'utf8');
    writeFileSync(json, original.replace('"hiddenSize": 8', '"hiddenSize": "eight"'));
    expect(() => readCheckpoint(dir)).toThrow(/checkpoint\.json: config\.hiddenSize is "eight", not a positive integer; start over with --fresh/);
    writeFileSync(json, original.replace('"step": 2', '"step": 7'));
    expect(() => readCheckpoint(dir)).toThrow(/checkpoint\.json: holds step 7 .* the parts do not belong together/);
    writeFileSync(json, original);
    const weights = join(dir, 'ckpt-2', 'model.safetensors');
    writeFileSync(weights, readFileSync(weights).subarray(0, 100));
    expect(() => readCheckpoint(dir)!.load(model, optimizer)).toThrow(/model\.safetensors: is damaged \(the header length .* runs past the end/);
  });

  it('reads the layout of the previous version (three files side by side), with every check but the stamp', () => {
    const dir = tempDir();
    const state = stateAt(4, 3);
    const optTensors: Record<string, Tensor> = { 'carry/h': state.carry!.h, 'carry/c': state.carry!.c! };
    for (const [path, leaf] of treeFlattenWithPath<Tensor>(state.optState)) optTensors[`opt/${path}`] = leaf;
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(model.toStateDict(state.params), { format: 'tapestry-char-rnn/1' }));
    writeFileSync(join(dir, 'optimizer.safetensors'), encodeSafetensors(optTensors, { format: 'tapestry-char-rnn/1' }));
    const { carried: _carried, ...position } = {
      step: 4,
      epoch: 0,
      window: 4,
      charsSeen: 128,
      elapsedMs: 10,
      history: { train: [], valid: [] },
      carried: true,
    };
    writeFileSync(
      join(dir, 'checkpoint.json'),
      JSON.stringify({ format: 'tapestry-char-rnn/1', config, vocab: corpus.vocab.toJSON(), ...position, optimizerScalars: {}, carry: ['h', 'c'] }),
    );
    const stored = readCheckpoint(dir)!;
    expect(stored.legacy).toBe(true);
    const loaded = stored.load(model, optimizer);
    expect(fingerprint(loaded)).toEqual(fingerprint(state));
    expect(treeFlattenWithPath<Tensor>(loaded.optState).map(([p, t]) => [p, Array.from(t.dataSync())])).toEqual(
      treeFlattenWithPath<Tensor>(state.optState).map(([p, t]) => [p, Array.from(t.dataSync())]),
    );
    // saving writes the new layout, which then takes precedence
    saveCheckpoint(dir, config, corpus.vocab, model, { ...loaded, step: 5 });
    expect(readCheckpoint(dir)!.legacy).toBe(false);
    expect(fs.readdirSync(dir).sort()).toEqual(['ckpt-5', 'latest']);
  });
});
