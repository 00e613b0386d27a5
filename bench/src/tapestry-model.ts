/**
 * The benchmark's model in tapestry: a one-layer recurrent layer (built-in LSTM or GRU, or W5's hand-written
 * LSTM cell through `recurrent()`) on one-hot inputs, a linear head and mean cross-entropy; trained with
 * `valueAndGrad` and optim's Adam, eagerly or with the whole step (forward, backward, Adam) compiled by core's
 * `jit`, donating the parameters and the optimiser state.
 */
import { jit, reshape, tensor, valueAndGrad, type Tensor } from '@tapestry/core';
import { crossEntropy, gru, linear, lstm, recurrent } from '@tapestry/layers';
import { adam, applyUpdates } from '@tapestry/optim';
import { trainingStep, type Thread } from '@tapestry/parallel';
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
  /** How many argument signatures `jit` has compiled so far (0 when eager): 1 once warm, if replay works. */
  compiledSignatures(): number;
}

/** How the tapestry model runs. */
export interface TapestryModelOptions {
  /** Time steps of `batch` (default `sizes.steps`). */
  readonly steps?: number;
  /** Called at the end of every eager forward pass (W6 samples memory there). */
  readonly probe?: ForwardProbe;
  /**
   * Compile with core's `jit`: the whole training step — forward, backward and Adam, whose step count is an
   * int32 tensor in its state, so one compiled plan serves every step — donating the parameters and the
   * optimiser state; or the loss alone for the forward workload.
   */
  readonly jit?: boolean;
  /**
   * Run as this thread of a @tapestry/parallel pool on this thread's rows of the batch (implies `jit`):
   * training is `trainingStep` — the loss and gradient of these rows, their mean across threads, then the
   * same Adam update on every thread; the forward pass is `jit` of the loss, then its mean across threads.
   */
  readonly thread?: Thread;
}

/** Called at the end of the forward pass, when the most memory is alive (W6 samples memory there). */
export type ForwardProbe = () => void;

type Params = { readonly rnn: any; readonly head: { readonly weight: Tensor; readonly bias: Tensor } };

/** Builds the tapestry model of `cell` from `weights` on `batch` (see {@link TapestryModelOptions}). */
export function tapestryModel(cell: TapestryCell, weights: InitialWeights, batch: Batch, sizes: BenchSizes, options: TapestryModelOptions = {}): TapestryModel {
  const { batch: n, vocab: v, hidden: h } = sizes;
  const { steps = sizes.steps, probe } = options;
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

  // the batch is an argument rather than a closed-over tensor, so that a jitted graph takes it as an input
  // instead of holding a copy of it as a constant
  const loss = (p: Params, inputs: Tensor, classes: Tensor): Tensor => {
    const { output } = (layer.apply as (params: unknown, x: Tensor) => { output: Tensor })(p.rnn, inputs);
    const logits = head.apply(p.head, output);
    probe?.();
    return crossEntropy(reshape(logits, [n * steps, v]), classes);
  };
  const optimizer = adam({ lr: 1e-3 });
  let optState = optimizer.init(params);
  const trainStep = (p: Params, state: typeof optState, inputs: Tensor, classes: Tensor) => {
    const [value, grads] = valueAndGrad(loss)(p, inputs, classes) as [Tensor, Params];
    const { updates, state: next } = optimizer.update(grads, state, p);
    return { params: applyUpdates(p, updates), optState: next, loss: value };
  };
  const { thread } = options;
  const compiled = options.jit === true || thread !== undefined;
  const jittedLoss = compiled ? jit(loss) : undefined;
  // on a thread of a pool: the gradient of this thread's rows, the threads' mean, the same Adam update
  const jittedStep = thread
    ? trainingStep<Params, typeof optState, [inputs: Tensor, classes: Tensor], null>(
        {
          gradients: valueAndGrad((p: Params, inputs: Tensor, classes: Tensor): [Tensor, null] => [loss(p, inputs, classes), null], 0, { hasAux: true }),
          update: (p, state, grads) => {
            const { updates, state: next } = optimizer.update(grads, state, p);
            return { params: applyUpdates(p, updates), optState: next };
          },
        },
        thread,
      )
    : compiled
      ? jit(trainStep, { donate: [0, 1] })
      : undefined;
  const step = jittedStep ?? trainStep;
  const lossOnly = thread ? (p: Params, inputs: Tensor, classes: Tensor) => thread.mean(jittedLoss!(p, inputs, classes)) : (jittedLoss ?? loss);

  return {
    train: () => {
      const result = step(params, optState, x, targets);
      ({ params, optState } = result);
      return result.loss.item();
    },
    forward: () => lossOnly(params, x, targets).item(),
    // train and forward each compile once; a workload calls only one of them
    compiledSignatures: () => Math.max(jittedStep?.cacheSize ?? 0, jittedLoss?.cacheSize ?? 0),
  };
}
