import { add, checkGrad, matmul, mul, normal, randomKey, splitKey, square, sum, tanh, Tensor, treeLeaves, valueAndGrad, zeros } from '@tapestry/core';
import type { DType } from '@tapestry/core';
import { gruCell, lstm, lstmCell, recurrent, type Cell } from '@tapestry/layers';
import { describe, expect, it } from 'vitest';
import { expectExact } from './helpers.js';

// A cell with an output wider than its state, no outputSize and a state named `memory`
type P = { w: Tensor; u: Tensor; out: Tensor };
const widening = (size: number, dtype: DType): Cell<P, { memory: Tensor }> => ({
  init: (key, inputSize) => {
    const [a, b, c] = splitKey(key, 3);
    return { w: normal(a!, [inputSize, size], { dtype }), u: normal(b!, [size, size], { dtype }), out: normal(c!, [size, 2 * size], { dtype }) };
  },
  initialState: (batch, d) => ({ memory: zeros([batch, size], d) }),
  step: (p, { memory }, x) => {
    const next = tanh(add(matmul(x, p.w), mul(matmul(memory, p.u), 0.5)));
    return { state: { memory: next }, output: matmul(next, p.out) };
  },
});

describe('recurrent with a user cell', () => {
  const layer = recurrent(widening(3, 'float64'), { inputSize: 2, numLayers: 2, bidirectional: true });
  const params = layer.init(randomKey(0));

  it('finds the output width by a probe step and sizes the next layer from it', () => {
    expect(params.layers[1]!.forward.w.shape).toEqual([12, 3]); // 2 directions × 6 output features
    const r = layer.apply(params, normal(randomKey(1), [2, 4, 2], { dtype: 'float64' }), { lengths: [4, 2] });
    expect(r.output.shape).toEqual([2, 4, 12]);
    expect(r.state.memory.shape).toEqual([4, 2, 3]);
    expect('hN' in r).toBe(false);
  });

  it('takes initial states by name and is differentiable in them', () => {
    const x = normal(randomKey(1), [2, 3, 2], { dtype: 'float64' });
    const memory0 = normal(randomKey(2), [4, 2, 3], { dtype: 'float64' });
    const loss = (m0: Tensor, xs: Tensor) => {
      const r = layer.apply(params, xs, { initialState: { memory: m0 }, lengths: [3, 1] });
      return add(sum(mul(r.output, r.output)), sum(r.state.memory));
    };
    const result = checkGrad(loss, [memory0, x]);
    expect(result.ok, result.message).toBe(true);
    expect(() => layer.apply(params, x, { h0: zeros([4, 2, 3], 'float64') } as never)).toThrow(/h0 was given but cell's state has only \{memory\}/);
  });

  it('names state-dict entries from the tree paths', () => {
    expect(Object.keys(layer.toStateDict(params))).toEqual([
      'w_l0', 'u_l0', 'out_l0', 'w_l0_reverse', 'u_l0_reverse', 'out_l0_reverse', 'w_l1', 'u_l1', 'out_l1', 'w_l1_reverse', 'u_l1_reverse', 'out_l1_reverse',
    ]);
  });

  it('returns frozen parameter trees', () => {
    expect(Object.isFrozen(params)).toBe(true);
    expect(Object.isFrozen(params.layers[0])).toBe(true);
  });
});

describe('steps past the longest sequence', () => {
  it('are not run at all, and their outputs are zeros', () => {
    let calls = 0;
    const inner = lstmCell({ hiddenSize: 2, dtype: 'float64' });
    const counting: typeof inner = {
      ...inner,
      step: (p, s, x) => (calls++, inner.step(p, s, x)),
      stepProjected: (p, s, g) => (calls++, inner.stepProjected!(p, s, g)),
    };
    const layer = recurrent(counting, { inputSize: 1, bidirectional: true });
    const params = layer.init(randomKey(0));
    const x = normal(randomKey(1), [2, 6, 1], { dtype: 'float64' });
    calls = 0;
    const r = layer.apply(params, x, { lengths: [2, 3] });
    expect(calls).toBe(2 * 3); // two directions × the longest length
    expect(r.output.shape).toEqual([2, 6, 4]);
    expect(Array.from(r.output.dataSync()).slice(2 * 6 * 4 - 3 * 4)).toEqual(new Array(12).fill(0));
  });
});

describe('recurrent(lstmCell) is lstm', () => {
  it('gives the same numbers from the same parameters', () => {
    const a = lstm({ inputSize: 3, hiddenSize: 2, numLayers: 2, dtype: 'float64' });
    const b = recurrent(lstmCell({ hiddenSize: 2, dtype: 'float64' }), { inputSize: 3, numLayers: 2 });
    const p = a.init(randomKey(3));
    const x = normal(randomKey(4), [2, 3, 3], { dtype: 'float64' });
    expectExact(b.apply(p, x).output, a.apply(p, x).output, 'output');
    expectExact(b.apply(p, x).cN, a.apply(p, x).cN, 'cN');
  });
});

describe('input projection hoisted out of the time loop', () => {
  it('gives the numbers and gradients of the per-step cell', () => {
    for (const make of [lstmCell, gruCell] as const) {
      const hoisted = make({ hiddenSize: 3, dtype: 'float64' });
      const { projectInputs: _p, stepProjected: _s, ...plain } = hoisted;
      const a = recurrent(hoisted, { inputSize: 2, numLayers: 2, bidirectional: true });
      const b = recurrent(plain as typeof hoisted, { inputSize: 2, numLayers: 2, bidirectional: true });
      const params = a.init(randomKey(4));
      const x = normal(randomKey(5), [3, 5, 2], { dtype: 'float64' });
      const loss = (layer: typeof a) => (p: typeof params, x: Tensor) => sum(square(layer.apply(p, x, { lengths: [5, 2, 4] }).output));
      const [va, ga] = valueAndGrad(loss(a), [0, 1])(params, x);
      const [vb, gb] = valueAndGrad(loss(b), [0, 1])(params, x);
      expect(va.item()).toBeCloseTo(vb.item(), 12);
      const la = treeLeaves<Tensor>(ga).flatMap((t) => Array.from(t.dataSync()));
      const lb = treeLeaves<Tensor>(gb).flatMap((t) => Array.from(t.dataSync()));
      la.forEach((v, i) => expect(Math.abs(v - lb[i]!)).toBeLessThan(1e-12 * Math.max(1, Math.abs(v))));
    }
  });
});
