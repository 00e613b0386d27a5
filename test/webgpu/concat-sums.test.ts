/**
 * The GPU's concat-sums pass (`sumConcatenatedColumns`): a sum of per-step column sums whose matrices are
 * exactly the parts of a time-major concat becomes one sum of that concat (reusing one the graph already has),
 * computing the same values in another order; anything else is left alone. Graph-level: no device needed.
 */
import { describe, expect, it } from 'vitest';
import * as core from '@tapestry/core';
import { evaluate, optimize, randomKey, trace, valueAndGrad, type Graph, type Tensor } from '@tapestry/core';
import { lstm } from '@tapestry/layers';
import { sumConcatenatedColumns } from '../../packages/webgpu/src/concat-sums.js';

const values = (shape: number[], seed: number): Tensor =>
  core.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(seed * 97 + i * 1.7)),
    { shape },
  );

/** The column sums of per-step matrices in `graph`: sums over axis 0 of a 2-D value that is not a stack along axis 0. */
const columnSums = (graph: Graph) =>
  graph.nodes.filter((n) => {
    const x = graph.nodes[n.inputs[0]!];
    return n.op === 'sum' && n.attrs.axes.length === 1 && n.attrs.axes[0] === 0 && x!.shape.length === 2 && !(x!.op === 'concat' && x!.attrs.axis === 0);
  }).length;

const expectSameValues = (a: Graph, b: Graph, args: readonly Tensor[]) => {
  const want = core.treeLeaves(evaluate(a, ...args)) as Tensor[];
  const got = core.treeLeaves(evaluate(b, ...args)) as Tensor[];
  expect(got.length).toBe(want.length);
  got.forEach((g, k) => {
    expect(g.shape).toEqual(want[k]!.shape);
    const w = want[k]!.dataSync();
    // float32, summed in another order: a few ulps of the sums' magnitudes
    g.dataSync().forEach((v, i) => expect(Math.abs(v - w[i]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(w[i]!))));
  });
};

describe('sumConcatenatedColumns', () => {
  const steps = 5;
  // per step a matrix X_t; a bias-like gradient Σ_t colsum(X_t) beside the time-major stack of the X_t
  const f = (x: Tensor, w: Tensor): Tensor[] => {
    const parts: Tensor[] = [];
    let bias: Tensor | undefined;
    for (let t = 0; t < steps; t++) {
      const part = core.reshape(core.tanh(core.mul(core.slice(x, [t, 0, 0], [1, 4, 3]), w)), [4, 3]);
      parts.push(part);
      bias = bias === undefined ? core.sum(part, [0]) : core.add(bias, core.sum(part, [0]));
    }
    return [bias!, core.matmul(core.concat(parts, 0), core.ones([3, 2]))];
  };
  const args = [values([steps, 4, 3], 1), values([1, 4, 3], 2)];

  it('turns the add tree of per-step column sums into one sum of the concat', () => {
    const graph = optimize(trace(f, ...args));
    expect(columnSums(graph)).toBe(steps);
    const out = sumConcatenatedColumns(graph);
    expect(columnSums(out)).toBe(0);
    const sums = out.nodes.filter((n) => n.op === 'sum');
    expect(sums).toHaveLength(1);
    expect(out.nodes[sums[0]!.inputs[0]!]!.op).toBe('concat');
    expect(out.nodes.filter((n) => n.op === 'add')).toHaveLength(0);
    expectSameValues(graph, out, args);
  });

  it('reuses a sum of the concat the graph already has', () => {
    const g = (x: Tensor, w: Tensor): Tensor[] => {
      const [bias, product] = f(x, w) as [Tensor, Tensor];
      const stacked = core.concat(
        Array.from({ length: steps }, (_, t) => core.reshape(core.tanh(core.mul(core.slice(x, [t, 0, 0], [1, 4, 3]), w)), [4, 3])),
        0,
      );
      return [bias, product, core.sum(stacked, [0])];
    };
    const graph = optimize(trace(g, ...args));
    const out = sumConcatenatedColumns(graph);
    expect(columnSums(out)).toBe(0);
    expect(out.nodes.filter((n) => n.op === 'sum')).toHaveLength(1);
    expectSameValues(graph, out, args);
  });

  it('leaves sums of another set of matrices alone', () => {
    // the add tree skips the last step: its terms are not the concat's parts
    const h = (x: Tensor, w: Tensor): Tensor[] => {
      const parts = Array.from({ length: steps }, (_, t) => core.reshape(core.tanh(core.mul(core.slice(x, [t, 0, 0], [1, 4, 3]), w)), [4, 3]));
      let bias = core.sum(parts[0]!, [0]);
      for (let t = 1; t < steps - 1; t++) bias = core.add(bias, core.sum(parts[t]!, [0]));
      return [bias, core.concat(parts, 0)];
    };
    const graph = optimize(trace(h, ...args));
    expect(sumConcatenatedColumns(graph)).toBe(graph);
  });

  it("an LSTM's recurrent bias gradient: the per-step column sums of its gate gradients go", () => {
    const layer = lstm({ inputSize: 3, hiddenSize: 4 });
    const params = layer.init(randomKey(0));
    const loss = (p: typeof params, x: Tensor) => core.sum(core.square(layer.apply(p, x).output));
    const x = values([2, steps, 3], 3);
    const graph = optimize(trace(valueAndGrad(loss), params, x));
    // b_hh's gradient: a column sum per step; b_ih's: one over the time-major stack (kept, and reused)
    const before = columnSums(graph);
    expect(before).toBeGreaterThanOrEqual(steps);
    const out = sumConcatenatedColumns(graph);
    expect(columnSums(out)).toBe(before - steps);
    expect(out.nodes.length).toBeLessThan(graph.nodes.length);
    expectSameValues(graph, out, [params as unknown as Tensor, x]);
  });
});
