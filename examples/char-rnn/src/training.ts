/**
 * Training: the step, then the loop. The step is the loss and its gradient on a window of streams (the
 * recurrent state comes in from the last window and goes on to the next, so backpropagation runs through
 * `seqLen` steps only), then clipping and Adam, applied to the parameters. `trainingStep` compiles it with
 * `jit`: on one thread as one function; on N threads as the gradients of each thread's streams, their
 * mean across threads, then the update, which every thread applies alike (see @tapestry/parallel).
 */
import { foldIn, keyData, randomKey, slice, valueAndGrad, type Tensor } from '@tapestry/core';
import { batchify, countBpttWindows, getBatch } from '@tapestry/data';
import { adam, applyUpdates, chain, clipByGlobalNorm, constant, cosineDecay, joinSchedules, linearWarmup, type GradientTransformation } from '@tapestry/optim';
import { defineReplica, trainingStep, type Thread } from '@tapestry/parallel';
import { dataParallel } from '@tapestry/parallel/node';
import type { Corpus } from './corpus.js';
import { bitsPerCharacter } from './evaluate.js';
import { charModel, type CarriedState, type CellType, type CharModel, type ModelParams } from './model.js';

/** The training step of `model` for `thread`: jit of value-and-grad, then clip + Adam (the optimiser) and apply. */
function makeStep(model: CharModel, optimizer: GradientTransformation<any>, thread: Thread, useJit = true) {
  const training = model.config.dropout > 0;
  return trainingStep<ModelParams, unknown, [inputs: Tensor, targets: Tensor, carry: CarriedState | undefined, key: Tensor], CarriedState>(
    {
      gradients: valueAndGrad(
        (params: ModelParams, inputs: Tensor, targets: Tensor, carry: CarriedState | undefined, key: Tensor) =>
          model.loss(params, inputs, targets, carry, { training, key }),
        0,
        { hasAux: true },
      ),
      update: (params: ModelParams, optState: unknown, grads: ModelParams) => {
        // clip by global norm, then Adam (see makeOptimizer)
        const { updates, state } = optimizer.update(grads, optState, params);
        return { params: applyUpdates(params, updates), optState: state };
      },
    },
    thread,
    // the parameters and the optimiser state are donated; so is the carried state (argument 2), which the step replaces
    { jit: useJit, donate: [2] },
  );
}

/** Everything that defines a run (saved in checkpoints). */
export interface TrainConfig {
  readonly cell: CellType;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly embeddingDim: number;
  readonly dropout: number;
  readonly seqLen: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly warmupSteps: number;
  /** Steps of a cosine decay after the warm-up, from `lr` to `minLr` (0: keep `lr`; absent in older checkpoints). */
  readonly decaySteps?: number;
  /** The learning rate the cosine decay ends at. */
  readonly minLr?: number;
  readonly clip: number;
  readonly seed: number;
}

/** The defaults of `train`: PyTorch's reference run of the same model on this data reaches 2.2 bits/char in 5 minutes. */
export const DEFAULT_CONFIG: TrainConfig = {
  cell: 'lstm',
  hiddenSize: 256,
  numLayers: 2,
  embeddingDim: 64,
  dropout: 0,
  seqLen: 64,
  batchSize: 32,
  lr: 2e-3,
  warmupSteps: 50,
  clip: 5,
  seed: 0,
};

/** A point of the learning curve. */
interface HistoryPoint {
  readonly chars: number;
  readonly bpc: number;
}

/** Where a run is: everything needed to continue it exactly. */
export interface TrainingState {
  readonly params: ModelParams;
  readonly optState: unknown;
  /** The state carried into the next window (undefined at the start of an epoch). */
  readonly carry: CarriedState | undefined;
  readonly step: number;
  readonly epoch: number;
  /** The next window of the epoch. */
  readonly window: number;
  readonly charsSeen: number;
  /** Training time so far, across resumes. */
  readonly elapsedMs: number;
  readonly history: { readonly train: readonly HistoryPoint[]; readonly valid: readonly HistoryPoint[] };
}

