/**
 * A peephole LSTM cell (Gers & Schmidhuber, 2000), written from core ops the way any cell is written.
 * The input and forget gates look at the previous cell state c, the output gate at the new one c':
 *
 *     a  = x W_ihᵀ + h W_hhᵀ + b            (4H features: blocks i, f, g, o)
 *     i  = σ(a_i + p_i ⊙ c)
 *     f  = σ(a_f + p_f ⊙ c)
 *     g  = tanh(a_g)
 *     c' = f ⊙ c + i ⊙ g
 *     o  = σ(a_o + p_o ⊙ c')
 *     h' = o ⊙ tanh(c')
 *
 * Nothing in @tapestry/layers knows this cell: `recurrent(cell, …)` stacks it, runs it in both directions
 * and over variable lengths, and `toStateDict` names its parameters from their tree paths
 * (`weight_ih_l0`, `peephole_i_l1_reverse`, …).
 */
import { add, concat, full, matmul, mul, sigmoid, split, splitKey, tanh, uniform, zeros } from '@tapestry/core';
import type { DType, Tensor } from '@tapestry/core';
import type { Cell } from '@tapestry/layers';

/** The cell's parameters: a plain tree of tensors. */
export interface PeepholeParams {
  /** Input weights of the four gate blocks i, f, g, o: [4H, D]. */
  readonly weightIh: Tensor;
  /** Recurrent weights: [4H, H]. */
  readonly weightHh: Tensor;
  /** One bias per gate unit: [4H] (the forget block starts at 1, a common LSTM trick). */
  readonly bias: Tensor;
  /** Diagonal peephole weights from the cell state, [H] each. */
  readonly peephole: { readonly i: Tensor; readonly f: Tensor; readonly o: Tensor };
}

/** The state carried from step to step; the layer takes and returns it by these names (`initialState.c`, `state.c`). */
export type PeepholeState = { readonly h: Tensor; readonly c: Tensor };

/** Options of {@link peepholeLstmCell}. */
export interface PeepholeOptions {
  /** Features of the hidden and cell state H. */
  readonly hiddenSize: number;
  /** Parameter dtype (default 'float32'). */
  readonly dtype?: DType;
}

/** Creates a peephole LSTM cell with `hiddenSize` units. */
export function peepholeLstmCell({ hiddenSize: H, dtype = 'float32' }: PeepholeOptions): Cell<PeepholeParams, PeepholeState> {
  const bound = 1 / Math.sqrt(H);
  const init = (key: Parameters<typeof uniform>[0], shape: number[]) => uniform(key, shape, { dtype, low: -bound, high: bound });
  return {
    name: 'peepholeLstmCell',
    outputSize: H,
    init(key, inputSize) {
      const [k1, k2, k3, k4, k5] = splitKey(key, 5);
      return {
        weightIh: init(k1!, [4 * H, inputSize]),
        weightHh: init(k2!, [4 * H, H]),
        bias: concat([zeros([H], dtype), full([H], 1, dtype), zeros([2 * H], dtype)]),
        peephole: { i: init(k3!, [H]), f: init(k4!, [H]), o: init(k5!, [H]) },
      };
    },
    initialState: (batch, stateDtype) => ({ h: zeros([batch, H], stateDtype), c: zeros([batch, H], stateDtype) }),
    step(p, { h, c }, x) {
      // weights are [4H, in] (PyTorch's layout), so multiply by their transposes
      const a = add(add(matmul(x, p.weightIh, { transposeB: true }), matmul(h, p.weightHh, { transposeB: true })), p.bias);
      const [ai, af, ag, ao] = split(a, 4, 1) as [Tensor, Tensor, Tensor, Tensor];
      const i = sigmoid(add(ai, mul(p.peephole.i, c)));
      const f = sigmoid(add(af, mul(p.peephole.f, c)));
      const cNext = add(mul(f, c), mul(i, tanh(ag)));
      const o = sigmoid(add(ao, mul(p.peephole.o, cNext)));
      const hNext = mul(o, tanh(cNext));
      return { state: { h: hNext, c: cNext }, output: hNext };
    },
  };
}
