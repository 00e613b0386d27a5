/**
 * Checkpoints, written as one unit (examples/common's checkpoints: a `ckpt-<step>` directory per save and an
 * atomically switched `latest` pointer). Each holds three parts, all stamped with the save's step and id:
 *
 *   model.safetensors      the parameters under PyTorch state-dict names (`rnn.weight_ih_l0`, `head.weight`…),
 *                          loadable with `load_state_dict(strict=True)` into embedding + nn.LSTM + linear
 *   optimizer.safetensors  the optimiser state and the recurrent state carried into the next window, by tree
 *                          path (`optimizer[1][0].mu.head.weight`, `carry.h`)
 *   checkpoint.json        configuration, vocabulary, position in the data and history
 *
 * Loading checks that the parts belong together (the same stamp in each), that the vocabulary fits the
 * model's head, and every tensor's shape and dtype against a freshly built model, optimiser and carried
 * state, and says which part disagrees.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomKey, zeros, type Tensor } from '@tapestry/core';
import { decodeSafetensors, loadTree, saveTree, Vocabulary, type SafetensorsContents } from '@tapestry/data';
import type { GradientTransformation } from '@tapestry/optim';
import { CheckpointError, newStamp, openCheckpoint, stampMetadata, writeCheckpoint, type CheckpointFs, type CheckpointStamp } from '@tapestry/example-common';
import type { CarriedState, CharModel } from './model.js';
import type { TrainConfig, TrainingState } from './training.js';

const FORMAT = 'tapestry-char-rnn/2';
/** The format of checkpoints written before checkpoints were one unit (three files side by side). */
const LEGACY_FORMAT = 'tapestry-char-rnn/1';

interface CheckpointJson {
  format: string;
  stamp: { step: string; checkpoint: string };
  config: TrainConfig;
  vocab: unknown;
  step: number;
  epoch: number;
  window: number;
  charsSeen: number;
  elapsedMs: number;
  history: TrainingState['history'];
  /** Whether optimizer.safetensors holds a carried state (absent at the start of an epoch). */
  carried: boolean;
}

/** Saves a run as the latest checkpoint under `dir` (created if needed). `fs` is for tests that inject failures. */
export function saveCheckpoint(
  dir: string,
  config: TrainConfig,
  vocab: Vocabulary,
  model: CharModel,
  state: TrainingState,
  options: { fs?: CheckpointFs } = {},
): void {
  const stamp = newStamp(state.step);
  const metadata = { format: FORMAT, ...stampMetadata(stamp) };
  const json: CheckpointJson = {
    format: FORMAT,
    stamp: stampMetadata(stamp) as CheckpointJson['stamp'],
    config,
    vocab: vocab.toJSON(),
    step: state.step,
    epoch: state.epoch,
    window: state.window,
    charsSeen: state.charsSeen,
    elapsedMs: state.elapsedMs,
    history: state.history,
    carried: state.carry !== undefined,
  };
  writeCheckpoint(
    dir,
    stamp,
    {
      'model.safetensors': saveTree(model.toStateDict(state.params), metadata),
      'optimizer.safetensors': saveTree({ optimizer: state.optState, carry: state.carry }, metadata),
      'checkpoint.json': JSON.stringify(json, null, 1),
    },
    options,
  );
  removeLegacyCheckpoint(dir);
}

/** Once a checkpoint in the current layout exists, an earlier version's files beside it are stale: prune them too. */
function removeLegacyCheckpoint(dir: string): void {
  const jsonPath = join(dir, 'checkpoint.json');
  if (!existsSync(jsonPath)) return;
  try {
    if (JSON.parse(readFileSync(jsonPath, 'utf8'))?.format !== LEGACY_FORMAT) return;
  } catch {
    return;
  }
  for (const part of ['model.safetensors', 'optimizer.safetensors', 'checkpoint.json']) rmSync(join(dir, part), { force: true });
}

/** A checkpoint read from disk: its header now, its tensors on {@link StoredCheckpoint.load}. */
export interface StoredCheckpoint {
  /** Where it lies (a `ckpt-<step>` directory, or the run directory for the earlier layout). */
  readonly dir: string;
  readonly config: TrainConfig;
  readonly vocab: Vocabulary;
  /** The step it was saved at. */
  readonly step: number;
  /** Set when the checkpoint is in the earlier layout, whose parts cannot be checked to belong together. */
  readonly legacy: boolean;
  /** Its parameters, optimiser state and position, checked against `model` and `optimizer`. */
  load(model: CharModel, optimizer: GradientTransformation<any>): TrainingState;
}

const fail = (where: string, message: string): never => {
  throw new CheckpointError(`${where}: ${message}; start over with --fresh (or point --checkpoint elsewhere)`);
};