/** The optimiser of a configuration: clip by global norm, then Adam with a linear warm-up and an optional cosine decay. */
export function makeOptimizer(config: TrainConfig): GradientTransformation<any> {
  const warmup = Math.max(1, config.warmupSteps);
  const decaySteps = config.decaySteps ?? 0;
  const after = decaySteps > 0 ? cosineDecay({ initValue: config.lr, decaySteps, minValue: config.minLr ?? config.lr / 10 }) : constant(config.lr);
  const lr = joinSchedules([linearWarmup({ initValue: config.lr / warmup, peakValue: config.lr, warmupSteps: warmup }), after], [warmup]);
  return chain(clipByGlobalNorm(config.clip), adam({ lr }));
}

/** The model of a configuration over a vocabulary. */
export function makeModel(config: TrainConfig, vocabSize: number): CharModel {
  return charModel({
    vocabSize,
    embeddingDim: config.embeddingDim,
    hiddenSize: config.hiddenSize,
    numLayers: config.numLayers,
    cell: config.cell,
    dropout: config.dropout,
    dtype: 'float32',
  });
}

/** A fresh run: parameters from the seed, the optimiser's initial state, nothing seen yet. */
export function initialTrainingState(config: TrainConfig, model: CharModel, optimizer: GradientTransformation<any>): TrainingState {
  const params = model.init(foldIn(randomKey(config.seed), 0));
  return {
    params,
    optState: optimizer.init(params),
    carry: undefined,
    step: 0,
    epoch: 0,
    window: 0,
    charsSeen: 0,
    elapsedMs: 0,
    history: { train: [], valid: [] },
  };
}

/** What every training thread builds its replica from (each gets its own copy). */
interface ReplicaSetup {
  readonly config: TrainConfig;
  readonly vocabSize: number;
  readonly train: Int32Array;
  readonly params: ModelParams;
  readonly optState: unknown;
  /** The carried state of all streams, or undefined at the start of an epoch. */
  readonly carry: CarriedState | undefined;
  readonly jit: boolean;
}

/** A step's input: its window, whether it starts from a zero state, and the run's step count (it picks dropout's masks). */
interface StepInput {
  readonly window: number;
  readonly fresh: boolean;
  readonly step: number;
}

/** What a step gives the loop: the batch's mean loss, the new parameters and optimiser state, and every stream's carried state. */
interface StepOutput {
  readonly loss: number;
  readonly params: ModelParams;
  readonly optState: unknown;
  readonly carry: CarriedState;
}

/**
 * One training thread: its share of the streams (rows of the batch) and their carried state, and a replica
 * of the parameters and optimiser state, which stays identical on every thread.
 * @public worker threads import this module and find the replica among its exports: it stays exported
 */
export const trainingReplica = defineReplica(import.meta.url, 'char-rnn', (setup: ReplicaSetup, thread: Thread) => {
  const { config } = setup;
  const step = makeStep(makeModel(config, setup.vocabSize), makeOptimizer(config), thread, setup.jit);
  const rows = config.batchSize / thread.threads;
  const first = thread.index * rows;
  const full = batchify(setup.train, config.batchSize);
  const source = thread.threads === 1 ? full : slice(full, [first, 0], [rows, full.shape[1]!]);
  const dropoutKey = foldIn(randomKey(config.seed), 1);
  let { params, optState } = setup;
  let carry = setup.carry === undefined || thread.threads === 1 ? setup.carry : carryRows(setup.carry, first, rows);
  return ({ window, fresh, step: count }: StepInput): StepOutput => {
    const { inputs, targets } = getBatch(source, window * config.seqLen, config.seqLen);
    // each step's masks (and each thread's, for its own streams) from the run's seed: resuming draws the same ones
    const key = keyData(thread.threads === 1 ? foldIn(dropoutKey, count) : foldIn(foldIn(dropoutKey, count), thread.index));
    const result = step(params, optState, inputs, targets, fresh ? undefined : carry, key);
    ({ params, optState, aux: carry } = result);
    return { loss: result.loss.item(), params, optState, carry: thread.gather(result.aux, 1) };
  };
});

/** Rows [first, first + rows) of a carried state ([layers, batch, hidden] per field). */
function carryRows(carry: CarriedState, first: number, rows: number): CarriedState {
  const take = (t: Tensor): Tensor => slice(t, [0, first, 0], [t.shape[0]!, rows, t.shape[2]!]);
  return carry.c === undefined ? { h: take(carry.h) } : { h: take(carry.h), c: take(carry.c) };
}

