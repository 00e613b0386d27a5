/**
 * One training loop for both classifiers: shuffled, length-bucketed minibatches, binary cross-entropy on
 * logits, gradient clipping then AdamW, and early stopping on validation accuracy (the parameters of the best
 * epoch are kept; training stops after `patience` epochs without a new best). The step runs through
 * @tapestry/parallel: on one thread (the default) it is the plain eager step; on N threads each thread takes
 * a share of each batch's sentences and the gradients are averaged before the same update on every thread.
 */
import { cast, foldIn, mul, randomKey, tensor, valueAndGrad, type Key, type Tensor } from '@tapestry/core';
import { padSequences } from '@tapestry/data';
import { binaryCrossEntropyWithLogits } from '@tapestry/layers';
import { adamw, applyUpdates, chain, clipByGlobalNorm, type GradientTransformation } from '@tapestry/optim';
import { defineReplica, trainingStep, type Thread } from '@tapestry/parallel';
import { dataParallel } from '@tapestry/parallel/node';
import { sentenceBatches, type SentenceBatch } from './batching.js';
import type { EncodedSplit } from './dataset.js';
import { classifierOf, type Classifier, type ClassifierSpec } from './model.js';

/** The optimisation settings (shared by the recurrent model and the baseline). */
export interface TrainConfig {
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  /** AdamW's decoupled weight decay. */
  readonly weightDecay: number;
  /** Clip gradients to this global L2 norm. */
  readonly clip: number;
  /** Stop after this many epochs without a better validation accuracy. */
  readonly patience: number;
  readonly seed: number;
}

/** One epoch of the learning curves. */
export interface EpochRecord {
  readonly epoch: number;
  /** Mean training loss over the epoch's batches (with dropout, as trained). */
  readonly trainLoss: number;
  /** Training accuracy of the epoch's running predictions (with dropout). */
  readonly trainAccuracy: number;
  readonly validAccuracy: number;
}

/** What training returns. */
export interface TrainResult<P> {
  /** The parameters of the epoch with the best validation accuracy. */
  readonly params: P;
  readonly bestEpoch: number;
  readonly bestValidAccuracy: number;
  readonly history: readonly EpochRecord[];
  readonly seconds: number;
}

/** Threads and callbacks for progress reporting. */
export interface TrainOptions {
  /** Threads to train on, this one included (default 1: the plain eager step; more split each batch's sentences). */
  readonly threads?: number;
  /** After every optimiser step: the step count so far and this step's loss. */
  readonly onStep?: (step: number, loss: number) => void;
  readonly onEpoch?: (record: EpochRecord) => void;
}

/** The optimiser: clip by global norm, then AdamW. */
export function makeOptimizer(config: TrainConfig): GradientTransformation<any> {
  return chain(clipByGlobalNorm(config.clip), adamw({ lr: config.lr, weightDecay: config.weightDecay }));
}

/** Optimiser steps in one epoch over `n` examples. */
export function stepsPerEpoch(n: number, batchSize: number): number {
  return Math.ceil(n / batchSize);
}

/** Accuracy of a classifier on a split (no dropout), with its predictions (1 = positive). */
export function evaluate<P>(
  classifier: Classifier<P>,
  params: P,
  split: EncodedSplit,
  padId: number,
  batchSize = 128,
): { accuracy: number; predictions: Int32Array } {
  const predictions = new Int32Array(split.labels.length);
  for (const batch of sentenceBatches(split.ids, { batchSize, padId })) {
    const logits = classifier.logits(params, batch).dataSync();
    batch.indices.forEach((i, row) => (predictions[i] = logits[row]! > 0 ? 1 : 0));
  }
  let correct = 0;
  predictions.forEach((p, i) => (correct += p === split.labels[i] ? 1 : 0));
  return { accuracy: correct / predictions.length, predictions };
}

/**
 * This thread's rows of a batch (a contiguous share, sizes differing by at most one) and the weight of its
 * loss, `threads · its rows / the batch's rows`, so that the threads' mean is the batch's mean loss. A thread
 * left without rows (a batch smaller than the pool) runs the first row with weight 0: it adds zeros.
 */
export function shareOf(indices: Int32Array, thread: Thread): { indices: Int32Array; weight: number } {
  if (thread.threads === 1) return { indices, weight: 1 };
  const mine = indices.subarray(
    Math.floor((thread.index * indices.length) / thread.threads),
    Math.floor(((thread.index + 1) * indices.length) / thread.threads),
  );
  if (mine.length === 0) return { indices: indices.subarray(0, 1), weight: 0 };
  return { indices: mine, weight: (thread.threads * mine.length) / indices.length };
}

/** What every training thread builds its replica from (each gets its own copy). */
interface ReplicaSetup {
  readonly spec: ClassifierSpec;
  readonly train: { readonly ids: readonly Int32Array[]; readonly labels: Int32Array };
  readonly padId: number;
  readonly config: TrainConfig;
  readonly params: unknown;
}

/** A step's input: which batch of which epoch, and the run's step count (it picks dropout's masks). */
interface StepInput {
  readonly epoch: number;
  readonly batch: number;
  readonly step: number;
}