function checkConfig(where: string, config: unknown): TrainConfig {
  if (config === null || typeof config !== 'object') return fail(where, 'has no config object');
  const c = config as Record<string, unknown>;
  if (!['lstm', 'gru', 'rnn'].includes(c.cell as string)) fail(where, `config.cell is ${JSON.stringify(c.cell)}, not lstm, gru or rnn`);
  for (const key of ['hiddenSize', 'numLayers', 'embeddingDim', 'seqLen', 'batchSize', 'warmupSteps', 'seed']) {
    if (!Number.isSafeInteger(c[key]) || (c[key] as number) < (key === 'warmupSteps' || key === 'seed' ? 0 : 1)) {
      fail(where, `config.${key} is ${JSON.stringify(c[key])}, not a ${key === 'warmupSteps' || key === 'seed' ? 'non-negative' : 'positive'} integer`);
    }
  }
  for (const key of ['lr', 'clip', 'dropout'])
    if (typeof c[key] !== 'number' || !Number.isFinite(c[key])) fail(where, `config.${key} is ${JSON.stringify(c[key])}, not a number`);
  return config as TrainConfig;
}

function checkPosition(where: string, json: Record<string, unknown>): void {
  for (const key of ['step', 'epoch', 'window', 'charsSeen']) {
    if (!Number.isSafeInteger(json[key]) || (json[key] as number) < 0) fail(where, `${key} is ${JSON.stringify(json[key])}, not a non-negative integer`);
  }
  const history = json.history as Record<string, unknown> | undefined;
  if (typeof json.elapsedMs !== 'number' || !Array.isArray(history?.train) || !Array.isArray(history?.valid)) fail(where, 'elapsedMs or history is missing');
}

function readVocab(where: string, json: unknown): Vocabulary {
  try {
    return Vocabulary.fromJSON(json);
  } catch (error) {
    return fail(where, `its vocabulary is unreadable (${(error as Error).message})`);
  }
}

/** The head's rows must be the vocabulary: a one-short vocabulary would otherwise fail deep inside a reshape. */
function checkHead(where: string, weights: SafetensorsContents, vocab: Vocabulary, json: string): void {
  const head = weights.tensors['head.weight'];
  if (head === undefined) fail(where, 'has no head.weight');
  if (head!.shape[0] !== vocab.size) {
    fail(where, `the model's head predicts ${head!.shape[0]} characters but ${json}'s vocabulary has ${vocab.size}: the parts come from different runs`);
  }
}

/** The templates loading checks against: the state dict and optimiser state of a fresh init, the carried state's shape. */
function templates(model: CharModel, optimizer: GradientTransformation<any>, config: TrainConfig) {
  const params = model.init(randomKey(0));
  const state = [config.numLayers, config.batchSize, config.hiddenSize];
  const carry: CarriedState = config.cell === 'lstm' ? { h: zeros(state), c: zeros(state) } : { h: zeros(state) };
  return { stateDict: model.toStateDict(params), optState: optimizer.init(params), carry };
}

/**
 * Reads the latest checkpoint under `dir`, or undefined when there is none. A damaged or inconsistent
 * checkpoint is a `CheckpointError` naming the part and the fix.
 */
export function readCheckpoint(dir: string, options: { fs?: CheckpointFs } = {}): StoredCheckpoint | undefined {
  const opened = openCheckpoint(dir, options);
  if (opened === undefined) return readLegacyCheckpoint(dir);
  const jsonPath = join(opened.dir, 'checkpoint.json');
  const json = opened.json('checkpoint.json') as CheckpointJson;
  if (json === null || typeof json !== 'object' || json.format !== FORMAT) {
    fail(jsonPath, `is not a char-rnn checkpoint (format ${JSON.stringify((json as CheckpointJson | null)?.format)}, expected ${FORMAT})`);
  }
  const step = Number(json.stamp?.step);
  if (!Number.isSafeInteger(step) || json.step !== step || step !== opened.step) {
    fail(
      jsonPath,
      `holds step ${JSON.stringify(json.step)} (stamp ${JSON.stringify(json.stamp?.step)}) but lies in ${opened.dir}: the parts do not belong together`,
    );
  }
  const stamp: CheckpointStamp = { step, id: String(json.stamp.checkpoint) };
  const config = checkConfig(jsonPath, json.config);
  checkPosition(jsonPath, json as unknown as Record<string, unknown>);
  const vocab = readVocab(jsonPath, json.vocab);
  return {
    dir: opened.dir,
    config,
    vocab,
    step,
    legacy: false,
    load: (model, optimizer) => {
      const read = (part: string): SafetensorsContents => {
        const contents = decode(join(opened.dir, part), opened.bytes(part));
        opened.checkStamp(part, contents.metadata, stamp);
        return contents;
      };
      const weights = read('model.safetensors');
      const rest = read('optimizer.safetensors');
      checkHead(join(opened.dir, 'model.safetensors'), weights, vocab, 'checkpoint.json');
      const t = templates(model, optimizer, config);
      const stateDict = loadTree(weights, t.stateDict, { name: join(opened.dir, 'model.safetensors') });
      const { optimizer: optState, carry } = loadTree(
        rest,
        { optimizer: t.optState, carry: json.carried ? t.carry : undefined },
        {
          name: join(opened.dir, 'optimizer.safetensors'),
        },
      );
      return { params: model.fromStateDict(stateDict), optState, carry, ...position(json) };
    },
  };
}

