import { add, checkGrad, matmul, mul, normal, randomKey, splitKey, sum, tanh, tensor, Tensor, trace, zeros } from '@tapestry/core';
import type { DType } from '@tapestry/core';
import { lstm, lstmCell, recurrent, type Cell } from '@tapestry/layers';
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
    expect(() => layer.apply(params, x, { initialState: { h: zeros([4, 2, 3], 'float64') } } as never)).toThrow(
      /initialState\.h was given but cell's state has only \{memory\}/,
    );
  });

  it('names state-dict entries from the tree paths', () => {
    expect(Object.keys(layer.toStateDict(params))).toEqual([
      'w_l0',
      'u_l0',
      'out_l0',
      'w_l0_reverse',
      'u_l0_reverse',
      'out_l0_reverse',
      'w_l1',
      'u_l1',
      'out_l1',
      'w_l1_reverse',
      'u_l1_reverse',
      'out_l1_reverse',
    ]);
  });

  it('returns frozen parameter trees', () => {
    expect(Object.isFrozen(params)).toBe(true);
    expect(Object.isFrozen(params.layers[0])).toBe(true);
  });
});

describe('steps past the longest sequence', () => {
  it('are not run at all, and their outputs are zeros', () => {
    const layer = recurrent(lstmCell({ hiddenSize: 2, dtype: 'float64' }), { inputSize: 1, bidirectional: true });
    const params = layer.init(randomKey(0));
    const x = normal(randomKey(1), [2, 6, 1], { dtype: 'float64' });
    const graph = trace((p: typeof params, xs: Tensor) => layer.apply(p, xs, { lengths: [2, 3] }).output, params, x);
    // per direction: one input projection for all steps, and one recurrent matmul per step run (3, not 6)
    expect(graph.opCounts().matmul).toBe(2 * (1 + 3));
    const r = layer.apply(params, x, { lengths: [2, 3] });
    expect(r.output.shape).toEqual([2, 6, 4]);
    expect(Array.from(r.output.dataSync()).slice(2 * 6 * 4 - 3 * 4)).toEqual(new Array(12).fill(0));
  });
});

describe('masked steps (lengths)', () => {
  // c' = c + x: nothing to hoist, so the step itself sees each step's input
  type Acc = { c: Tensor };
  const seen: number[][] = [];
  const accumulate: Cell<Record<string, never>, Acc> = {
    outputSize: 1,
    init: () => ({}),
    initialState: (batch, dtype) => ({ c: zeros([batch, 1], dtype) }),
    step: (_p, { c }, x) => {
      if (!x.isAbstract) seen.push(Array.from(x.dataSync()));
      const next = add(c, x);
      return { state: { c: next }, output: next };
    },
  };

  it('keep the state, emit 0 and show the cell zeros instead of the input', () => {
    // sequence 0 is valid at steps 0, 1, 2; sequence 1 at step 0 only, with garbage after it
    const x = tensor([
      [[1], [3], [5]],
      [[2], [Number.NaN], [Number.POSITIVE_INFINITY]],
    ]); // float32, as parameter-free cells are
    const layer = recurrent(accumulate, { inputSize: 1 });
    seen.length = 0;
    const r = layer.apply({ layers: [{ forward: {} }] }, x, { lengths: [3, 1], initialState: { c: tensor([[[100], [200]]]) } });
    expect(seen).toEqual([
      [1, 2],
      [3, 0],
      [5, 0],
    ]);
    expect(r.state.c.toArray()).toEqual([[[109], [202]]]);
    expect(r.output.toArray()).toEqual([
      [[101], [104], [109]],
      [[202], [0], [0]],
    ]);
  });
});

describe('recurrent(lstmCell) is lstm', () => {
  it('gives the same numbers from the same parameters', () => {
    const a = lstm({ inputSize: 3, hiddenSize: 2, numLayers: 2, dtype: 'float64' });
    const b = recurrent(lstmCell({ hiddenSize: 2, dtype: 'float64' }), { inputSize: 3, numLayers: 2 });
    const p = a.init(randomKey(3));
    const x = normal(randomKey(4), [2, 3, 3], { dtype: 'float64' });
    expectExact(b.apply(p, x).output, a.apply(p, x).output, 'output');
    expectExact(b.apply(p, x).state.c, a.apply(p, x).state.c, 'state.c');
  });
});
