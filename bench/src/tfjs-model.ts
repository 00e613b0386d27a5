/**
 * The benchmark's model in TensorFlow.js, written from tf ops with PyTorch's gate layout and equations (the
 * same as tapestry's `lstm` and `gru`), so it starts from the same weights and computes the same loss.
 * Trained with `tf.train.adam` through `optimizer.minimize`, i.e. `tf.variableGrads`.
 */
import * as tf from '@tensorflow/tfjs';
import { GATES, type Batch, type InitialWeights } from './data.js';
import type { BenchSizes } from './sizes.js';
import type { ForwardProbe } from './tapestry-model.js';

/** A TensorFlow.js model ready to step on the backend that was active when it was built. */
export interface TfjsModel {
  /** One training step (forward, backward, Adam update); returns the loss before the update. */
  train(): number;
  /** The loss of the current parameters, forward only. */
  forward(): number;
  /** Live TensorFlow.js tensors (to check that a step leaks none). */
  liveTensors(): number;
  /** Frees the model's variables and data. */
  dispose(): void;
}

type Step = (x: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D) => [tf.Tensor2D, tf.Tensor2D];

/** Builds the TensorFlow.js model of `weights.kind` on the active backend. */
export function tfjsModel(weights: InitialWeights, batch: Batch, sizes: BenchSizes, steps = sizes.steps, probe?: ForwardProbe): TfjsModel {
  const { batch: n, vocab: v, hidden: h } = sizes;
  const rows = GATES[weights.kind] * h;
  const weightIh = tf.variable(tf.tensor2d(weights.weightIh, [rows, v]));
  const weightHh = tf.variable(tf.tensor2d(weights.weightHh, [rows, h]));
  const biasIh = tf.variable(tf.tensor1d(weights.biasIh));
  const biasHh = tf.variable(tf.tensor1d(weights.biasHh));
  const headWeight = tf.variable(tf.tensor2d(weights.headWeight, [v, h]));
  const headBias = tf.variable(tf.tensor1d(weights.headBias));
  const variables = [weightIh, weightHh, biasIh, biasHh, headWeight, headBias];
  const x = tf.tensor3d(batch.x, [n, steps, v]);
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d(batch.targets, 'int32'), v).toFloat());

  const projections = (xt: tf.Tensor2D, ht: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] => [
    tf.add(tf.matMul(xt, weightIh, false, true), biasIh),
    tf.add(tf.matMul(ht, weightHh, false, true), biasHh),
  ];
  // c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c'), gate rows i, f, g, o
  const lstmStep: Step = (xt, ht, ct) => {
    const [gi, gh] = projections(xt, ht);
    const [i, f, g, o] = tf.split(tf.add(gi, gh), 4, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const c: tf.Tensor2D = tf.add(tf.mul(tf.sigmoid(f), ct), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    return [tf.mul(tf.sigmoid(o), tf.tanh(c)), c];
  };
  // r, z = σ(…), n = tanh(W_in x + b_in + r·(W_hn h + b_hn)), h' = (1 − z)·n + z·h, gate rows r, z, n
  const gruStep: Step = (xt, ht, ct) => {
    const [gi, gh] = projections(xt, ht);
    const [iR, iZ, iN] = tf.split(gi, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const [hR, hZ, hN] = tf.split(gh, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const r = tf.sigmoid(tf.add(iR, hR));
    const z = tf.sigmoid(tf.add(iZ, hZ));
    const cand = tf.tanh(tf.add(iN, tf.mul(r, hN)));
    return [tf.add(tf.mul(tf.sub(1, z), cand), tf.mul(z, ht)), ct];
  };
  const step = weights.kind === 'lstm' ? lstmStep : gruStep;

  const loss = (): tf.Scalar => {
    const xs = tf.unstack(x, 1) as tf.Tensor2D[];
    let ht: tf.Tensor2D = tf.zeros([n, h]);
    let ct: tf.Tensor2D = tf.zeros([n, h]);
    const hs: tf.Tensor2D[] = [];
    for (const xt of xs) {
      [ht, ct] = step(xt, ht, ct);
      hs.push(ht);
    }
    const output = tf.reshape(tf.stack(hs, 1), [n * steps, h]);
    const logits = tf.add(tf.matMul(output, headWeight, false, true), headBias);
    probe?.();
    // mean over the N·T targets of −log softmax(logits)[target], as torch's cross_entropy
    return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  };
  const optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  const read = (t: tf.Scalar): number => {
    const value = t.dataSync()[0]!;
    t.dispose();
    return value;
  };

  return {
    train: () => read(optimizer.minimize(loss, true, variables) as tf.Scalar),
    forward: () => read(tf.tidy(loss)),
    liveTensors: () => tf.memory().numTensors,
    dispose: () => {
      optimizer.dispose();
      tf.dispose([...variables, x, labels]);
    },
  };
}
