/**
 * The pieces of the walkthrough in main.ts, as functions the test can call: a variable-length task, a
 * model built from the custom cell, a plain gradient-descent loop, and a finite-difference gradient check.
 */
import {
  add,
  checkGrad,
  concat,
  greater,
  mul,
  normal,
  randomKey,
  reshape,
  slice,
  splitKey,
  sub,
  sum,
  Tensor,
  tensor,
  treeMap,
  valueAndGrad,
} from '@tapestry/core';
import type { CheckGradResult, DType, Key } from '@tapestry/core';
import { binaryCrossEntropyWithLogits, linear, recurrent } from '@tapestry/layers';
import { peepholeLstmCell } from './peephole-lstm-cell.js';

/** A batch of padded sequences with their lengths and binary labels. */
export interface Batch {
  /** [N, T, 1], zero past each sequence's length. */
  readonly x: Tensor;
  /** Valid steps per sequence, 1 … T. */
  readonly lengths: number[];
  /** 1 where the sequence's sum is positive, else 0: [N]. */
  readonly labels: Tensor;
}

/** Random sequences of 1 … maxSteps unit-normal numbers; the label says whether their sum is positive. */
function makeBatch(key: Key, count: number, maxSteps: number, dtype: DType = 'float32'): Batch {
  const [kx, kl] = splitKey(key, 2);
  const values = normal(kx!, [count, maxSteps], { dtype: 'float64' }).dataSync();
  const draws = normal(kl!, [count], { dtype: 'float64' }).dataSync();
  const lengths = Array.from(draws, (u) => 1 + (Math.floor(Math.abs(u) * 1e6) % maxSteps));
  const data = new Float64Array(count * maxSteps);
  const labels = new Float64Array(count);
  for (let b = 0; b < count; b++) {
    let s = 0;
    for (let t = 0; t < lengths[b]!; t++) {
      data[b * maxSteps + t] = values[b * maxSteps + t]!;
      s += values[b * maxSteps + t]!;
    }
    labels[b] = s > 0 ? 1 : 0;
  }
  const cast = (a: Float64Array) => (dtype === 'float64' ? a : Float32Array.from(a));
  return { x: tensor(cast(data), { shape: [count, maxSteps, 1] }), lengths, labels: tensor(cast(labels), { shape: [count] }) };
}

/** The model: a 2-layer bidirectional peephole-LSTM stack and a linear head on the top layer's final states. */
export function buildModel(hiddenSize: number, dtype: DType = 'float32') {
  const cell = peepholeLstmCell({ hiddenSize, dtype });
  const layer = recurrent(cell, { inputSize: 1, numLayers: 2, bidirectional: true, name: 'peepholeLstm' });
  const head = linear({ inFeatures: 2 * hiddenSize, outFeatures: 1, dtype });
  const init = (key: Key) => {
    const [k1, k2] = splitKey(key, 2);
    return { rnn: layer.init(k1!), head: head.init(k2!) };
  };
  type Params = ReturnType<typeof init>;
  /** One logit per sequence, from the final states of both directions of the top layer. */
  const logits = (params: Params, x: Tensor, lengths: number[]): Tensor => {
    const { state } = layer.apply(params.rnn, x, { lengths });
    // state.h is [numLayers * 2, N, H]; entries 2 and 3 are the top layer's forward and reverse states
    const top = slice(state.h, [2, 0, 0], [2, -1, -1]);
    const features = concat(
      [reshape(slice(top, [0, 0, 0], [1, -1, -1]), [x.shape[0]!, hiddenSize]), reshape(slice(top, [1, 0, 0], [1, -1, -1]), [x.shape[0]!, hiddenSize])],
      1,
    );
    return reshape(head.apply(params.head, features), [x.shape[0]!]);
  };
  return { cell, layer, head, init, logits };
}

/** Fraction of sequences whose logit has the sign of the label. */
function accuracy(logits: Tensor, labels: Tensor): number {
  const predicted = greater(logits, 0).dataSync();
  const want = labels.dataSync();
  let right = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === want[i]) right++;
  return right / predicted.length;
}

/** Trains the model with plain gradient descent; returns the loss curve and held-out accuracy. */
export function train({
  steps = 150,
  hiddenSize = 8,
  learningRate = 1,
  seed = 0,
  onStep,
}: { steps?: number; hiddenSize?: number; learningRate?: number; seed?: number; onStep?: (step: number, loss: number) => void } = {}) {
  const model = buildModel(hiddenSize);
  const [kInit, kTrain, kTest] = splitKey(randomKey(seed), 3);
  let params = model.init(kInit!);
  const trainSet = makeBatch(kTrain!, 128, 8);
  const testSet = makeBatch(kTest!, 128, 8);
  const lossAndGrad = valueAndGrad((p: typeof params) => binaryCrossEntropyWithLogits(model.logits(p, trainSet.x, trainSet.lengths), trainSet.labels));
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const [loss, grads] = lossAndGrad(params) as [Tensor, typeof params];
    losses.push(loss.item());
    onStep?.(step, loss.item());
    params = treeMap((w: Tensor, g: Tensor) => sub(w, mul(g, learningRate)), params, grads);
  }
  return {
    losses,
    trainAccuracy: accuracy(model.logits(params, trainSet.x, trainSet.lengths), trainSet.labels),
    testAccuracy: accuracy(model.logits(params, testSet.x, testSet.lengths), testSet.labels),
    params,
    model,
  };
}

/**
 * Checks the gradients of a whole 2-layer bidirectional peephole-LSTM layer over a variable-length batch
 * against central finite differences, in float64, with respect to every parameter and the input.
 */
export function gradientCheck(seed = 1): CheckGradResult {
  const cell = peepholeLstmCell({ hiddenSize: 3, dtype: 'float64' });
  const layer = recurrent(cell, { inputSize: 2, numLayers: 2, bidirectional: true, name: 'peepholeLstm' });
  const [kp, kx, kw] = splitKey(randomKey(seed), 3);
  const params = layer.init(kp!);
  const x = normal(kx!, [3, 4, 2], { dtype: 'float64' });
  const w = normal(kw!, [3, 4, 6], { dtype: 'float64' });
  const lengths = [4, 1, 3];
  const loss = (p: typeof params, xs: Tensor) => {
    const { output, state } = layer.apply(p, xs, { lengths });
    return add(add(sum(mul(output, w)), sum(state.h)), sum(mul(state.c, state.c)));
  };
  return checkGrad(loss, [params, x]);
}
