/** The training loop: teacher-forced minibatches of held-out-free training words, Adam, a time budget. */
import { foldIn, randomKey, valueAndGrad, type Tensor } from '@tapestry/core';
import { adam, applyUpdates, chain, clipByGlobalNorm, constant, joinSchedules, linearWarmup, type GradientTransformation } from '@tapestry/optim';
import { bucketedBatches, makeBatch } from './batching.js';
import type { Entry, Vocabularies } from './cmudict.js';
import { greedyDecode, score } from './decode.js';
import { seq2seqModel, type CellType, type Seq2SeqModel, type Seq2SeqParams } from './model.js';

/** Everything that defines a run. */
export interface TrainConfig {
  /** Recurrent cell of encoder and decoder. */
  readonly cell: CellType;
  /** Letter and phoneme embedding width. */
  readonly embeddingDim: number;
  /** Hidden size of each encoder direction and of the decoder. */
  readonly hiddenSize: number;
  /** Whether the decoder attends over the encoder outputs. */
  readonly attention: boolean;
  /** Words per step. */
  readonly batchSize: number;
  /** Peak Adam learning rate. */
  readonly lr: number;
  /** Steps of linear learning-rate warm-up. */
  readonly warmupSteps: number;
  /** Global gradient-norm clip. */
  readonly clip: number;
  /** Seed of initialisation and batch order. */
  readonly seed: number;
}

/** The defaults of `train`, chosen for a 10-minute CPU budget on the eager engine. */
export const DEFAULT_CONFIG: TrainConfig = {
  cell: 'gru',
  embeddingDim: 48,
  hiddenSize: 128,
  attention: true,
  batchSize: 96,
  lr: 5e-3,
  warmupSteps: 30,
  clip: 5,
  seed: 0,
};

/** The model of a configuration over the two vocabularies. */
export function makeModel(config: TrainConfig, vocab: Vocabularies): Seq2SeqModel {
  return seq2seqModel({
    sourceVocab: vocab.letters.size,
    targetVocab: vocab.phonemes.size,
    embeddingDim: config.embeddingDim,
    hiddenSize: config.hiddenSize,
    cell: config.cell,
    attention: config.attention,
  });
}

/** Clip by global norm, then Adam with a linear warm-up. */
export function makeOptimizer(config: TrainConfig): GradientTransformation<any> {
  const warmup = Math.max(1, config.warmupSteps);
  const lr = joinSchedules([linearWarmup({ initValue: config.lr / warmup, peakValue: config.lr, warmupSteps: warmup }), constant(config.lr)], [warmup]);
  return chain(clipByGlobalNorm(config.clip), adam({ lr }));
}

/** A point of the learning curves. */
export interface HistoryPoint {
  /** Training words seen. */
  readonly words: number;
  /** Mean training loss (nats per phoneme) over the last steps, or the validation PER. */
  readonly value: number;
}

/** Where a run is. */
export interface TrainingState {
  /** The parameters. */
  readonly params: Seq2SeqParams;
  /** The optimiser's state. */
  readonly optState: unknown;
  /** Optimiser steps taken. */
  readonly step: number;
  /** Completed passes over the training words. */
  readonly epoch: number;
  /** The next batch of the epoch. */
  readonly batch: number;
  /** Training words seen (with repeats across epochs). */
  readonly wordsSeen: number;
  /** Training time so far (evaluation not counted). */
  readonly elapsedMs: number;
  /** Training-loss and validation-PER curves. */
  readonly history: { readonly loss: readonly HistoryPoint[]; readonly validPer: readonly HistoryPoint[] };
}

/** A fresh run from the seed. */
export function initialTrainingState(config: TrainConfig, model: Seq2SeqModel, optimizer: GradientTransformation<any>): TrainingState {
  const params = model.init(foldIn(randomKey(config.seed), 0));
  return { params, optState: optimizer.init(params), step: 0, epoch: 0, batch: 0, wordsSeen: 0, elapsedMs: 0, history: { loss: [], validPer: [] } };
}

/** When to stop and what to report. */
export interface LoopOptions {
  /** Stop once training time reaches this (validation time not counted). */
  readonly budgetMs?: number;
  /** Stop after this many optimiser steps in total. */
  readonly maxSteps?: number;
  /** Greedy-decode `validWords` validation words every this many ms of training (0 or absent: never). */
  readonly evalEveryMs?: number;
  /** The validation words decoded by the periodic evaluation. */
  readonly validWords?: readonly Entry[];
  /** Average the training loss over this many steps for the curve (default 10). */
  readonly logEvery?: number;
  /** Called after every step with the step's loss. */
  readonly onStep?: (state: TrainingState, loss: number) => void;
  /** Called after every periodic validation. */
  readonly onEval?: (state: TrainingState, per: number, wordAccuracy: number) => void;
}

/** Trains on `train` from `start` until a stopping condition; returns the state reached. */
export function trainLoop(
  config: TrainConfig, train: readonly Entry[], vocab: Vocabularies, model: Seq2SeqModel, optimizer: GradientTransformation<any>,
  start: TrainingState, options: LoopOptions,
): TrainingState {
  const lossAndGrad = valueAndGrad(model.loss, 0);
  const epochKey = foldIn(randomKey(config.seed), 1);
  const logEvery = options.logEvery ?? 10;
  let epochBatches = bucketedBatches(train.length, config.batchSize, foldIn(epochKey, start.epoch), (i) => train[i]!.word.length);
  let s = start;
  let lossSum = 0;
  let lossCount = 0;
  let lastEval = s.elapsedMs;
  const done = (): boolean =>
    (options.budgetMs !== undefined && s.elapsedMs >= options.budgetMs) || (options.maxSteps !== undefined && s.step >= options.maxSteps);

  while (!done()) {
    const began = performance.now();
    const entries = Array.from(epochBatches[s.batch]!, (i) => train[i]!);
    const [loss, grads] = lossAndGrad(s.params, makeBatch(entries, vocab)) as [Tensor, Seq2SeqParams];
    const { updates, state: optState } = optimizer.update(grads, s.optState, s.params);
    const value = loss.item();
    if (!Number.isFinite(value)) throw new Error(`seq2seq: the loss became ${value} at step ${s.step}; lower --lr or --clip`);
    lossSum += value;
    lossCount++;
    const wordsSeen = s.wordsSeen + entries.length;
    let history = s.history;
    if (lossCount === logEvery) {
      history = { ...history, loss: [...history.loss, { words: wordsSeen, value: lossSum / lossCount }] };
      lossSum = 0;
      lossCount = 0;
    }
    const lastBatch = s.batch + 1 >= epochBatches.length;
    s = {
      params: applyUpdates(s.params, updates),
      optState,
      step: s.step + 1,
      epoch: lastBatch ? s.epoch + 1 : s.epoch,
      batch: lastBatch ? 0 : s.batch + 1,
      wordsSeen,
      elapsedMs: s.elapsedMs + (performance.now() - began),
      history,
    };
    if (lastBatch) epochBatches = bucketedBatches(train.length, config.batchSize, foldIn(epochKey, s.epoch), (i) => train[i]!.word.length);
    options.onStep?.(s, value);
    if (options.evalEveryMs && options.validWords && s.elapsedMs - lastEval >= options.evalEveryMs && !done()) {
      lastEval = s.elapsedMs;
      const rates = score(options.validWords, greedyDecode(model, s.params, options.validWords, vocab));
      s = { ...s, history: { ...s.history, validPer: [...s.history.validPer, { words: s.wordsSeen, value: rates.per }] } };
      options.onEval?.(s, rates.per, rates.wordAccuracy);
    }
  }
  return s;
}
