/**
 * recurrent hoists the input work of any cell out of the time loop (step-program.ts): a user's cell gets one
 * input matmul for the whole sequence, as the built-ins do, with the numbers and gradients of the plain
 * per-step loop; a step that cannot be split that way runs as it is.
 */
import {
  add,
  checkGrad,
  customVjp,
  jit,
  matmul,
  mean,
  mul,
  normal,
  randomKey,
  reshape,
  sigmoid,
  slice,
  splitKey,
  stack,
  stopGradient,
  sum,
  tanh,
  Tensor,
  trace,
  treeLeaves,
  valueAndGrad,
  zeros,
} from '@tapestry/core';
import type { Graph, Key } from '@tapestry/core';
import { lstm, recurrent, type Cell } from '@tapestry/layers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose } from './helpers.js';

type ElmanParams = { w: Tensor; u: Tensor; b: Tensor };
type H = { h: Tensor };

/** The Elman cell of Cell's TSDoc example; `mix` changes how h and x meet, to make steps that must not be split. */
const elman = (hiddenSize: number, mix?: (p: ElmanParams, h: Tensor, x: Tensor) => Tensor): Cell<ElmanParams, H> => ({
  name: 'elman',
  outputSize: hiddenSize,
  init: (key, inputSize) => {
    const [k1, k2, k3] = splitKey(key, 3) as [Key, Key, Key];
    return {
      w: normal(k1, [hiddenSize, inputSize], { dtype: 'float64' }),
      u: mul(normal(k2, [hiddenSize, hiddenSize], { dtype: 'float64' }), 0.5),
      b: normal(k3, [hiddenSize], { dtype: 'float64' }),
    };
  },
  initialState: (batch, dtype) => ({ h: zeros([batch, hiddenSize], dtype) }),
  step: (p, { h }, x) => {
    const pre = mix ? mix(p, h, x) : add(add(matmul(x, p.w, { transposeB: true }), matmul(h, p.u, { transposeB: true })), p.b);
    const hNew = tanh(pre);
    return { state: { h: hNew }, output: hNew };
  },
});

/** A hand-written LSTM, as bench's W5 cell: gates sliced from one pre-activation. */
type LstmParams = { wi: Tensor; wh: Tensor; bi: Tensor; bh: Tensor };
const handLstm = (hs: number): Cell<LstmParams, { h: Tensor; c: Tensor }> => ({
  outputSize: hs,
  init: (key, inputSize) => {
    const [k1, k2, k3, k4] = splitKey(key, 4) as [Key, Key, Key, Key];
    const n = (k: Key, shape: number[]) => normal(k, shape, { dtype: 'float64' });
    return { wi: n(k1, [4 * hs, inputSize]), wh: n(k2, [4 * hs, hs]), bi: n(k3, [4 * hs]), bh: n(k4, [4 * hs]) };
  },
  initialState: (batch, dtype) => ({ h: zeros([batch, hs], dtype), c: zeros([batch, hs], dtype) }),
  step: (p, { h, c }, x) => {
    const z = add(add(matmul(x, p.wi, { transposeB: true }), p.bi), add(matmul(h, p.wh, { transposeB: true }), p.bh));
    const gate = (k: number) => slice(z, [0, k * hs], [x.shape[0]!, hs]);
    const cNext = add(mul(sigmoid(gate(1)), c), mul(sigmoid(gate(0)), tanh(gate(2))));
    const hNext = mul(sigmoid(gate(3)), tanh(cNext));
    return { state: { h: hNext, c: cNext }, output: hNext };
  },
});

/** The plain loop: cell.step at every step, one direction, one layer, no lengths. Returns output [N, T, F] and h. */
function unrolled<P>(cell: Cell<P, H>, p: P, x: Tensor): { output: Tensor; h: Tensor } {
  const [n, t, d] = x.shape as [number, number, number];
  let state = cell.initialState(n, x.dtype);
  const outputs: Tensor[] = [];
  for (let i = 0; i < t; i++) {
    const r = cell.step(p, state, reshape(slice(x, [0, i, 0], [n, 1, d]), [n, d]));
    state = r.state;
    outputs.push(r.output);
  }
  return { output: stack(outputs, 1), h: state.h };
}

const matmuls = <P>(layer: { apply: (p: P, x: Tensor) => { output: Tensor } }, params: P, x: Tensor) =>
  trace((p: P, xs: Tensor) => layer.apply(p, xs).output, params, x).opCounts().matmul;

