/**
 * The char-RNN training step of W7 (the char-RNN CLI's default model: embedding 64, 2×256 LSTM, batch 32×64,
 * Adam, clip 5) as one pure function of (params, optimiser state, ids, targets), so that a whole step traces
 * into one graph: forward, backward, clipping, Adam and the update. The GPU bench compiles that graph with
 * `@tapestry/webgpu` into one command buffer per step; the CPU runs the same function under `jit`.
 */
import { randomKey, reshape, splitKey, tensor, valueAndGrad, type Tensor } from '@tapestry/core';
import { crossEntropy, embedding, gru, linear, lstm } from '@tapestry/layers';
import { adam, applyUpdates, chain, clipByGlobalNorm } from '@tapestry/optim';

/** The sizes of a char model and its batches. */
export interface CharSizes {
  readonly vocab: number;
  readonly embeddingDim: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly batch: number;
  readonly steps: number;
  readonly lr: number;
  readonly clip: number;
}

/** W7: the CLI's default model on a 65-character vocabulary. */
export const W7_SIZES: CharSizes = { vocab: 65, embeddingDim: 64, hiddenSize: 256, numLayers: 2, batch: 32, steps: 64, lr: 2e-3, clip: 5 };

/** W8: the larger char model, 2×512 LSTM on batches of 128×64 (otherwise W7's). */
export const W8_SIZES: CharSizes = { ...W7_SIZES, hiddenSize: 512, batch: 128 };

/** A model's step and a starting point: `step(params, optState, ids, targets) → [loss, params, optState]`. */
export interface CharTraining {
  readonly step: (params: unknown, optState: unknown, ids: Tensor, targets: Tensor) => [Tensor, unknown, unknown];
  readonly params: unknown;
  readonly optState: unknown;
}

/** The training step of a char model of `sizes`, with parameters from `seed`. */
export function charTraining(sizes: CharSizes, seed = 0): CharTraining {
  const embed = embedding({ numEmbeddings: sizes.vocab, embeddingDim: sizes.embeddingDim });
  const rnn = lstm({ inputSize: sizes.embeddingDim, hiddenSize: sizes.hiddenSize, numLayers: sizes.numLayers });
  const head = linear({ inFeatures: sizes.hiddenSize, outFeatures: sizes.vocab });
  const optimizer = chain(clipByGlobalNorm(sizes.clip), adam({ lr: sizes.lr }));
  const keys = splitKey(randomKey(seed), 3);
  const params = { embed: embed.init(keys[0]!), rnn: rnn.init(keys[1]!), head: head.init(keys[2]!) };
  type P = typeof params;
  const rows = sizes.batch * sizes.steps;
  const loss = (p: P, ids: Tensor, targets: Tensor): Tensor => {
    const { output } = rnn.apply(p.rnn, embed.apply(p.embed, ids));
    return crossEntropy(reshape(head.apply(p.head, output), [rows, sizes.vocab]), reshape(targets, [rows]));
  };
  const lossAndGrad = valueAndGrad(loss);
  const step = (p: unknown, s: unknown, ids: Tensor, targets: Tensor): [Tensor, unknown, unknown] => {
    const [value, grads] = lossAndGrad(p as P, ids, targets) as [Tensor, P];
    const { updates, state } = optimizer.update(grads, s as never, p as P);
    return [value, applyUpdates(p as P, updates), state];
  };
  return { step, params, optState: optimizer.init(params) };
}

/**
 * The model of W1–W3 (one-hot inputs, one LSTM or GRU layer, a linear head, mean cross-entropy, Adam 1e-3,
 * no clipping), trained as a whole-step function like {@link charTraining}'s (W1 the LSTM, W2 the GRU); its
 * batch is the one-hot input [N, T, V] and the int32 targets [N·T]. `loss` alone is W3's forward pass.
 */
export function oneHotTraining(
  cell: 'lstm' | 'gru',
  vocab: number,
  hidden: number,
  seed = 0,
): CharTraining & { readonly loss: (p: unknown, x: Tensor, targets: Tensor) => Tensor } {
  const rnn = (cell === 'lstm' ? lstm : gru)({ inputSize: vocab, hiddenSize: hidden });
  const head = linear({ inFeatures: hidden, outFeatures: vocab });
  const optimizer = adam({ lr: 1e-3 });
  const keys = splitKey(randomKey(seed), 2);
  const params = { rnn: rnn.init(keys[0]!), head: head.init(keys[1]!) };
  type P = typeof params;
  const loss = (p: P, x: Tensor, targets: Tensor): Tensor => {
    const logits = head.apply(p.head, rnn.apply(p.rnn, x).output);
    return crossEntropy(reshape(logits, [targets.shape[0]!, vocab]), targets);
  };
  const lossAndGrad = valueAndGrad(loss);
  const step = (p: unknown, s: unknown, x: Tensor, targets: Tensor): [Tensor, unknown, unknown] => {
    const [value, grads] = lossAndGrad(p as P, x, targets) as [Tensor, P];
    const { updates, state } = optimizer.update(grads, s as never, p as P);
    return [value, applyUpdates(p as P, updates), state];
  };
  return { step, params, optState: optimizer.init(params), loss: loss as (p: unknown, x: Tensor, targets: Tensor) => Tensor };
}

/** A batch of ids and next-character targets from a fixed text: batch streams starting at spread offsets. */
export function charBatch(sizes: CharSizes, text: Int32Array, offset: number): { ids: Tensor; targets: Tensor } {
  const ids = new Int32Array(sizes.batch * sizes.steps);
  const targets = new Int32Array(sizes.batch * sizes.steps);
  const stride = Math.floor((text.length - sizes.steps - 1) / sizes.batch);
  for (let b = 0; b < sizes.batch; b++) {
    const start = (b * stride + offset) % (text.length - sizes.steps - 1);
    for (let t = 0; t < sizes.steps; t++) {
      ids[b * sizes.steps + t] = text[start + t]!;
      targets[b * sizes.steps + t] = text[start + t + 1]!;
    }
  }
  return { ids: tensor(ids, { shape: [sizes.batch, sizes.steps] }), targets: tensor(targets, { shape: [sizes.batch, sizes.steps] }) };
}

/** A repetitive text over `vocab` characters (learnable: the loss of a model that trains falls fast). */
export function patternText(vocab: number, length: number): Int32Array {
  const text = new Int32Array(length);
  const words = [
    [1, 2, 3, 4],
    [5, 6, 2],
    [7, 1, 8, 3, 9],
    [2, 4, 6],
  ];
  let i = 0;
  for (let w = 0; i < length; w++) {
    for (const c of words[(w * 7) % words.length]!) if (i < length) text[i++] = c % vocab;
    if (i < length) text[i++] = 0;
  }
  return text;
}
