import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { randomKey, Tensor, treeFlattenWithPath } from '@tapestry/core';
import { encodeSafetensors } from '@tapestry/data';
import { CheckpointError } from '@tapestry/example-common';
import { loadModel, saveModel } from '../src/checkpoint.js';
import { buildVocabularies, parseCmudict } from '../src/cmudict.js';
import { DEFAULT_CONFIG, makeModel, type TrainConfig } from '../src/training.js';

const vocab = buildVocabularies(parseCmudict('CAT  K AE1 T\nDOG  D AO1 G\nBIRD  B ER1 D\n'));
const config: TrainConfig = { ...DEFAULT_CONFIG, hiddenSize: 6, embeddingDim: 4 };
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'seq2seq-ckpt-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const values = (tree: unknown) => treeFlattenWithPath<Tensor>(tree).map(([path, t]) => [path, t.shape, Array.from(t.dataSync())]);

describe('seq2seq model files', () => {
  it('save as one unit under ckpt-<step> and load back by tree path, checked against the configuration', () => {
    const dir = tempDir();
    const params = makeModel(config, vocab).init(randomKey(5));
    saveModel(dir, config, vocab, params, 3, 40);
    expect(readdirSync(dir).sort()).toEqual(['ckpt-40', 'latest']);
    const loaded = loadModel(dir);
    expect(loaded.config).toEqual(config);
    expect(loaded.splitSeed).toBe(3);
    expect(values(loaded.params)).toEqual(values(params));

    // a configuration that does not match the weights: the tensor is named
    const json = join(dir, 'ckpt-40', 'model.json');
    const original = readFileSync(json, 'utf8');
    writeFileSync(json, original.replace('"hiddenSize": 6', '"hiddenSize": 7'));
    expect(() => loadModel(dir)).toThrow(/loadTree: .*ckpt-40\/model\.safetensors: tensor "[^"]+" has shape \[.*\] but the template expects/);
    // weights from another save at another step
    writeFileSync(json, original);
    const other = tempDir();
    saveModel(other, config, vocab, params, 3, 41);
    writeFileSync(join(dir, 'ckpt-40', 'model.safetensors'), readFileSync(join(other, 'ckpt-41', 'model.safetensors')));
    expect(() => loadModel(dir)).toThrow(CheckpointError);
    expect(() => loadModel(dir)).toThrow(/ckpt-40\/model\.safetensors was saved at step 41 by another save/);
    expect(() => loadModel(tempDir())).toThrow(/holds no seq2seq model; train one first/);
  });

  it('reads a model saved before saves were one unit', () => {
    const dir = tempDir();
    const params = makeModel(config, vocab).init(randomKey(6));
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(Object.fromEntries(treeFlattenWithPath<Tensor>(params)), { format: 'tapestry-seq2seq/1' }));
    writeFileSync(
      join(dir, 'model.json'),
      JSON.stringify({ format: 'tapestry-seq2seq/1', config, splitSeed: 0, letters: vocab.letters.toJSON(), phonemes: vocab.phonemes.toJSON() }),
    );
    expect(values(loadModel(dir).params)).toEqual(values(params));
  });
});
