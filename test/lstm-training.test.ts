/**
 * End to end across packages: an LSTM from @tapestry/layers, trained by `chain(clipByGlobalNorm(1), adam)`
 * from @tapestry/optim on a small sequence task, reduces its loss; and truncated BPTT through stopGradient
 * trains the same way.
 */
import { describe, expect, it } from 'vitest';
import { oneHot, randomKey, reshape, slice, splitKey, stopGradient, tensor, valueAndGrad, type Tensor } from '@tapestry/core';
import { crossEntropy, linear, lstm } from '@tapestry/layers';
import { adam, applyUpdates, chain, clipByGlobalNorm } from '@tapestry/optim';

// Task: output at step t the input symbol of step t - 2 (a copy with delay, which needs memory).
const N = 8;
const T = 12;
const V = 4;
function batch(seed: number): { x: Tensor; y: Tensor } {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) >>> 0), s >>> 16);
  const ids = Array.from({ length: N * T }, () => next() % V);
  const targets = ids.map((_, i) => (i % T >= 2 ? ids[i - 2]! : 0));
  return {
    x: oneHot(tensor(Int32Array.from(ids), { shape: [N, T] }), V, 'float32'),
    y: tensor(Int32Array.from(targets), { shape: [N, T] }),
  };
}

describe('LSTM + clipByGlobalNorm + Adam', () => {
  it('learns a delayed copy: the loss falls below a third of its start', () => {
    const layer = lstm({ inputSize: V, hiddenSize: 16 });
    const head = linear({ inFeatures: 16, outFeatures: V });
    const [k1, k2] = splitKey(randomKey(0));
    let params = { rnn: layer.init(k1!), head: head.init(k2!) };
    const loss = (p: typeof params, x: Tensor, y: Tensor) => crossEntropy(reshape(head.apply(p.head, layer.apply(p.rnn, x).output), [-1, V]), reshape(y, [-1]));
    const optimizer = chain(clipByGlobalNorm(1), adam({ lr: 0.03 }));
    let state = optimizer.init(params);
    const step = valueAndGrad(loss);
    const history: number[] = [];
    for (let i = 0; i < 120; i++) {
      const { x, y } = batch(i);
      const [value, grads] = step(params, x, y);
      const { updates, state: next } = optimizer.update(grads, state, params);
      params = applyUpdates(params, updates);
      state = next;
      history.push(value.item());
    }
    const start = history.slice(0, 5).reduce((a, b) => a + b) / 5;
    const end = history.slice(-5).reduce((a, b) => a + b) / 5;
    expect(end).toBeLessThan(start / 3);
  }, 60_000);

  it('trains with truncated BPTT: state carried across windows through stopGradient', () => {
    const layer = lstm({ inputSize: V, hiddenSize: 16 });
    const head = linear({ inFeatures: 16, outFeatures: V });
    const [k1, k2] = splitKey(randomKey(1));
    let params = { rnn: layer.init(k1!), head: head.init(k2!) };
    const optimizer = chain(clipByGlobalNorm(1), adam({ lr: 0.03 }));
    let optState = optimizer.init(params);
    const windowLoss = (p: typeof params, x: Tensor, y: Tensor, h0: Tensor | undefined, c0: Tensor | undefined) => {
      const r = layer.apply(p.rnn, x, h0 && c0 ? { initialState: { h: h0, c: c0 } } : {});
      return [crossEntropy(reshape(head.apply(p.head, r.output), [-1, V]), reshape(y, [-1])), r.state] as const;
    };
    const step = valueAndGrad(windowLoss, 0, { hasAux: true });
    const history: number[] = [];
    for (let i = 0; i < 60; i++) {
      const { x, y } = batch(1000 + i);
      let carry: { h: Tensor; c: Tensor } | undefined;
      for (let w = 0; w < 2; w++) {
        const xs = T / 2;
        const xi = slice(x, [0, w * xs, 0], [N, xs, V]);
        const yi = slice(y, [0, w * xs], [N, xs]);
        const [[value, next], grads] = step(params, xi, yi, carry?.h, carry?.c);
        const { updates, state } = optimizer.update(grads, optState, params);
        params = applyUpdates(params, updates);
        optState = state;
        carry = stopGradient(next);
        history.push(value.item());
      }
    }
    const start = history.slice(0, 6).reduce((a, b) => a + b) / 6;
    const end = history.slice(-6).reduce((a, b) => a + b) / 6;
    expect(end).toBeLessThan(start / 2);
  }, 60_000);
});
