/**
 * The benchmark's model in tapestry: a one-layer recurrent layer (built-in LSTM or GRU, or W5's hand-written
 * LSTM cell through `recurrent()`) on one-hot inputs, a linear head and mean cross-entropy; trained with
 * `valueAndGrad` and optim's Adam.
 */
import { reshape, tensor, valueAndGrad, type Tensor } from '@tapestry/core';
import { crossEntropy, gru, linear, lstm, recurrent } from '@tapestry/layers';
import { adam, applyUpdates } from '@tapestry/optim';
import { customLstmCell } from './custom-lstm-cell.js';
import { GATES, type Batch, type InitialWeights } from './data.js';
import type { BenchSizes } from './sizes.js';

/** Which recurrent layer the tapestry model uses. */
export type TapestryCell = 'lstm' | 'gru' | 'custom-lstm';

/** A model ready to step: every call of `train` is one Adam step, `forward` one inference pass. */
export interface TapestryModel {
  /** One training step (forward, backward, Adam update); returns the loss before the update. */
  train(): number;
  /** The loss of the current parameters, forward only. */
  forward(): number;
}

/** Called at the end of the forward pass, when the most memory is alive (W6 samples memory there). */
export type ForwardProbe = () => void;

type Params = { readonly rnn: any; readonly head: { readonly weight: Tensor; readonly bias: Tensor } };

/** Builds the tapestry model of `cell` from `weights` on `batch` (of `steps` time steps). */
export function tapestryModel(cell: TapestryCell, weights: InitialWeights, batch: Batch, sizes: BenchSizes, steps = sizes.steps, probe?: ForwardProbe): TapestryModel {
  const { batch: n, vocab: v, hidden: h } = sizes;
  const rows = GATES[weights.kind] * h;
  const layer =
    cell === 'lstm'
      ? lstm({ inputSize: v, hiddenSize: h })
      : cell === 'gru'
        ? gru({ inputSize: v, hiddenSize: h })
        : recurrent(customLstmCell(h), { inputSize: v, name: 'customLstm' });
  const head = linear({ inFeatures: h, outFeatures: v });
  const copy = (data: Float32Array, shape: number[]) => tensor(Float32Array.from(data), { shape });
  let params: Params = {
    rnn: {
      layers: [
        {
          forward: {
            weightIh: copy(weights.weightIh, [rows, v]),
            weightHh: copy(weights.weightHh, [rows, h]),
            biasIh: copy(weights.biasIh, [rows]),
            biasHh: copy(weights.biasHh, [rows]),
          },
        },
      ],
    },
    head: { weight: copy(weights.headWeight, [v, h]), bias: copy(weights.headBias, [v]) },
  };
  const x = copy(batch.x, [n, steps, v]);
  const targets = tensor(Int32Array.from(batch.targets), { shape: [n * steps] });

  const loss = (p: Params): Tensor => {
    const { output } = (layer.apply as (params: unknown, x: Tensor) => { output: Tensor })(p.rnn, x);
    const logits = head.apply(p.head, output);
    probe?.();
    return crossEntropy(reshape(logits, [n * steps, v]), targets);
  };
  const lossAndGrad = valueAndGrad(loss);
  const optimizer = adam({ lr: 1e-3 });
  let optState = optimizer.init(params);

  return {
    train: () => {
      const [value, grads] = lossAndGrad(params) as [Tensor, Params];
      const { updates, state } = optimizer.update(grads, optState, params);
      params = applyUpdates(params, updates);
      optState = state;
      return value.item();
    },
    forward: () => loss(params).item(),
  };
}
