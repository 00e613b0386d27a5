/**
 * The training loop: teacher-forced minibatches of held-out-free training words, Adam, a time budget. The
 * step runs through @tapestry/parallel: on one thread (the default) it is the plain eager step; on N threads
 * each thread takes its share of each batch's words, the gradients are averaged (weighted so that their mean
 * is the whole batch's gradient), and every thread applies the same update.
 */
import { foldIn, mul, randomKey, valueAndGrad, type Tensor } from '@tapestry/core';
import { Vocabulary, type VocabularyJSON } from '@tapestry/data';
import { adam, applyUpdates, chain, clipByGlobalNorm, constant, joinSchedules, linearWarmup, type GradientTransformation } from '@tapestry/optim';
import { defineReplica, trainingStep, type Thread } from '@tapestry/parallel';
import { dataParallel } from '@tapestry/parallel/node';
import { bucketedBatches, makeBatch } from './batching.js';
import type { Entry, Vocabularies } from './cmudict.js';
import { greedyDecode, score } from './decode.js';
import { seq2seqModel, type Batch, type CellType, type Seq2SeqModel, type Seq2SeqParams } from './model.js';

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

/**
 * The training step for `thread`: the loss and gradient of this thread's words, then clipping and Adam,
 * applied (eager: batches differ in shape from step to step). `weight` scales the loss so that the mean of
 * the threads' weighted losses is the whole batch's mean loss (see {@link shareOf}); on one thread it is 1
 * and the step is exactly the plain `valueAndGrad` → `update` → `applyUpdates`.
 */
function makeStep(model: Seq2SeqModel, optimizer: GradientTransformation<any>, thread: Thread) {
  return trainingStep<Seq2SeqParams, unknown, [batch: Batch, weight: number], null>(
    {
      gradients: valueAndGrad(
        (params: Seq2SeqParams, batch: Batch, weight: number): [Tensor, null] => {
          const loss = model.loss(params, batch);
          return [weight === 1 ? loss : mul(loss, weight), null];
        },
        0,
        { hasAux: true },
      ),
      update: (params: Seq2SeqParams, optState: unknown, grads: Seq2SeqParams) => {
        const { updates, state } = optimizer.update(grads, optState, params);
        return { params: applyUpdates(params, updates), optState: state };
      },
    },
    thread,
    { jit: false },
  );
}

/**
 * This thread's words of a batch (a contiguous share, sizes differing by at most one) and the weight of
 * its loss: `threads · (its targets / the batch's targets)`, so that the threads' mean is the batch's mean
 * loss per phoneme. A thread left without words (a batch smaller than the pool) runs the first word with
 * weight 0: it still takes part in the mean, adding zeros.
 */
export function shareOf(words: readonly Entry[], thread: Thread): { words: readonly Entry[]; weight: number } {
  if (thread.threads === 1) return { words, weight: 1 };
  const mine = words.slice(Math.floor((thread.index * words.length) / thread.threads), Math.floor(((thread.index + 1) * words.length) / thread.threads));
  if (mine.length === 0) return { words: words.slice(0, 1), weight: 0 };
  // every target is a phoneme or the end token
  const targets = (entries: readonly Entry[]): number => entries.reduce((n, e) => n + e.phonemes.length + 1, 0);
  return { words: mine, weight: (thread.threads * targets(mine)) / targets(words) };
}

/** What every training thread builds its replica from (each gets its own copy). */
interface ReplicaSetup {
  readonly config: TrainConfig;
  readonly train: readonly Entry[];
  readonly vocab: { readonly letters: VocabularyJSON; readonly phonemes: VocabularyJSON };
  readonly params: Seq2SeqParams;
  readonly optState: unknown;
}

/** A step's input: which batch of which epoch. */
interface StepInput {
  readonly epoch: number;
  readonly batch: number;
}

/** What a step gives the loop: the batch's mean loss, the new parameters and optimiser state, and the batch's size. */
interface StepOutput {
  readonly loss: number;
  readonly params: Seq2SeqParams;
  readonly optState: unknown;
  readonly words: number;
}

/**
 * One training thread: it draws every epoch's batches from the seed as every other thread does, takes its
 * share of each, and keeps a replica of the parameters and optimiser state, identical on every thread.
 * @public worker threads import this module and find the replica among its exports: it stays exported
 */
