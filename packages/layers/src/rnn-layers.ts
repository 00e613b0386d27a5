/** `rnn`, `lstm` and `gru`: {@link recurrent} with the built-in cells and PyTorch's option names. */
import { ArgumentError, DTypeError, expectKnownOptions, expectOptionalBoolean, expectPositiveInteger, type DType } from '@tapestry/core';
import { gruCell } from './cells/gru-cell.js';
import { lstmCell, type LstmState } from './cells/lstm-cell.js';
import { rnnCell, type HiddenState } from './cells/rnn-cell.js';
import type { GatedCellOptions, GatedCellParams } from './cells/gated.js';
import { recurrent } from './recurrent.js';
import type { RecurrentLayer } from './recurrent-types.js';

/** Options shared by {@link rnn}, {@link lstm} and {@link gru} (PyTorch's names, batch first always). */
export interface RecurrentLayerOptions extends Omit<GatedCellOptions, 'dtype'> {
  /** Features of each input step D. */
  readonly inputSize: number;
  /** Features of the hidden state H. */
  readonly hiddenSize: number;
  /** Stacked layers (default 1). */
  readonly numLayers?: number;
  /** Add a reverse-direction cell per layer (default false); outputs then have 2H features. */
  readonly bidirectional?: boolean;
  /** Dropout probability on each layer's output except the last's, in training only (default 0). */
  readonly dropout?: number;
  /** Parameter dtype (default `'float32'`). */
  readonly dtype?: DType;
}

/** Options of {@link rnn}. */
export interface RnnLayerOptions extends RecurrentLayerOptions {
  /** `'tanh'` (default) or `'relu'`. */
  readonly nonlinearity?: 'tanh' | 'relu';
}

/** An Elman RNN layer: parameters {@link GatedCellParams} per layer and direction, state `{ h }`. */
export type RnnLayer = RecurrentLayer<GatedCellParams, HiddenState>;
/** An LSTM layer: parameters {@link GatedCellParams} per layer and direction, state `{ h, c }`. */
export type LstmLayer = RecurrentLayer<GatedCellParams, LstmState>;
/** A GRU layer: parameters {@link GatedCellParams} per layer and direction, state `{ h }`. */
export type GruLayer = RecurrentLayer<GatedCellParams, HiddenState>;

function cellOptions(name: string, options: RecurrentLayerOptions): GatedCellOptions {
  // Checked here too so the message names the layer the user called
  expectKnownOptions(name, options, [
    'inputSize',
    'hiddenSize',
    'numLayers',
    'bidirectional',
    'dropout',
    'dtype',
    'bias',
    'weightIhInit',
    'weightHhInit',
    'biasInit',
    ...(name === 'rnn' ? ['nonlinearity'] : []),
  ]);
  expectPositiveInteger(name, 'inputSize', options?.inputSize);
  expectOptionalBoolean(name, 'bias', options.bias);
  expectOptionalBoolean(name, 'bidirectional', options.bidirectional);
  const { hiddenSize, bias, dtype, weightIhInit, weightHhInit, biasInit } = options;
  expectPositiveInteger(name, 'hiddenSize', hiddenSize);
  if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float64') {
    throw new DTypeError(`${name}: dtype must be 'float32' or 'float64' (parameters are floats), got ${JSON.stringify(dtype) ?? String(dtype)}`);
  }
  return { hiddenSize, bias, dtype, weightIhInit, weightHhInit, biasInit };
}

function layerOptions(name: string, options: RecurrentLayerOptions) {
  return { name, inputSize: options?.inputSize, numLayers: options?.numLayers, bidirectional: options?.bidirectional, dropout: options?.dropout };
}

/**
 * PyTorch's `nn.RNN` (batch_first): h_t = σ(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh), σ = tanh or relu,
 * per layer and direction. `apply(params, x, { initialState: { h }, lengths, key, training })` returns `{ output, state: { h } }`.
 * @example
 * ```ts
 * const layer = rnn({ inputSize: 4, hiddenSize: 3, nonlinearity: 'tanh' });
 * const params = layer.init(randomKey(0));
 * const { output, state } = layer.apply(params, x); // x [N, T, 4] → output [N, T, 3], state.h [1, N, 3]
 * ```
 */
export function rnn(options: RnnLayerOptions): RnnLayer {
  const nonlinearity = options?.nonlinearity;
  if (nonlinearity !== undefined && nonlinearity !== 'tanh' && nonlinearity !== 'relu') {
    throw new ArgumentError(`rnn: nonlinearity must be 'tanh' or 'relu', got ${JSON.stringify(nonlinearity) ?? String(nonlinearity)}`);
  }
  const cell = rnnCell({ ...cellOptions('rnn', options), nonlinearity: options?.nonlinearity ?? 'tanh' });
  return recurrent(cell, layerOptions('rnn', options));
}

/**
 * PyTorch's `nn.LSTM` (batch_first, no projection). Per layer and direction, gates in row order i, f, g, o:
 *
 *     i = σ(W_ii x + b_ii + W_hi h + b_hi)     f = σ(W_if x + b_if + W_hf h + b_hf)
 *     g = tanh(W_ig x + b_ig + W_hg h + b_hg)  o = σ(W_io x + b_io + W_ho h + b_ho)
 *     c' = f * c + i * g                        h' = o * tanh(c')
 *
 * `weight_ih_l{k}` is [4H, D] (D = 2H for k > 0 when bidirectional), `weight_hh_l{k}` [4H, H], biases [4H].
 * `apply(params, x, { initialState: { h, c }, lengths, key, training })` returns `{ output, state: { h, c } }`
 * (PyTorch's `h0`, `c0`, `h_n`, `c_n`).
 * @example
 * ```ts
 * const layer = lstm({ inputSize: 65, hiddenSize: 128, numLayers: 2, dtype: 'float32' });
 * const params = layer.init(randomKey(0));
 * const { output, state } = layer.apply(params, x, { lengths: [7, 3] }); // x: [2, 7, 65]; state.h, state.c: [2, 2, 128]
 * const dict = layer.toStateDict(params); // { weight_ih_l0: [512, 65], weight_hh_l0: [512, 128], … }
 * ```
 */
export function lstm(options: RecurrentLayerOptions): LstmLayer {
  return recurrent(lstmCell(cellOptions('lstm', options)), layerOptions('lstm', options));
}

/**
 * PyTorch's `nn.GRU` (batch_first). Per layer and direction, gates in row order r, z, n:
 *
 *     r = σ(W_ir x + b_ir + W_hr h + b_hr)     z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *     n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
 *     h' = (1 - z) * n + z * h
 *
 * `weight_ih_l{k}` is [3H, D], `weight_hh_l{k}` [3H, H], biases [3H].
 * `apply(params, x, { initialState: { h }, lengths, key, training })` returns `{ output, state: { h } }`.
 * @example
 * ```ts
 * const layer = gru({ inputSize: 8, hiddenSize: 16, bidirectional: true });
 * const { output } = layer.apply(layer.init(randomKey(0)), x); // output [N, T, 32]
 * ```
 */
export function gru(options: RecurrentLayerOptions): GruLayer {
  return recurrent(gruCell(cellOptions('gru', options)), layerOptions('gru', options));
}
