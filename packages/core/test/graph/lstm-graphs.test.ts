/** An LSTM through trace, evaluate and jit: the printed step, BPTT in the graph, hoisting, a jitted training step. */
import { describe, expect, it } from 'vitest';
import { evaluate, hoistStepInvariant, jit, optimize, trace, valueAndGrad, zeros, type Tensor } from '@tapestry/core';
import { allocations } from '../../src/dtype.js';
import { closeEnough, valuesFor } from './programs.js';
import { adamInit, lstmLayer, lstmParams, lstmStep, sequenceLoss, trainStep, type LstmParams } from './lstm.js';

const leaves = (tree: unknown): Tensor[] => {
  const out: Tensor[] = [];
  const walk = (x: unknown): void => {
    if (x !== null && typeof x === 'object' && 'dtype' in x) out.push(x as Tensor);
    else if (Array.isArray(x)) x.forEach(walk);
    else if (x !== null && typeof x === 'object') Object.values(x).forEach(walk);
  };
  walk(tree);
  return out;
};

function expectTreesClose(actual: unknown, expected: unknown, rel: number): void {
  const a = leaves(actual);
  const e = leaves(expected);
  expect(a.length).toBe(e.length);
  a.forEach((x, i) => expect(closeEnough(x, e[i]!, rel), `leaf ${i}`).toBeNull());
}

