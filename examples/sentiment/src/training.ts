/**
 * One training loop for both classifiers: shuffled, length-bucketed minibatches, binary cross-entropy on
 * logits, gradient clipping then AdamW, and early stopping on validation accuracy (the parameters of the best
 * epoch are kept; training stops after `patience` epochs without a new best).
 */
import { cast, foldIn, randomKey, tensor, valueAndGrad, type Key, type Tensor } from '@tapestry/core';
import { binaryCrossEntropyWithLogits } from '@tapestry/layers';
import { adamw, applyUpdates, chain, clipByGlobalNorm, type GradientTransformation } from '@tapestry/optim';
import { sentenceBatches, type SentenceBatch } from './batching.js';
import type { EncodedSplit } from './dataset.js';
import type { Classifier } from './model.js';

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

/** Callbacks for progress reporting. */
export interface TrainCallbacks {
  /** After every optimiser step: the step count so far and this step's loss. */
  readonly onStep?: (step: number, loss: number) => void;
  readonly onEpoch?: (record: EpochRecord) => void;
}

/** The optimiser: clip by global norm, then AdamW. */
function makeOptimizer(config: TrainConfig): GradientTransformation<any> {
  return chain(clipByGlobalNorm(config.clip), adamw({ lr: config.lr, weightDecay: config.weightDecay }));
}

/** Optimiser steps in one epoch over `n` examples. */
export function stepsPerEpoch(n: number, batchSize: number): number {
  return Math.ceil(n / batchSize);
}

/** Accuracy of a classifier on a split (no dropout), with its predictions (1 = positive). */
export function evaluate<P>(classifier: Classifier<P>, params: P, split: EncodedSplit, padId: number, batchSize = 128): { accuracy: number; predictions: Int32Array } {
  const predictions = new Int32Array(split.labels.length);
  for (const batch of sentenceBatches(split.ids, { batchSize, padId })) {
    const logits = classifier.logits(params, batch).dataSync();
    batch.indices.forEach((i, row) => (predictions[i] = logits[row]! > 0 ? 1 : 0));
  }
  let correct = 0;
  predictions.forEach((p, i) => (correct += p === split.labels[i] ? 1 : 0));
  return { accuracy: correct / predictions.length, predictions };
}

/** Trains a classifier on `train`, early-stopping on `valid`; see the module comment. */
export function trainClassifier<P>(
  classifier: Classifier<P>, train: EncodedSplit, valid: EncodedSplit, padId: number, config: TrainConfig, callbacks: TrainCallbacks = {},
): TrainResult<P> {
  const began = performance.now();
  const root = randomKey(config.seed);
  let params = classifier.init(foldIn(root, 0));
  const optimizer = makeOptimizer(config);
  let optState = optimizer.init(params);
  // the logits ride along as auxiliary output, for the running training accuracy
  const lossOf = (p: P, batch: SentenceBatch, labels: Tensor, key: Key): [Tensor, Tensor] => {
    const logits = classifier.logits(p, batch, { training: true, key });
    return [binaryCrossEntropyWithLogits(logits, labels), logits];
  };
  const lossAndGrad = valueAndGrad(lossOf, 0, { hasAux: true });
  const history: EpochRecord[] = [];
  let best = { params, epoch: 0, accuracy: -1 };
  let step = 0;
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    let lossSum = 0;
    let correct = 0;
    const batches = sentenceBatches(train.ids, { batchSize: config.batchSize, padId, key: foldIn(foldIn(root, 1), epoch) });
    for (const batch of batches) {
      const labels = cast(tensor(Int32Array.from(batch.indices, (i) => train.labels[i]!)), 'float32');
      const [[loss, logits], grads] = lossAndGrad(params, batch, labels, foldIn(foldIn(root, 2), step)) as [[Tensor, Tensor], P];
      const update = optimizer.update(grads, optState, params);
      params = applyUpdates(params, update.updates);
      optState = update.state;
      const value = loss.item();
      if (!Number.isFinite(value)) throw new Error(`sentiment: the ${classifier.name} loss became ${value} at step ${step}; lower --lr`);
      lossSum += value * batch.indices.length;
      const z = logits.dataSync();
      batch.indices.forEach((i, row) => (correct += (z[row]! > 0 ? 1 : 0) === train.labels[i] ? 1 : 0));
      step++;
      callbacks.onStep?.(step, value);
    }
    const validAccuracy = evaluate(classifier, params, valid, padId).accuracy;
    const record = { epoch, trainLoss: lossSum / train.labels.length, trainAccuracy: correct / train.labels.length, validAccuracy };
    history.push(record);
    callbacks.onEpoch?.(record);
    if (validAccuracy > best.accuracy) best = { params, epoch, accuracy: validAccuracy };
    else if (epoch - best.epoch >= config.patience) break;
  }
  return { params: best.params, bestEpoch: best.epoch, bestValidAccuracy: best.accuracy, history, seconds: (performance.now() - began) / 1000 };
}