export const trainingReplica = defineReplica(import.meta.url, 'seq2seq', (setup: ReplicaSetup, thread: Thread) => {
  const { config, train } = setup;
  const vocab: Vocabularies = { letters: Vocabulary.fromJSON(setup.vocab.letters), phonemes: Vocabulary.fromJSON(setup.vocab.phonemes) };
  const step = makeStep(makeModel(config, vocab), makeOptimizer(config), thread);
  const epochKey = foldIn(randomKey(config.seed), 1);
  let epochBatches = { epoch: -1, batches: [] as Int32Array[] };
  let { params, optState } = setup;
  return ({ epoch, batch }: StepInput): StepOutput => {
    if (epochBatches.epoch !== epoch)
      epochBatches = { epoch, batches: bucketedBatches(train.length, config.batchSize, foldIn(epochKey, epoch), (i) => train[i]!.word.length) };
    const words = Array.from(epochBatches.batches[batch]!, (i) => train[i]!);
    const share = shareOf(words, thread);
    const result = step(params, optState, makeBatch(share.words, vocab), share.weight);
    ({ params, optState } = result);
    return { loss: result.loss.item(), params, optState, words: words.length };
  };
});

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
  /** Threads to train on, this one included (default 1: the plain eager step; more split each batch's words). */
  readonly threads?: number;
  /** Called after every step with the step's loss. */
  readonly onStep?: (state: TrainingState, loss: number) => void;
  /** Called after every periodic validation. */
  readonly onEval?: (state: TrainingState, per: number, wordAccuracy: number) => void;
}

/**
 * Trains on `train` from `start` until a stopping condition; returns the state reached. Every thread
 * builds the step from `config` (`makeModel`, `makeOptimizer`); `model` decodes the validation words.
 */
export async function trainLoop(
  config: TrainConfig,
  train: readonly Entry[],
  vocab: Vocabularies,
  model: Seq2SeqModel,
  start: TrainingState,
  options: LoopOptions,
): Promise<TrainingState> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`seq2seq: --threads must be a positive integer, got ${threads}`);
  const pool = await dataParallel(trainingReplica, {
    threads,
    setup: {
      config,
      train,
      vocab: { letters: vocab.letters.toJSON(), phonemes: vocab.phonemes.toJSON() },
      params: start.params,
      optState: start.optState,
    } satisfies ReplicaSetup,
  });
  const batchesPerEpoch = Math.ceil(train.length / config.batchSize);
  const logEvery = options.logEvery ?? 10;
  let s = start;
  let lossSum = 0;
  let lossCount = 0;
  let lastEval = s.elapsedMs;
  const done = (): boolean =>
    (options.budgetMs !== undefined && s.elapsedMs >= options.budgetMs) || (options.maxSteps !== undefined && s.step >= options.maxSteps);

  try {
    while (!done()) {
      const began = performance.now();
      const { loss: value, params, optState, words } = pool.step({ epoch: s.epoch, batch: s.batch });
      if (!Number.isFinite(value)) throw new Error(`seq2seq: the loss became ${value} at step ${s.step}; lower --lr or --clip`);
      lossSum += value;
      lossCount++;
      const wordsSeen = s.wordsSeen + words;
      let history = s.history;
      if (lossCount === logEvery) {
        history = { ...history, loss: [...history.loss, { words: wordsSeen, value: lossSum / lossCount }] };
        lossSum = 0;
        lossCount = 0;
      }
      const lastBatch = s.batch + 1 >= batchesPerEpoch;
      s = {
        params,
        optState,
        step: s.step + 1,
        epoch: lastBatch ? s.epoch + 1 : s.epoch,
        batch: lastBatch ? 0 : s.batch + 1,
        wordsSeen,
        elapsedMs: s.elapsedMs + (performance.now() - began),
        history,
      };
      options.onStep?.(s, value);
      if (options.evalEveryMs && options.validWords && s.elapsedMs - lastEval >= options.evalEveryMs && !done()) {
        lastEval = s.elapsedMs;
        const rates = score(options.validWords, greedyDecode(model, s.params, options.validWords, vocab));
        s = { ...s, history: { ...s.history, validPer: [...s.history.validPer, { words: s.wordsSeen, value: rates.per }] } };
        options.onEval?.(s, rates.per, rates.wordAccuracy);
      }
    }
  } finally {
    pool.close();
  }
  return s;
}
