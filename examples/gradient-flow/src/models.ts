/**
 * The recurrent models compared: the four built-in cells with PyTorch's default initialisation, in float64,
 * plus the two changes the experiment needs — an LSTM forget-gate bias, and a tanh RNN whose recurrent
 * weight is a scaled orthogonal matrix (the exploding case).
 */
import { add, foldIn, mean, matmul, normal, tensor, type Key, type Tensor } from '@tapestry/core';
import { gruCell, init, lstmCell, rnnCell, type Cell, type CellState, type GatedCellParams } from '@tapestry/layers';

/** Zero tensors added to some of a state's fields (a probe); fields without one are left alone. */
export type Probe = { readonly [name: string]: Tensor };

/** The cells the experiment runs. `exploding` is a tanh RNN with W_hh = scale · (orthogonal matrix). */
export type ModelKind = 'tanh' | 'relu' | 'lstm' | 'gru' | 'exploding';

/** The four models of the main comparison, in plotting order. */
export const MAIN_KINDS: readonly ModelKind[] = ['tanh', 'relu', 'lstm', 'gru'];

/** A cell with its parameters. */
export interface Model {
  readonly kind: ModelKind;
  /** A label for tables and plots. */
  readonly label: string;
  readonly cell: Cell<GatedCellParams, CellState>;
  readonly params: GatedCellParams;
}

/** What shapes a model. */
export interface ModelOptions {
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** b_if + b_hf of the LSTM (PyTorch's default init leaves it near 0). */
  readonly forgetBias: number;
  /** The gain of the exploding RNN's orthogonal recurrent weight. */
  readonly explodingScale: number;
}

/** The label of a model in tables and plots. */
function modelLabel(kind: ModelKind, options: Pick<ModelOptions, 'forgetBias' | 'explodingScale'>): string {
  switch (kind) {
    case 'tanh':
      return 'tanh RNN';
    case 'relu':
      return 'ReLU RNN';
    case 'lstm':
      return `LSTM (forget bias ${options.forgetBias})`;
    case 'gru':
      return 'GRU';
    case 'exploding':
      return `tanh RNN, W_hh = ${options.explodingScale}·orthogonal`;
  }
}

/**
 * Sets the LSTM's forget-gate bias: in PyTorch's layout the gate blocks are i, f, g, o, so the f block is
 * rows H … 2H of `biasIh` and `biasHh`. Only their sum enters the gate; we put `value` in `biasIh` and 0 in
 * `biasHh`, as `nn.init` recipes for "forget bias 1" do. Returns new parameters (tensors are immutable).
 */
function withForgetBias(params: GatedCellParams, hiddenSize: number, value: number): GatedCellParams {
  const fill = (bias: Tensor, v: number): Tensor => {
    const data = bias.dataSync() as Float64Array; // a copy
    data.fill(v, hiddenSize, 2 * hiddenSize);
    return tensor(data, { shape: [...bias.shape] });
  };
  return { ...params, biasIh: fill(params.biasIh!, value), biasHh: fill(params.biasHh!, 0) };
}

/** Builds and initialises one model from `key` (each kind from its own stream, so adding a kind changes no other). */
export function makeModel(kind: ModelKind, options: ModelOptions, key: Key): Model {
  const { inputSize, hiddenSize } = options;
  const common = { hiddenSize, dtype: 'float64' as const };
  const label = modelLabel(kind, options);
  // each kind draws from its own stream of `key`
  const k = foldIn(key, kind === 'exploding' ? 100 : MAIN_KINDS.indexOf(kind) + 1);
  switch (kind) {
    case 'tanh':
    case 'relu': {
      const cell = rnnCell({ ...common, nonlinearity: kind });
      return { kind, label, cell, params: cell.init(k, inputSize) };
    }
    case 'lstm': {
      const cell = lstmCell(common);
      return { kind, label, cell, params: withForgetBias(cell.init(k, inputSize), hiddenSize, options.forgetBias) };
    }
    case 'gru': {
      const cell = gruCell(common);
      return { kind, label, cell, params: cell.init(k, inputSize) };
    }
    case 'exploding': {
      const cell = rnnCell({ ...common, nonlinearity: 'tanh', weightHhInit: init.orthogonal(options.explodingScale) });
      return { kind, label, cell, params: cell.init(k, inputSize) };
    }
  }
}

/**
 * Runs `cell` over the steps `xs` (each [N, D]) from its zero initial state. `probes`, when given, has one
 * entry per state t = 0 … T and is added to that state before it is used (see `probe.ts`).
 */
export function unroll(cell: Cell<GatedCellParams, CellState>, params: GatedCellParams, xs: readonly Tensor[], probes?: readonly Probe[]): CellState {
  let state = cell.initialState(xs[0]!.shape[0]!, 'float64');
  if (probes) state = addProbe(state, probes[0]!);
  for (let t = 0; t < xs.length; t++) {
    state = cell.step(params, state, xs[t]!).state;
    if (probes) state = addProbe(state, probes[t + 1]!);
  }
  return state;
}

function addProbe(state: CellState, probe: Probe): CellState {
  const out: Record<string, Tensor> = {};
  for (const name of Object.keys(state)) out[name] = probe[name] ? add(state[name]!, probe[name]!) : state[name]!;
  return out;
}

/** The loss at the last step: a fixed random projection of h_T, averaged over the batch, L = mean_n r·h_T[n]. */
export function lastStepLoss(h: Tensor, readout: Tensor): Tensor {
  return mean(matmul(h, readout));
}

/** The fixed readout r ~ N(0, 1/H) (so ‖r‖ ≈ 1). */
export function makeReadout(key: Key, hiddenSize: number): Tensor {
  return normal(key, [hiddenSize], { dtype: 'float64', std: 1 / Math.sqrt(hiddenSize) });
}

/** T steps of inputs x_t ~ N(0, 1), each [N, D]. */
export function randomInputs(key: Key, steps: number, batch: number, inputSize: number): Tensor[] {
  return Array.from({ length: steps }, (_, t) => normal(foldIn(key, t), [batch, inputSize], { dtype: 'float64' }));
}
