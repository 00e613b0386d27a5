/**
 * W7: the char-RNN's default model — embedding 64, a 2×256 LSTM, a linear head over the vocabulary —
 * trained on batches of 32 × 64 characters with clipping at global norm 5 and Adam 2e-3, as
 * `examples/char-rnn` trains it. The step runs through @tapestry/parallel, so the same code measures one
 * thread (the whole step as one `jit`) and several (each thread's rows, gradients averaged, the same update).
 * Each step starts from a zero state: the bench times steps, not a run through a text.
 */
import { applyUpdates, adam, chain, clipByGlobalNorm } from '@tapestry/optim';
import { randomKey, reshape, splitKey, slice, tensor, uniform, valueAndGrad, type Key, type Tensor } from '@tapestry/core';
import { crossEntropy, embedding, linear, lstm, type GatedCellParams, type RecurrentParams } from '@tapestry/layers';
import { defineReplica, trainingStep, type Thread } from '@tapestry/parallel';
import type { PytorchArray } from './pytorch.js';

/** The sizes of W7. */
export interface CharRnnSizes {
  /** Streams per batch N. */
  readonly batch: number;
  /** Characters per stream T. */
  readonly steps: number;
  /** Vocabulary V (84 for Moby-Dick, the main job's). */
  readonly vocab: number;
  readonly embedding: number;
  readonly hidden: number;
  readonly layers: number;
}

/** W7's learning rate and clipping norm (the char-RNN's defaults). */
export const CHAR_RNN_LR = 2e-3;
export const CHAR_RNN_CLIP = 5;

/** The model's parameters. */
export interface CharRnnParams {
  readonly embedding: { readonly weight: Tensor };
  readonly rnn: RecurrentParams<GatedCellParams>;
  readonly head: { readonly weight: Tensor; readonly bias?: Tensor };
}

/** What every thread builds its replica from. */
export interface CharRnnSetup {
  readonly sizes: CharRnnSizes;
  readonly params: CharRnnParams;
  /** Character ids [N, T + 1]: inputs are the first T, targets the last T. */
  readonly ids: Tensor;
}

function layersOf(sizes: CharRnnSizes) {
  return {
    embed: embedding({ numEmbeddings: sizes.vocab, embeddingDim: sizes.embedding }),
    rnn: lstm({ inputSize: sizes.embedding, hiddenSize: sizes.hidden, numLayers: sizes.layers }),
    head: linear({ inFeatures: sizes.hidden, outFeatures: sizes.vocab }),
  };
}

/** PyTorch-default initial parameters and a batch of random characters, from `seed`. */
export function charRnnSetup(sizes: CharRnnSizes, seed = 0): CharRnnSetup {
  const { embed, rnn, head } = layersOf(sizes);
  const [k1, k2, k3, k4] = splitKey(randomKey(seed), 4) as [Key, Key, Key, Key];
  const draws = uniform(k4, [sizes.batch * (sizes.steps + 1)], { dtype: 'float64' }).dataSync();
  const ids = tensor(
    Int32Array.from(draws, (u) => Math.floor(u * sizes.vocab)),
    { shape: [sizes.batch, sizes.steps + 1] },
  );
  return { sizes, params: { embedding: embed.init(k1), rnn: rnn.init(k2), head: head.init(k3) }, ids };
}

/** The same parameters and batch under PyTorch's names (`embedding.weight`, `rnn.weight_ih_l0`, `head.bias`, …) for python/torch_bench.py. */
export function charRnnArrays(setup: CharRnnSetup): Record<string, PytorchArray> {
  const { rnn } = layersOf(setup.sizes);
  const named: Record<string, Tensor> = { 'embedding.weight': setup.params.embedding.weight, 'head.weight': setup.params.head.weight };
  if (setup.params.head.bias) named['head.bias'] = setup.params.head.bias;
  for (const [name, t] of Object.entries(rnn.toStateDict(setup.params.rnn))) named[`rnn.${name}`] = t as Tensor;
  const { batch: n, steps: t } = setup.sizes;
  const out: Record<string, PytorchArray> = {};
  for (const [name, value] of Object.entries(named)) out[name] = { data: value.dataSync() as Float32Array, shape: value.shape };
  out.inputs = { data: slice(setup.ids, [0, 0], [n, t]).dataSync() as Int32Array, shape: [n, t] };
  out.targets = { data: slice(setup.ids, [0, 1], [n, t]).dataSync() as Int32Array, shape: [n, t] };
  return out;
}

/** FLOPs of one W7 training step (matrix products only, a training step 3× the forward's; see flops.ts). */
export function charRnnTrainFlops(sizes: CharRnnSizes): number {
  const { batch: n, steps: t, vocab: v, embedding: e, hidden: h, layers } = sizes;
  const gates = 4 * h;
  const recurrent = 2 * e * gates + 2 * h * gates + (layers - 1) * (2 * h * gates + 2 * h * gates);
  return 3 * n * t * (recurrent + 2 * h * v);
}

/** One thread of W7: its rows of the batch, a replica of the parameters and Adam's state. */
export const charRnnReplica = defineReplica(import.meta.url, 'bench-char-rnn', (setup: CharRnnSetup, thread: Thread) => {
  const { sizes } = setup;
  const { embed, rnn, head } = layersOf(sizes);
  const optimizer = chain(clipByGlobalNorm(CHAR_RNN_CLIP), adam({ lr: CHAR_RNN_LR }));
  const loss = (params: CharRnnParams, inputs: Tensor, targets: Tensor): [Tensor, null] => {
    const { output } = rnn.apply(params.rnn, embed.apply(params.embedding, inputs));
    return [crossEntropy(reshape(head.apply(params.head, output), [-1, sizes.vocab]), reshape(targets, [-1])), null];
  };
  const step = trainingStep<CharRnnParams, unknown, [inputs: Tensor, targets: Tensor], null>(
    {
      gradients: valueAndGrad(loss, 0, { hasAux: true }),
      update: (params, optState, grads) => {
        const { updates, state } = optimizer.update(grads, optState as never, params);
        return { params: applyUpdates(params, updates), optState: state };
      },
    },
    thread,
  );
  const rows = sizes.batch / thread.threads;
  const mine = slice(setup.ids, [thread.index * rows, 0], [rows, sizes.steps + 1]);
  const inputs = slice(mine, [0, 0], [rows, sizes.steps]);
  const targets = slice(mine, [0, 1], [rows, sizes.steps]);
  let params = setup.params;
  let optState: unknown = optimizer.init(params);
  return (): number => {
    const result = step(params, optState, inputs, targets);
    ({ params, optState } = result);
    return result.loss.item();
  };
});
