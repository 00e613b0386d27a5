/**
 * The training loop: truncated BPTT over parallel streams. The recurrent state is carried from one window
 * to the next through `stopGradient`, so each step backpropagates through `seqLen` steps only.
 */
import { foldIn, randomKey } from '@tapestry/core';
import { batchify, countBpttWindows } from '@tapestry/data';
import { adam, chain, clipByGlobalNorm, constant, cosineDecay, joinSchedules, linearWarmup, type GradientTransformation } from '@tapestry/optim';
import type { Corpus } from './corpus.js';
import { bitsPerCharacter } from './evaluate.js';
import { charModel, type CarriedState, type CellType, type CharModel, type ModelParams } from './model.js';
import { createEngine } from './parallel/engine.js';

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
export interface HistoryPoint {
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

/** Runs training from `state` until a stopping condition; returns the state to continue from. */
export function trainLoop(
  config: TrainConfig, corpus: Corpus, model: CharModel, optimizer: GradientTransformation<any>, start: TrainingState, options: LoopOptions,
): TrainingState {
  const source = batchify(corpus.train, config.batchSize);
  const windows = countBpttWindows(source.shape[1]!, config.seqLen);
  const engine = createEngine(config, corpus.vocab.size, corpus.train, model, optimizer, start, {
    threads: options.threads ?? 1,
    jit: options.jit !== false,
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
      const { loss: value, params, optState, carry: next } = engine.step(s.window, s.carry === undefined, s.step);
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
    engine.close();
  }
  return s;
}
