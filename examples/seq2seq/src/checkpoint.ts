/**
 * Saving a trained model as one unit (examples/common's checkpoints: `ckpt-<step>/` and a `latest` pointer):
 * `model.safetensors` (the parameters by tree path, e.g. `encoder.layers[0].forward.weightIh`) and
 * `model.json` (the configuration, both vocabularies and the seed of the word split), both stamped with the
 * save — enough for `eval` and `pronounce` to rebuild the model and to know which words were held out.
 * Loading checks the stamps, the configuration and every tensor against a freshly built model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomKey } from '@tapestry/core';
import { decodeSafetensors, loadTree, saveTree, Vocabulary, type SafetensorsContents } from '@tapestry/data';
import { CheckpointError, newStamp, openCheckpoint, stampMetadata, writeCheckpoint } from '@tapestry/example-common';
import type { Vocabularies } from './cmudict.js';
import type { Seq2SeqParams } from './model.js';
import { makeModel, type TrainConfig } from './training.js';

const FORMAT = 'tapestry-seq2seq/2';
/** Models saved before saves were one unit: model.safetensors and model.json side by side. */
const LEGACY_FORMAT = 'tapestry-seq2seq/1';

/** Writes the parameters, configuration, vocabularies and split seed as the latest model under `dir` (created if needed). */
export function saveModel(dir: string, config: TrainConfig, vocab: Vocabularies, params: Seq2SeqParams, splitSeed: number, step: number): void {
  const stamp = newStamp(step);
  const json = { format: FORMAT, stamp: stampMetadata(stamp), config, splitSeed, letters: vocab.letters.toJSON(), phonemes: vocab.phonemes.toJSON() };
  writeCheckpoint(dir, stamp, {
    'model.safetensors': saveTree(params, { format: FORMAT, ...stampMetadata(stamp) }),
    'model.json': JSON.stringify(json, null, 1),
  });
}

const fail = (where: string, message: string): never => {
  throw new CheckpointError(`${where}: ${message}; train the model again (seq2seq train --out DIR) or pass --model with another directory`);
};

function checkConfig(where: string, config: unknown): TrainConfig {
  const c = (config ?? {}) as Record<string, unknown>;
  if (c.cell !== 'gru' && c.cell !== 'lstm') fail(where, `config.cell is ${JSON.stringify(c.cell)}, not gru or lstm`);
  for (const key of ['embeddingDim', 'hiddenSize']) {
    if (!Number.isSafeInteger(c[key]) || (c[key] as number) < 1) fail(where, `config.${key} is ${JSON.stringify(c[key])}, not a positive integer`);
  }
  if (typeof c.attention !== 'boolean') fail(where, `config.attention is ${JSON.stringify(c.attention)}, not true or false`);
  return config as TrainConfig;
}

/** Reads the latest model written by {@link saveModel} under `dir` (or one written before saves were one unit). */
export function loadModel(dir: string): { config: TrainConfig; vocab: Vocabularies; params: Seq2SeqParams; splitSeed: number } {
  const opened = openCheckpoint(dir);
  let json: Record<string, any>;
  let weights: SafetensorsContents;
  let at: string;
  const decode = (path: string, bytes: Uint8Array): SafetensorsContents => {
    try {
      return decodeSafetensors(bytes);
    } catch (error) {
      return fail(path, `is damaged (${(error as Error).message.replace(/^decodeSafetensors: /, '')})`);
    }
  };
  if (opened !== undefined) {
    at = opened.dir;
    json = opened.json('model.json') as Record<string, any>;
    if (json?.format !== FORMAT) fail(join(at, 'model.json'), `does not describe a seq2seq model (format ${JSON.stringify(json?.format)})`);
    const stamp = { step: Number(json.stamp?.step), id: String(json.stamp?.checkpoint) };
    if (stamp.step !== opened.step) fail(join(at, 'model.json'), `is stamped with step ${JSON.stringify(json.stamp?.step)} but lies in ${at}`);
    weights = decode(join(at, 'model.safetensors'), opened.bytes('model.safetensors'));
    opened.checkStamp('model.safetensors', weights.metadata, stamp);
  } else {
    at = dir;
    const jsonPath = join(dir, 'model.json');
    if (!existsSync(jsonPath)) throw new CheckpointError(`${dir} holds no seq2seq model; train one first (seq2seq train --out ${dir}) or pass --model`);
    try {
      json = JSON.parse(readFileSync(jsonPath, 'utf8'));
    } catch (error) {
      return fail(jsonPath, `is not valid JSON (${(error as Error).message})`);
    }
    if (json?.format !== LEGACY_FORMAT) fail(jsonPath, `does not describe a seq2seq model (format ${JSON.stringify(json?.format)})`);
    const weightsPath = join(dir, 'model.safetensors');
    if (!existsSync(weightsPath)) fail(weightsPath, 'is missing');
    weights = decode(weightsPath, readFileSync(weightsPath));
  }
  const jsonPath = join(at, 'model.json');
  const config = checkConfig(jsonPath, json.config);
  if (!Number.isSafeInteger(json.splitSeed)) fail(jsonPath, `splitSeed is ${JSON.stringify(json.splitSeed)}, not an integer`);
  let vocab: Vocabularies;
  try {
    vocab = { letters: Vocabulary.fromJSON(json.letters), phonemes: Vocabulary.fromJSON(json.phonemes) };
  } catch (error) {
    return fail(jsonPath, `its vocabularies are unreadable (${(error as Error).message})`);
  }
  // A freshly initialised tree gives the structure, shapes and dtypes; the file gives the values, path by path.
  const template = makeModel(config, vocab).init(randomKey(0));
  const params = loadTree(weights, template, { name: join(at, 'model.safetensors') });
  return { config, vocab, params, splitSeed: json.splitSeed as number };
}
