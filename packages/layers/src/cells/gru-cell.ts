import { add, mul, sigmoid, split, sub, tanh, zeros } from '@tapestry/core';
import type { Tensor } from '@tapestry/core';
import type { Cell, CellStep } from '../cell.js';
import { checkStepInput, gatedConfig, hiddenProjection, initGated, inputProjection, type GatedCellOptions, type GatedCellParams } from './gated.js';
import type { HiddenState } from './rnn-cell.js';

/**
 * The GRU cell of PyTorch's `nn.GRU`, gates in PyTorch's row order r, z, n:
 *
 *     r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
 *     z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
 *     n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))
 *     h' = (1 - z) * n + z * h
 *
 * The reset gate multiplies `W_hn h + b_hn` (bias included), as in PyTorch and cuDNN, not `h` itself.
 * Parameters: `weightIh` [3H, D] = [W_ir; W_iz; W_in], `weightHh` [3H, H], `biasIh` [3H], `biasHh` [3H].
 * Output = h'.
 * @example
 * ```ts
 * const cell = gruCell({ hiddenSize: 16, dtype: 'float64' });
 * const params = cell.init(randomKey(1), 8);
 * ```
 */
export function gruCell(options: GatedCellOptions): Cell<GatedCellParams, HiddenState> {
  const config = gatedConfig('gruCell', 3, options);
  const step = (params: GatedCellParams, state: HiddenState, x: Tensor): CellStep<HiddenState> => {
    checkStepInput('gruCell', params, x);
    const gi = inputProjection(params, x);
    const gh = hiddenProjection('gruCell', params, state.h, gi);
    const [iR, iZ, iN] = split(gi, 3, 1) as [Tensor, Tensor, Tensor];
    const [hR, hZ, hN] = split(gh, 3, 1) as [Tensor, Tensor, Tensor];
    const r = sigmoid(add(iR, hR));
    const z = sigmoid(add(iZ, hZ));
    const n = tanh(add(iN, mul(r, hN)));
    const h = add(mul(sub(1, z), n), mul(z, state.h));
    return { state: { h }, output: h };
  };
  return {
    name: 'gruCell',
    outputSize: config.hiddenSize,
    init: (key, inputSize) => initGated(config, key, inputSize),
    initialState: (batch, dtype) => ({ h: zeros([batch, config.hiddenSize], dtype) }),
    step,
  };
}
