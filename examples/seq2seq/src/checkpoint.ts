/**
 * Saving a trained model: `model.safetensors` (the parameters by tree path, e.g. `encoder.layers[0].forward.weightIh`)
 * and `model.json` (the configuration, both vocabularies and the seed of the word split) — enough for `eval` and
 * `pronounce` to rebuild it and to know which words were held out.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomKey, Tensor, treeFlatten, treeFlattenWithPath, treeUnflatten } from '@tapestry/core';
import { decodeSafetensors, encodeSafetensors, Vocabulary } from '@tapestry/data';
import type { Vocabularies } from './cmudict.js';
import type { Seq2SeqParams } from './model.js';
import { makeModel, type TrainConfig } from './training.js';

const FORMAT = 'tapestry-seq2seq/1';

/** Writes the parameters, configuration, vocabularies and split seed to `dir` (created if needed). */
export function saveModel(dir: string, config: TrainConfig, vocab: Vocabularies, params: Seq2SeqParams, splitSeed: number): void {
  mkdirSync(dir, { recursive: true });
  const tensors = Object.fromEntries(treeFlattenWithPath<Tensor>(params));
  writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(tensors, { format: FORMAT }));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: FORMAT, config, splitSeed, letters: vocab.letters.toJSON(), phonemes: vocab.phonemes.toJSON() }, null, 1));
}

/** Reads a model written by {@link saveModel}. */
export function loadModel(dir: string): { config: TrainConfig; vocab: Vocabularies; params: Seq2SeqParams; splitSeed: number } {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  if (json.format !== FORMAT) throw new Error(`seq2seq: ${dir} does not hold a seq2seq model (format ${String(json.format)})`);
  const config = json.config as TrainConfig;
  const vocab = { letters: Vocabulary.fromJSON(json.letters), phonemes: Vocabulary.fromJSON(json.phonemes) };
  // A freshly initialised tree gives the structure; its leaves are replaced by the saved tensors, by path.
  const template = makeModel(config, vocab).init(randomKey(0));
  const { tensors } = decodeSafetensors(readFileSync(join(dir, 'model.safetensors')));
  const leaves = treeFlattenWithPath<Tensor>(template).map(([path, leaf]) => {
    const saved = tensors[path];
    if (!saved || saved.shape.join() !== leaf.shape.join()) throw new Error(`seq2seq: ${dir}/model.safetensors lacks ${path} of shape [${leaf.shape.join(', ')}]`);
    return saved;
  });
  return { config, vocab, params: treeUnflatten(treeFlatten(template)[1], leaves), splitSeed: json.splitSeed as number };
}
