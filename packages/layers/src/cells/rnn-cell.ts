import { add, relu, tanh, zeros, ArgumentError } from '@tapestry/core';
import type { Tensor } from '@tapestry/core';
import type { Cell, CellStep } from '../cell.js';
import { checkStepInput, gatedConfig, hiddenProjection, initGated, inputProjection, type GatedCellOptions, type GatedCellParams } from './gated.js';

/** The state of an {@link rnnCell} (and of a {@link gruCell}): the hidden state h, [batch, H]. */
export type HiddenState = {
  /** The hidden state, [batch, H]. */
  readonly h: Tensor;
};

/** Options of {@link rnnCell}. */
export interface RnnCellOptions extends GatedCellOptions {
  /** The nonlinearity σ: `'tanh'` (default) or `'relu'`, as PyTorch's `nonlinearity`. */
  readonly nonlinearity?: 'tanh' | 'relu';
}

/**
 * The Elman cell of PyTorch's `nn.RNN`:
 *
 *     h' = σ(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh),   σ = tanh or relu
 *
 * Parameters: `weightIh` [H, D], `weightHh` [H, H], `biasIh` [H], `biasHh` [H]; output = h'.
 * @example
 * ```ts
 * const cell = rnnCell({ hiddenSize: 8, nonlinearity: 'relu', dtype: 'float64' });
 * const params = cell.init(randomKey(0), 3);
 * const { state, output } = cell.step(params, cell.initialState(2, 'float64'), x); // x: [2, 3]
 * ```
 */
export function rnnCell(options: RnnCellOptions): Cell<GatedCellParams, HiddenState> {
  const config = gatedConfig('rnnCell', 1, options);
  const nonlinearity = options.nonlinearity ?? 'tanh';
  if (nonlinearity !== 'tanh' && nonlinearity !== 'relu') {
    throw new ArgumentError(`rnnCell: nonlinearity must be 'tanh' or 'relu', got ${String(nonlinearity)}`);
  }
  const activation = nonlinearity === 'tanh' ? tanh : relu;
  const step = (params: GatedCellParams, state: HiddenState, x: Tensor): CellStep<HiddenState> => {
    checkStepInput('rnnCell', params, x);
    const gi = inputProjection(params, x);
    const gh = hiddenProjection('rnnCell', params, state.h, gi);
    const h = activation(add(gi, gh));
    return { state: { h }, output: h };
  };
  return {
    name: 'rnnCell',
    outputSize: config.hiddenSize,
    init: (key, inputSize) => initGated(config, key, inputSize),
    initialState: (batch, dtype) => ({ h: zeros([batch, config.hiddenSize], dtype) }),
    step,
  };
}