function position(json: CheckpointJson) {
  return { step: json.step, epoch: json.epoch, window: json.window, charsSeen: json.charsSeen, elapsedMs: json.elapsedMs, history: json.history };
}

function decode(path: string, bytes: Uint8Array): SafetensorsContents {
  try {
    return decodeSafetensors(bytes);
  } catch (error) {
    return fail(path, `is damaged (${(error as Error).message.replace(/^decodeSafetensors: /, '')})`);
  }
}

/**
 * The layout before checkpoints were one unit: model.safetensors, optimizer.safetensors (`opt/<path>`,
 * `carry/<name>`) and checkpoint.json side by side in `dir`. Read so that runs continue, with every check
 * except the one it cannot have: its parts carry no stamp.
 */
function readLegacyCheckpoint(dir: string): StoredCheckpoint | undefined {
  const jsonPath = join(dir, 'checkpoint.json');
  if (!existsSync(jsonPath)) return undefined;
  let json: CheckpointJson & { optimizerScalars?: Record<string, unknown>; carry?: string[] };
  try {
    json = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (error) {
    return fail(jsonPath, `is not valid JSON (${(error as Error).message})`);
  }
  if (json?.format !== LEGACY_FORMAT) return fail(jsonPath, `is not a char-rnn checkpoint (format ${JSON.stringify(json?.format)})`);
  const config = checkConfig(jsonPath, json.config);
  checkPosition(jsonPath, json as unknown as Record<string, unknown>);
  const vocab = readVocab(jsonPath, json.vocab);
  const part = (name: string): SafetensorsContents => {
    const path = join(dir, name);
    if (!existsSync(path)) fail(path, 'is missing');
    return decode(path, readFileSync(path));
  };
  return {
    dir,
    config,
    vocab,
    step: json.step,
    legacy: true,
    load: (model, optimizer) => {
      const weights = part('model.safetensors');
      checkHead(join(dir, 'model.safetensors'), weights, vocab, 'checkpoint.json');
      const saved = part('optimizer.safetensors');
      // `opt/[1][0].mu.w` was the optimiser state's path under a prefix; `carry/h` a field of the carried state
      const renamed: Record<string, Tensor> = {};
      for (const [name, value] of Object.entries(saved.tensors)) {
        const path = name.startsWith('opt/') ? name.slice(4) : name.startsWith('carry/') ? `carry.${name.slice(6)}` : name;
        renamed[name.startsWith('opt/') ? `optimizer${path.startsWith('[') ? '' : '.'}${path}` : path] = value;
      }
      const t = templates(model, optimizer, config);
      const stateDict = loadTree(weights, t.stateDict, { name: join(dir, 'model.safetensors') });
      const carried = (json.carry ?? []).length > 0;
      const { optimizer: optState, carry } = loadTree(
        { tensors: renamed, metadata: saved.metadata },
        { optimizer: t.optState, carry: carried ? t.carry : undefined },
        {
          name: join(dir, 'optimizer.safetensors'),
        },
      );
      return { params: model.fromStateDict(stateDict), optState, carry, ...position(json) };
    },
  };
}

/** {@link readCheckpoint}, for commands that need a checkpoint: none is an error saying how to make one. */
export function requireCheckpoint(dir: string): StoredCheckpoint {
  const stored = readCheckpoint(dir);
  if (stored === undefined) throw new CheckpointError(`${dir} holds no checkpoint; train one first (char-rnn train --checkpoint ${dir}) or pass --checkpoint`);
  return stored;
}

/** The configuration and vocabulary of the latest checkpoint under `dir` (enough to rebuild its model). */
export function readCheckpointHeader(dir: string): { config: TrainConfig; vocab: Vocabulary } {
  const { config, vocab } = requireCheckpoint(dir);
  return { config, vocab };
}

/** Loads the latest run saved under `dir` by {@link saveCheckpoint}, checked against `model` and `optimizer`. */
export function loadCheckpoint(dir: string, model: CharModel, optimizer: GradientTransformation<any>): TrainingState {
  return requireCheckpoint(dir).load(model, optimizer);
}
