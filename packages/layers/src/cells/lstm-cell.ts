import { add, mul, sigmoid, split, tanh, zeros } from '@tapestry/core';
import type { Tensor } from '@tapestry/core';
import type { Cell, CellStep } from '../cell.js';
import { checkStepInput, gatedConfig, hiddenProjection, initGated, inputProjection, type GatedCellOptions, type GatedCellParams } from './gated.js';

/** The state of an {@link lstmCell}: hidden state h and cell state c, each [batch, H]. */
export type LstmState = {
  /** The hidden state, [batch, H]. */
  readonly h: Tensor;
  /** The cell state, [batch, H]. */
  readonly c: Tensor;
};

/**
 * The LSTM cell of PyTorch's `nn.LSTM`, gates in PyTorch's row order i, f, g, o:
 *
 *     i  = sigmoid(W_ii x + b_ii + W_hi h + b_hi)
 *     f  = sigmoid(W_if x + b_if + W_hf h + b_hf)
 *     g  = tanh   (W_ig x + b_ig + W_hg h + b_hg)
 *     o  = sigmoid(W_io x + b_io + W_ho h + b_ho)
 *     c' = f * c + i * g
 *     h' = o * tanh(c')
 *
 * Parameters: `weightIh` [4H, D] = [W_ii; W_if; W_ig; W_io], `weightHh` [4H, H], `biasIh` [4H],
 * `biasHh` [4H]. Output = h'.
 * @example
 * ```ts
 * const cell = lstmCell({ hiddenSize: 16 });
 * const params = cell.init(randomKey(0), 8);
 * const { state } = cell.step(params, cell.initialState(4, 'float32'), x); // state.h, state.c: [4, 16]
 * ```
 */
export function lstmCell(options: GatedCellOptions): Cell<GatedCellParams, LstmState> {
  const config = gatedConfig('lstmCell', 4, options);
  const step = (params: GatedCellParams, state: LstmState, x: Tensor): CellStep<LstmState> => {
    checkStepInput('lstmCell', params, x);
    const gi = inputProjection(params, x);
    const gh = hiddenProjection('lstmCell', params, state.h, gi);
    const [i, f, g, o] = split(add(gi, gh), 4, 1) as [Tensor, Tensor, Tensor, Tensor];
    const c = add(mul(sigmoid(f), state.c), mul(sigmoid(i), tanh(g)));
    const h = mul(sigmoid(o), tanh(c));
    return { state: { h, c }, output: h };
  };
  return {
    name: 'lstmCell',
    outputSize: config.hiddenSize,
    init: (key, inputSize) => initGated(config, key, inputSize),
    initialState: (batch, dtype) => ({ h: zeros([batch, config.hiddenSize], dtype), c: zeros([batch, config.hiddenSize], dtype) }),
    step,
  };
}