/** Loss of the layer and of the plain loop, weighted so every output element matters. */
function compareWithLoop<P>(cell: Cell<P, H>, label: string) {
  const layer = recurrent(cell, { inputSize: 3 });
  const params = layer.init(randomKey(7));
  const x = normal(randomKey(8), [2, 5, 3], { dtype: 'float64' });
  const weights = normal(randomKey(9), [2, 5, cell.outputSize!], { dtype: 'float64' });
  const viaLayer = (p: typeof params, xs: Tensor) => {
    const r = layer.apply(p, xs);
    return add(sum(mul(r.output, weights)), sum(r.state.h));
  };
  const viaLoop = (p: typeof params, xs: Tensor) => {
    const r = unrolled(cell, p.layers[0]!.forward, xs);
    return add(sum(mul(r.output, weights)), sum(r.h));
  };
  const [va, ga] = valueAndGrad(viaLayer, [0, 1])(params, x);
  const [vb, gb] = valueAndGrad(viaLoop, [0, 1])(params, x);
  expectClose(va, vb, 1e-12, `${label}: loss`);
  const [la, lb] = [treeLeaves<Tensor>(ga), treeLeaves<Tensor>(gb)];
  expect(la.length).toBe(lb.length);
  la.forEach((g, i) => expectClose(g, lb[i]!, 1e-12, `${label}: gradient ${i}`));
  return { layer, params, x };
}

describe('a user-written cell gets the input projection hoisted', () => {
  it('one input matmul for all T steps, eagerly (what a trace of apply records is what eager runs)', () => {
    const steps = 6;
    const x = normal(randomKey(1), [3, steps, 4], { dtype: 'float64' });
    for (const [name, cell] of [
      ['elman', elman(5)],
      ['hand-written lstm', handLstm(5)],
    ] as const) {
      const layer = recurrent(cell as Cell<unknown, H>, { inputSize: 4, bidirectional: true });
      const params = layer.init(randomKey(2));
      // per direction: 1 input projection + T recurrent products (a per-step cell would do 2T)
      expect(matmuls(layer, params, x), name).toBe(2 * (1 + steps));
    }
  });

  it('gives the numbers and gradients of the plain per-step loop', () => {
    const { layer, params, x } = compareWithLoop(elman(4), 'elman');
    expect(matmuls(layer, params, x)).toBe(1 + 5);
  });

  it('eager and jit give the same values and gradients', () => {
    const layer = recurrent(handLstm(3), { inputSize: 2, numLayers: 2, bidirectional: true });
    const params = layer.init(randomKey(3));
    const x = normal(randomKey(4), [3, 5, 2], { dtype: 'float64' });
    const loss = (p: typeof params, xs: Tensor) => {
      const r = layer.apply(p, xs, { lengths: [5, 2, 4] });
      return add(sum(mul(r.output, r.output)), sum(r.state.c));
    };
    const [ve, ge] = valueAndGrad(loss, [0, 1])(params, x);
    const [vj, gj] = jit(valueAndGrad(loss, [0, 1]))(params, x);
    expectClose(vj, ve, 1e-12, 'loss');
    const [le, lj] = [treeLeaves<Tensor>(ge), treeLeaves<Tensor>(gj)];
    le.forEach((g, i) => expectClose(lj[i]!, g, 1e-12, `gradient ${i}`));
  });

  it('gradients equal finite differences (float64): stacked, bidirectional, with lengths and initial states', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 2, max: 4 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1_000_000 }),
        (batch, steps, bidirectional, seed) => {
          const layer = recurrent(elman(2), { inputSize: 2, numLayers: 2, bidirectional });
          const [kp, kx, kh, kw, kl] = splitKey(randomKey(seed), 5) as Key[];
          const params = layer.init(kp!);
          const x = normal(kx!, [batch, steps, 2], { dtype: 'float64' });
          const h0 = normal(kh!, [2 * layer.numDirections, batch, 2], { dtype: 'float64' });
          const w = normal(kw!, [batch, steps, 2 * layer.numDirections], { dtype: 'float64' });
          const lengths = Array.from(normal(kl!, [batch]).dataSync(), (v) => 1 + (Math.floor(Math.abs(v) * 7) % steps));
          const loss = (p: typeof params, xs: Tensor, h: Tensor) => {
            const r = layer.apply(p, xs, { initialState: { h }, lengths });
            return add(sum(mul(r.output, w)), sum(r.state.h));
          };
          const result = checkGrad(loss, [params, x, h0]);
          expect(result.ok, `batch ${batch} steps ${steps} bidirectional ${bidirectional} lengths ${lengths}: ${result.message}`).toBe(true);
        },
      ),
      { numRuns: 12 },
    );
  });
});