/** What a step gives the loop: the batch's mean loss, its correctly classified sentences and size, the new parameters. */
interface StepOutput {
  readonly loss: number;
  readonly correct: number;
  readonly rows: number;
  readonly params: unknown;
}

/**
 * One training thread: it draws every epoch's batches from the seed as every other thread does, takes its
 * share of each, and keeps a replica of the parameters and optimiser state, identical on every thread.
 * @public worker threads import this module and find the replica among its exports: it stays exported
 */
export const trainingReplica = defineReplica(import.meta.url, 'sentiment', (setup: ReplicaSetup, thread: Thread) => {
  const { config, train, padId } = setup;
  const classifier = classifierOf(setup.spec);
  const optimizer = makeOptimizer(config);
  const root = randomKey(config.seed);
  // the logits ride along as auxiliary output, for the running training accuracy
  const lossOf = (p: unknown, batch: SentenceBatch, labels: Tensor, key: Key, weight: number): [Tensor, Tensor] => {
    const logits = classifier.logits(p, batch, { training: true, key });
    const loss = binaryCrossEntropyWithLogits(logits, labels);
    return [weight === 1 ? loss : mul(loss, weight), logits];
  };
  const step = trainingStep<unknown, unknown, [batch: SentenceBatch, labels: Tensor, key: Key, weight: number], Tensor>(
    {
      gradients: valueAndGrad(lossOf, 0, { hasAux: true }),
      update: (params, optState, grads) => {
        const { updates, state } = optimizer.update(grads, optState, params);
        return { params: applyUpdates(params, updates), optState: state };
      },
    },
    thread,
    // eager: a batch's shape changes from step to step
    { jit: false },
  );
  let epochBatches = { epoch: 0, batches: [] as SentenceBatch[] };
  let params = setup.params;
  let optState = optimizer.init(params);
  return ({ epoch, batch, step: count }: StepInput): StepOutput => {
    if (epochBatches.epoch !== epoch)
      epochBatches = { epoch, batches: sentenceBatches(train.ids, { batchSize: config.batchSize, padId, key: foldIn(foldIn(root, 1), epoch) }) };
    const whole = epochBatches.batches[batch]!;
    const share = shareOf(whole.indices, thread);
    const mine =
      thread.threads === 1
        ? whole
        : {
            ...padSequences(
              Array.from(share.indices, (i) => train.ids[i]!),
              { padId },
            ),
            indices: share.indices,
          };
    const labels = cast(tensor(Int32Array.from(mine.indices, (i) => train.labels[i]!)), 'float32');
    // dropout's masks from the run's seed and step (and, on several threads, each thread's own)
    const key = thread.threads === 1 ? foldIn(foldIn(root, 2), count) : foldIn(foldIn(foldIn(root, 2), count), thread.index);
    const result = step(params, optState, mine, labels, key, share.weight);
    ({ params, optState } = result);
    const z = result.aux.dataSync();
    let correct = 0;
    if (share.weight > 0) mine.indices.forEach((i, row) => (correct += (z[row]! > 0 ? 1 : 0) === train.labels[i] ? 1 : 0));
    // the batch's count: every thread's (small integers, exact in float32) summed through the mean
    const total = thread.threads === 1 ? correct : thread.mean(tensor([correct])).item() * thread.threads;
    return { loss: result.loss.item(), correct: total, rows: whole.indices.length, params };
  };
});

/** Trains a classifier on `train`, early-stopping on `valid`; see the module comment. */
export async function trainClassifier<P>(
  classifier: Classifier<P>,
  train: EncodedSplit,
  valid: EncodedSplit,
  padId: number,
  config: TrainConfig,
  options: TrainOptions = {},
): Promise<TrainResult<P>> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`sentiment: --threads must be a positive integer, got ${threads}`);
  const began = performance.now();
  let params = classifier.init(foldIn(randomKey(config.seed), 0));
  const pool = await dataParallel(trainingReplica, {
    threads,
    setup: { spec: classifier.spec, train: { ids: train.ids, labels: train.labels }, padId, config, params } satisfies ReplicaSetup,
  });
  const history: EpochRecord[] = [];
  let best = { params, epoch: 0, accuracy: -1 };
  let step = 0;
  try {
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      let lossSum = 0;
      let correct = 0;
      for (let batch = 0; batch < stepsPerEpoch(train.labels.length, config.batchSize); batch++) {
        const out = pool.step({ epoch, batch, step });
        params = out.params as P;
        if (!Number.isFinite(out.loss)) throw new Error(`sentiment: the ${classifier.name} loss became ${out.loss} at step ${step}; lower --lr`);
        lossSum += out.loss * out.rows;
        correct += out.correct;
        step++;
        options.onStep?.(step, out.loss);
      }
      const validAccuracy = evaluate(classifier, params, valid, padId).accuracy;
      const record = { epoch, trainLoss: lossSum / train.labels.length, trainAccuracy: correct / train.labels.length, validAccuracy };
      history.push(record);
      options.onEpoch?.(record);
      if (validAccuracy > best.accuracy) best = { params, epoch, accuracy: validAccuracy };
      else if (epoch - best.epoch >= config.patience) break;
    }
  } finally {
    pool.close();
  }
  return { params: best.params, bestEpoch: best.epoch, bestValidAccuracy: best.accuracy, history, seconds: (performance.now() - began) / 1000 };
}