/** When to stop and what to report. */
export interface LoopOptions {
  /** Stop once training time (across resumes) reaches this. */
  readonly budgetMs?: number;
  /** Stop after this many optimiser steps in total. */
  readonly maxSteps?: number;
  /** Stop after this many epochs in total. */
  readonly maxEpochs?: number;
  /** Validate every this many ms of training time (0: never during training). */
  readonly evalEveryMs?: number;
  /** Validation characters used by the periodic evaluation. */
  readonly evalChars?: number;
  /** Average the training loss over this many steps for the curve. */
  readonly logEvery?: number;
  readonly onStep?: (state: TrainingState, loss: number) => void;
  readonly onEval?: (state: TrainingState, validBpc: number) => void;
  /** Compile the training step with `jit` (default true). */
  readonly jit?: boolean;
  /** Threads to train on, this one included; must divide the batch size (default 1). */
  readonly threads?: number;
}

/**
 * Runs training from `state` until a stopping condition; returns the state to continue from. Every thread
 * builds the step from `config` (`makeModel`, `makeOptimizer`); `model` evaluates the validation split.
 */
export async function trainLoop(config: TrainConfig, corpus: Corpus, model: CharModel, start: TrainingState, options: LoopOptions): Promise<TrainingState> {
  const source = batchify(corpus.train, config.batchSize);
  const windows = countBpttWindows(source.shape[1]!, config.seqLen);
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`char-rnn: --threads must be a positive integer, got ${threads}`);
  if (config.batchSize % threads !== 0) throw new Error(`char-rnn: --threads ${threads} must divide the batch size ${config.batchSize}`);
  const pool = await dataParallel(trainingReplica, {
    threads,
    setup: {
      config, vocabSize: corpus.vocab.size, train: corpus.train, params: start.params, optState: start.optState, carry: start.carry, jit: options.jit !== false,
    } satisfies ReplicaSetup,
  });
  const logEvery = options.logEvery ?? 10;
  let s = start;
  let lossSum = 0;
  let lossCount = 0;
  let lastEval = s.elapsedMs;
  const done = (): boolean =>
    (options.budgetMs !== undefined && s.elapsedMs >= options.budgetMs) ||
    (options.maxSteps !== undefined && s.step >= options.maxSteps) ||
    (options.maxEpochs !== undefined && s.epoch >= options.maxEpochs);

  try {
    while (!done()) {
      const began = performance.now();
      const { loss: value, params, optState, carry: next } = pool.step({ window: s.window, fresh: s.carry === undefined, step: s.step });
      if (!Number.isFinite(value)) throw new Error(`char-rnn: the loss became ${value} at step ${s.step}; lower --lr or --clip`);
      lossSum += value;
      lossCount++;
      const lastWindow = s.window + 1 >= windows;
      const charsSeen = s.charsSeen + config.batchSize * Math.min(config.seqLen, source.shape[1]! - 1 - s.window * config.seqLen);
      let history = s.history;
      if (lossCount === logEvery) {
        history = { ...history, train: [...history.train, { chars: charsSeen, bpc: lossSum / lossCount / Math.LN2 }] };
        lossSum = 0;
        lossCount = 0;
      }
      s = {
        params,
        optState,
        // a new epoch starts from a zero state, as PyTorch's word_language_model does
        carry: lastWindow ? undefined : next,
        step: s.step + 1,
        epoch: lastWindow ? s.epoch + 1 : s.epoch,
        window: lastWindow ? 0 : s.window + 1,
        charsSeen,
        elapsedMs: s.elapsedMs + (performance.now() - began),
        history,
      };
      options.onStep?.(s, value);
      if (options.evalEveryMs && s.elapsedMs - lastEval >= options.evalEveryMs && !done()) {
        lastEval = s.elapsedMs;
        const bpc = bitsPerCharacter(model, s.params, corpus.valid, { batchSize: config.batchSize, seqLen: config.seqLen, maxChars: options.evalChars });
        s = { ...s, history: { ...s.history, valid: [...s.history.valid, { chars: s.charsSeen, bpc }] } };
        options.onEval?.(s, bpc);
      }
    }
  } finally {
    pool.close();
  }
  return s;
}
