/**
 * Checkpoints: a directory with `model.safetensors` (the parameters under PyTorch-style names, readable by
 * Python's safetensors), `optimizer.safetensors` (the optimiser state and the carried recurrent state,
 * by tree path) and `checkpoint.json` (configuration, vocabulary, position in the data, history and the
 * optimiser's scalar leaves). Together they continue a run exactly where it stopped.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor, treeFlattenWithPath, treeStructure, treeUnflatten } from '@tapestry/core';
import { decodeSafetensors, encodeSafetensors, Vocabulary } from '@tapestry/data';
import type { GradientTransformation } from '@tapestry/optim';
import type { CarriedState, CharModel } from './model.js';
import type { TrainConfig, TrainingState } from './training.js';

const FORMAT = 'tapestry-char-rnn/1';

interface CheckpointJson {
  format: string;
  config: TrainConfig;
  vocab: unknown;
  step: number;
  epoch: number;
  window: number;
  charsSeen: number;
  elapsedMs: number;
  history: TrainingState['history'];
  optimizerScalars: Record<string, unknown>;
  carry: string[];
}

function writeAtomically(path: string, data: Uint8Array | string): void {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

/** Saves a run to `dir` (created if needed). */
export function saveCheckpoint(dir: string, config: TrainConfig, vocab: Vocabulary, model: CharModel, state: TrainingState): void {
  mkdirSync(dir, { recursive: true });
  writeAtomically(join(dir, 'model.safetensors'), encodeSafetensors(model.toStateDict(state.params), { format: FORMAT }));
  const optTensors: Record<string, Tensor> = {};
  const optimizerScalars: Record<string, unknown> = {};
  for (const [path, leaf] of treeFlattenWithPath(state.optState)) {
    if (leaf instanceof Tensor) optTensors[`opt/${path}`] = leaf;
    else optimizerScalars[path] = leaf;
  }
  const carry: string[] = [];
  if (state.carry) {
    for (const [name, value] of Object.entries(state.carry)) {
      if (value instanceof Tensor) {
        optTensors[`carry/${name}`] = value;
        carry.push(name);
      }
    }
  }
  writeAtomically(join(dir, 'optimizer.safetensors'), encodeSafetensors(optTensors, { format: FORMAT }));
  const json: CheckpointJson = {
    format: FORMAT,
    config,
    vocab: vocab.toJSON(),
    step: state.step,
    epoch: state.epoch,
    window: state.window,
    charsSeen: state.charsSeen,
    elapsedMs: state.elapsedMs,
    history: state.history,
    optimizerScalars,
    carry,
  };
  writeAtomically(join(dir, 'checkpoint.json'), JSON.stringify(json, null, 1));
}

/** The configuration and vocabulary of a checkpoint (enough to rebuild its model). */
export function readCheckpointHeader(dir: string): { config: TrainConfig; vocab: Vocabulary } {
  const json = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as CheckpointJson;
  if (json.format !== FORMAT) throw new Error(`char-rnn: ${dir} is not a char-rnn checkpoint (format ${String(json.format)})`);
  return { config: json.config, vocab: Vocabulary.fromJSON(json.vocab) };
}

/** Loads a run saved by {@link saveCheckpoint}. */
export function loadCheckpoint(dir: string, model: CharModel, optimizer: GradientTransformation<any>): TrainingState {
  const json = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as CheckpointJson;
  if (json.format !== FORMAT) throw new Error(`char-rnn: ${dir} is not a char-rnn checkpoint (format ${String(json.format)})`);
  const params = model.fromStateDict(decodeSafetensors(readFileSync(join(dir, 'model.safetensors'))).tensors);
  const saved = decodeSafetensors(readFileSync(join(dir, 'optimizer.safetensors'))).tensors;
  // The optimiser state's structure comes from a fresh init; its leaves from the files, path by path.
  const template = optimizer.init(params);
  const leaves = treeFlattenWithPath(template).map(([path, leaf]) => {
    if (leaf instanceof Tensor) {
      const value = saved[`opt/${path}`];
      if (!value) throw new Error(`char-rnn: optimizer.safetensors lacks opt/${path}`);
      return value;
    }
    if (!(path in json.optimizerScalars)) throw new Error(`char-rnn: checkpoint.json lacks optimiser scalar ${path}`);
    return json.optimizerScalars[path];
  });
  const optState = treeUnflatten(treeStructure(template), leaves);
  let carry: CarriedState | undefined;
  if (json.carry.length > 0) {
    const entries = Object.fromEntries(json.carry.map((name) => [name, saved[`carry/${name}`]]));
    carry = entries as unknown as CarriedState;
  }
  return {
    params,
    optState,
    carry,
    step: json.step,
    epoch: json.epoch,
    window: json.window,
    charsSeen: json.charsSeen,
    elapsedMs: json.elapsedMs,
    history: json.history,
  };
}