describe('a user-written cell runs what the built-in cell runs', () => {
  it("a hand-written LSTM's training step does the built-in lstm's work, op for op (eager and jit run these ops)", () => {
    // bench W5 measures this promise in time; here it is exact: the same primitives on the same shapes with the
    // same attributes, forward and backward, so neither eager execution nor the compiler has more to do for
    // the user's cell (handLstm computes its gates in another order than lstmCell: the order is free)
    const [batch, steps, inputSize, hs] = [3, 5, 4, 6];
    const builtIn = lstm({ inputSize, hiddenSize: hs, dtype: 'float64' });
    const handWritten = recurrent(handLstm(hs), { inputSize });
    const p = builtIn.init(randomKey(11)).layers[0]!.forward;
    const pyTorchNames = { layers: [{ forward: p }] };
    const ownNames = { layers: [{ forward: { wi: p.weightIh, wh: p.weightHh, bi: p.biasIh!, bh: p.biasHh! } }] };
    const x = normal(randomKey(12), [batch, steps, inputSize], { dtype: 'float64' });
    const trainingStep = <P>(layer: { apply: (p: P, x: Tensor) => { output: Tensor; state: { c: Tensor } } }, params: P) =>
      trace(
        valueAndGrad(
          (q: P, xs: Tensor) => {
            const r = layer.apply(q, xs);
            return add(sum(mul(r.output, r.output)), sum(r.state.c));
          },
          [0, 1],
        ),
        params,
        x,
      );
    // each node as its op, result type, attributes and operand types (input nodes print their argument's path,
    // weightIh vs wi, and node ids follow the order the cell wrote its ops in: both are left out)
    const work = (g: Graph) =>
      g
        .toString()
        .split('\n')
        .slice(1, -2)
        .map((line, id) => {
          const operands = g.nodes[id]!.inputs.map((i) => `${g.nodes[i]!.dtype}[${g.nodes[i]!.shape.join(',')}]`).join(', ');
          return line
            .replace(/^ *%\d+: /, '')
            .replace(/input\([^)]*\)/, 'input')
            .replace(/\(%[^)]*\)/, `(${operands})`);
        })
        .sort();
    const expected = work(trainingStep(builtIn, pyTorchNames));
    expect(work(trainingStep(handWritten, ownNames))).toEqual(expected);
    // not a vacuous match: the recurrence ran T times with the input projection hoisted (1 + T forward matmuls)
    expect(trace((q: typeof ownNames, xs: Tensor) => handWritten.apply(q, xs).output, ownNames, x).opCounts().matmul).toBe(1 + steps);
  });
});

describe('a step that cannot be split runs as it is', () => {
  it('x mixed across the batch (not row-wise): same numbers as the loop', () => {
    const batchMixing = elman(3, (p, h, x) => add(matmul(add(x, mean(x, 0, true)), p.w, { transposeB: true }), matmul(h, p.u, { transposeB: true })));
    compareWithLoop(batchMixing, 'batch-mixing');
  });

  it('stopGradient inside the step (a trace does not see it): gradients of the loop, not hoisted', () => {
    const detached = elman(3, (p, h, x) => add(matmul(x, p.w, { transposeB: true }), matmul(stopGradient(h), p.u, { transposeB: true })));
    const { layer, params, x } = compareWithLoop(detached, 'stopGradient');
    expect(matmuls(layer, params, x)).toBe(2 * 5);
  });

  it('customVjp inside the step: its own gradient rule is kept', () => {
    // identity forward, gradient doubled: differs from the ops' own gradient on purpose
    const doubled = customVjp(
      (t: Tensor) => ({ value: mul(t, 1), residuals: null }),
      (ct: Tensor) => [mul(ct, 2)],
    );
    const custom = elman(3, (p, h, x) => add(doubled(matmul(x, p.w, { transposeB: true })), matmul(h, p.u, { transposeB: true })));
    compareWithLoop(custom, 'customVjp');
  });

  it('a tensor the step closes over and grad differentiates keeps its gradient', () => {
    const x = normal(randomKey(5), [2, 4, 3], { dtype: 'float64' });
    const scale0 = normal(randomKey(6), [3], { dtype: 'float64' });
    const base = elman(3);
    const lossWith = (viaLayer: boolean) => (scale: Tensor) => {
      const cell = elman(3, (p, h, xt) => add(matmul(mul(xt, scale), p.w, { transposeB: true }), matmul(h, p.u, { transposeB: true })));
      const params = recurrent(base, { inputSize: 3 }).init(randomKey(7));
      const out = viaLayer ? recurrent(cell, { inputSize: 3 }).apply(params, x).output : unrolled(cell, params.layers[0]!.forward, x).output;
      return sum(mul(out, out));
    };
    const [va, ga] = valueAndGrad(lossWith(true))(scale0);
    const [vb, gb] = valueAndGrad(lossWith(false))(scale0);
    expectClose(va, vb, 1e-12, 'loss');
    expectClose(ga, gb, 1e-12, 'gradient of the closed-over tensor');
  });
});
