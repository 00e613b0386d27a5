/**
 * W5's cell: an LSTM written by hand from core ops, as a user would write one, and run through layers'
 * `recurrent()`. The custom-cell promise is that such a cell is as fast as the built-in `lstm`, because
 * nothing in the layer machinery knows which cell it runs. Its parameters use PyTorch's layout (gate rows
 * i, f, g, o) so that it starts from the same weights as W1 and must compute the same loss.
 */
import { add, matmul, mul, sigmoid, slice, tanh, uniform, zeros, splitKey, type Key, type Tensor } from '@tapestry/core';
import type { Cell } from '@tapestry/layers';

/** The custom cell's parameters: [4H, D], [4H, H], [4H], [4H]. */
export interface CustomLstmParams {
  readonly weightIh: Tensor;
  readonly weightHh: Tensor;
  readonly biasIh: Tensor;
  readonly biasHh: Tensor;
}

/** The custom cell's state. */
export type CustomLstmState = { readonly h: Tensor; readonly c: Tensor };

/** A hand-written LSTM cell of `hiddenSize` units (float32). */
export function customLstmCell(hiddenSize: number): Cell<CustomLstmParams, CustomLstmState> {
  const hs = hiddenSize;
  return {
    name: 'customLstmCell',
    outputSize: hs,
    init: (key: Key, inputSize: number) => {
      const bound = 1 / Math.sqrt(hs);
      const [k1, k2, k3, k4] = splitKey(key, 4) as [Key, Key, Key, Key];
      const u = (k: Key, shape: number[]) => uniform(k, shape, { low: -bound, high: bound });
      return { weightIh: u(k1, [4 * hs, inputSize]), weightHh: u(k2, [4 * hs, hs]), biasIh: u(k3, [4 * hs]), biasHh: u(k4, [4 * hs]) };
    },
    initialState: (batch, dtype) => ({ h: zeros([batch, hs], dtype), c: zeros([batch, hs], dtype) }),
    step: (p, { h, c }, x) => {
      const z = add(add(matmul(x, p.weightIh, { transposeB: true }), p.biasIh), add(matmul(h, p.weightHh, { transposeB: true }), p.biasHh));
      const n = x.shape[0]!;
      const gate = (k: number) => slice(z, [0, k * hs], [n, hs]);
      const i = sigmoid(gate(0));
      const f = sigmoid(gate(1));
      const g = tanh(gate(2));
      const o = sigmoid(gate(3));
      const cNext = add(mul(f, c), mul(i, g));
      const hNext = mul(o, tanh(cNext));
      return { state: { h: hNext, c: cNext }, output: hNext };
    },
  };
}