describe('LSTM graphs', () => {
  it('prints one LSTM step readably (snapshot)', () => {
    const p = lstmParams(3, 2, 'float32');
    const g = trace(lstmStep, p, { h: zeros([4, 2]), c: zeros([4, 2]) }, zeros([4, 3]));
    expect(g.toString()).toMatchSnapshot();
    expect(g.toDot()).toContain('n2 -> n');
  });

  it('traces the forward and the backward pass of an unrolled LSTM (BPTT node by node)', () => {
    const T = 3;
    const p = lstmParams(3, 2, 'float64');
    const xs = valuesFor([2, T, 3], 5, 'float64');
    const ys = valuesFor([2, T, 2], 6, 'float64');
    const g = trace(valueAndGrad(sequenceLoss), p, xs, ys);
    const counts = g.opCounts();
    // forward: 2 matmuls per step; the VJP of each computes both operands' cotangents: 2 more each
    expect(counts.matmul).toBe(2 * T + 2 * 2 * T);
    // dead-code elimination drops those nobody needs (of the inputs x_t and of the initial h): left are
    // the forward products, dW_ih and dW_hh per step, and dh_{t-1} for every step but the first
    expect(optimize(g, { hoist: false, accumulateProducts: false }).opCounts().matmul).toBe(2 * T + 2 * T + (T - 1));
    // hoisting makes the T input projections one
    expect(optimize(g, { accumulateProducts: false }).opCounts().matmul).toBe(T + 1 + 2 * T + (T - 1));
    // and product accumulation makes each weight's T gradient terms one product
    expect(optimize(g).opCounts().matmul).toBe(T + 1 + 2 + (T - 1));
    expect(counts.tanh).toBe(2 * T);
    expect(counts.pad).toBeGreaterThanOrEqual(T); // slice VJPs: the gradient of each step's gate slices
    const [loss, grads] = evaluate(g, p, xs, ys) as [Tensor, LstmParams];
    const [eLoss, eGrads] = valueAndGrad(sequenceLoss)(p, xs, ys) as [Tensor, LstmParams];
    expect(loss.item()).toBe(eLoss.item());
    expectTreesClose(grads, eGrads, 0);
  });

  it('hoists the per-step input projection: one matmul over the sequence instead of T', () => {
    const T = 5;
    const p = lstmParams(3, 4, 'float64');
    const xs = valuesFor([2, T, 3], 7, 'float64');
    const f = (params: LstmParams, x: Tensor) => lstmLayer(params, x);
    const g = optimize(trace(f, p, xs), { hoist: false, accumulateProducts: false });
    const hoisted = hoistStepInvariant(g);
    expect(g.opCounts().matmul).toBe(2 * T);
    expect(hoisted.opCounts().matmul).toBe(T + 1);
    const whole = hoisted.nodes.find((n) => n.op === 'matmul' && n.shape[0] === 2 * T)!;
    expect(whole.shape).toEqual([2 * T, 16]);
    expectTreesClose(evaluate(hoisted, p, xs), f(p, xs), 0);
    expectTreesClose(jit(f)(p, xs), f(p, xs), 0);
    expect(jit(f).lower(p, xs).opCounts().matmul).toBe(T + 1);
  });

  it('hoists time-major sequences too, and leaves a lone product alone', () => {
    const p = lstmParams(3, 2, 'float64');
    const xs = valuesFor([4, 2, 3], 8, 'float64'); // [T, N, D]
    const f = (w: Tensor, x: Tensor) => [0, 1, 2, 3].map((t) => reshape2(x, t, w));
    const g = hoistStepInvariant(trace(f, p.wIh, xs));
    expect(g.opCounts().matmul).toBe(1);
    expectTreesClose(evaluate(g, p.wIh, xs), f(p.wIh, xs), 0);
    const single = trace((w: Tensor, x: Tensor) => reshape2(x, 0, w), p.wIh, xs);
    expect(hoistStepInvariant(single)).toBe(single);
  });

  it('jits a training step (forward, backward, clipping, Adam): same numbers as eager, step after step', () => {
    const p = lstmParams(3, 4, 'float64');
    const xs = valuesFor([2, 4, 3], 9, 'float64');
    const ys = valuesFor([2, 4, 4], 10, 'float64');
    const step = jit(trainStep);
    let eager = { params: p, opt: adamInit(p) };
    let fast = { params: p, opt: adamInit(p) };
    for (let i = 0; i < 3; i++) {
      const e = trainStep(eager.params, eager.opt, xs, ys);
      const j = step(fast.params, fast.opt, xs, ys);
      expect(closeEnough(j.loss, e.loss, 1e-12)).toBeNull();
      expectTreesClose(j.params, e.params, 1e-12);
      eager = e;
      fast = j;
    }
    expect(step.cacheSize).toBe(1);
  });

  it('float32 training step matches eager to 1e-5', () => {
    const p = lstmParams(3, 4, 'float32');
    const xs = valuesFor([2, 4, 3], 9, 'float32');
    const ys = valuesFor([2, 4, 4], 10, 'float32');
    const e = trainStep(p, adamInit(p), xs, ys);
    const j = jit(trainStep)(p, adamInit(p), xs, ys);
    expectTreesClose(j, e, 1e-5);
  });

  it('a jitted training step allocates only its results after the first call (counted at the allocator)', () => {
    const p = lstmParams(3, 4, 'float32');
    const xs = valuesFor([2, 4, 3], 9, 'float32');
    const ys = valuesFor([2, 4, 4], 10, 'float32');
    const step = jit(trainStep);
    let state = step(p, adamInit(p), xs, ys);
    const results = leaves(state).length;
    const before = allocations.count;
    for (let i = 0; i < 3; i++) state = step(state.params, state.opt, xs, ys);
    // one storage per result leaf (params, moments, step count, loss): nothing for the working memory
    expect(allocations.count - before).toBe(3 * results);
  });

  it('donating params and optimiser state, a jitted training step allocates only its loss (counted at the allocator)', () => {
    const p = lstmParams(3, 4, 'float32');
    const xs = valuesFor([2, 4, 3], 9, 'float32');
    const ys = valuesFor([2, 4, 4], 10, 'float32');
    const plain = jit(trainStep);
    const donating = jit(trainStep, { donate: [0, 1] });
    let expected = plain(p, adamInit(p), xs, ys);
    // the first call allocates its results; from the second on they take the storage donated the call before
    let state = donating(lstmParams(3, 4, 'float32'), adamInit(p), xs, ys);
    state = donating(state.params, state.opt, xs, ys);
    expected = plain(expected.params, expected.opt, xs, ys);
    const before = allocations.count;
    for (let i = 0; i < 3; i++) {
      state = donating(state.params, state.opt, xs, ys);
      expected = plain(expected.params, expected.opt, xs, ys);
    }
    // plain allocates every result leaf; donating only the loss (no donated float32 scalar is left for it)
    expect(allocations.count - before).toBe(3 * leaves(expected).length + 3 * 1);
    expectTreesClose(state, expected, 0);
    expect(donating.cacheSize).toBe(1);
  });
});

/** x[t] · w for x [T, N, D]. */
import { reshape, slice, matmul } from '@tapestry/core';
function reshape2(x: Tensor, t: number, w: Tensor): Tensor {
  const [, n, d] = x.shape as [number, number, number];
  return matmul(reshape(slice(x, [t, 0, 0], [1, n, d]), [n, d]), w);
}
