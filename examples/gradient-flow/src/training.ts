/**
 * "A little training": each model learns to remember its first input for a few dozen steps. Every input
 * x_t is N(0, 1) noise; the target is whether the first input's channel 0 was positive, read from h_T by a
 * linear head (binary cross-entropy). Nothing after step 1 carries information, so the only way to beat
 * chance is to carry one bit across the whole sequence — the long-range dependency whose gradient the
 * experiment measures.
 */
import { cast, foldIn, greater, slice, valueAndGrad, type Key, type Tensor } from '@tapestry/core';
import { binaryCrossEntropyWithLogits, linear, type GatedCellParams, type LinearParams } from '@tapestry/layers';
import { adam, applyUpdates, chain, clipByGlobalNorm } from '@tapestry/optim';
import { randomInputs, unroll, type Model } from './models.js';

/** How a model is trained. */
export interface TrainOptions {
  /** Optimiser steps. */
  readonly steps: number;
  /** Sequence length T of the task. */
  readonly length: number;
  /** Sequences per step. */
  readonly batch: number;
  /** Adam learning rate. */
  readonly lr: number;
  /** Gradient clipping (global L2 norm) before Adam. */
  readonly clip: number;
}

/** One batch of the task: the inputs and the 0/1 targets [N, 1]. */
interface TaskBatch {
  readonly xs: Tensor[];
  readonly targets: Tensor;
}

/** Draws a batch of "remember the sign of x_1[0]". */
function rememberFirstBatch(key: Key, length: number, batch: number, inputSize: number): TaskBatch {
  const xs = randomInputs(key, length, batch, inputSize);
  return { xs, targets: cast(greater(slice(xs[0]!, [0, 0], [batch, 1]), 0), 'float64') };
}

/** What training returns: the trained cell parameters, its losses, and held-out accuracy before and after. */
export interface TrainResult {
  readonly params: GatedCellParams;
  readonly losses: number[];
  readonly accuracyBefore: number;
  readonly accuracyAfter: number;
}

interface TaskParams {
  readonly cell: GatedCellParams;
  readonly head: LinearParams;
}

/** Trains `model` (cell and a fresh linear head) on the task with clipped Adam; `onStep` sees each loss. */
export function trainOnTask(model: Model, inputSize: number, options: TrainOptions, key: Key, onStep?: (step: number, loss: number) => void): TrainResult {
  const hiddenSize = model.params.weightHh.shape[1]!;
  const head = linear({ inFeatures: hiddenSize, outFeatures: 1, dtype: 'float64' });
  let params: TaskParams = { cell: model.params, head: head.init(foldIn(key, 0)) };
  const logits = (p: TaskParams, xs: readonly Tensor[]): Tensor => head.apply(p.head, unroll(model.cell, p.cell, xs).h!);
  const lossOf = (p: TaskParams, batch: TaskBatch): Tensor => binaryCrossEntropyWithLogits(logits(p, batch.xs), batch.targets);
  const heldOut = rememberFirstBatch(foldIn(key, 1), options.length, 256, inputSize);
  const accuracy = (p: TaskParams): number => {
    const z = logits(p, heldOut.xs).dataSync();
    const y = heldOut.targets.dataSync();
    let right = 0;
    for (let i = 0; i < z.length; i++) if ((z[i]! > 0 ? 1 : 0) === y[i]) right++;
    return right / z.length;
  };
  const accuracyBefore = accuracy(params);
  const optimizer = chain(clipByGlobalNorm(options.clip), adam({ lr: options.lr }));
  let state = optimizer.init(params);
  const step = valueAndGrad(lossOf);
  const losses: number[] = [];
  for (let s = 0; s < options.steps; s++) {
    const [loss, grads] = step(params, rememberFirstBatch(foldIn(key, 1000 + s), options.length, options.batch, inputSize)) as [Tensor, TaskParams];
    const { updates, state: next } = optimizer.update(grads, state, params);
    params = applyUpdates(params, updates);
    state = next;
    losses.push(loss.item());
    onStep?.(s, loss.item());
  }
  return { params: params.cell, losses, accuracyBefore, accuracyAfter: accuracy(params) };
}
