/**
 * The GPU's transpose-once pass (`transposeSharedOperands`): a matrix several products read transposed as B
 * is transposed once, and they read the copy untransposed; everything else is left as it was, and the graph
 * computes the same values. A graph-level test: no device needed.
 */
import { describe, expect, it } from 'vitest';
import * as core from '@tapestry/core';
import { evaluate, trace, type Tensor } from '@tapestry/core';
import { transposeSharedOperands } from '../src/transpose-once.js';

const values = (shape: number[], seed: number): Tensor =>
  core.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(seed * 97 + i * 1.7)),
    { shape, dtype: 'float32' },
  );

describe('transposeSharedOperands', () => {
  // three steps of a recurrence read w transposed; one product reads w as it is, and u transposed once
  const f = (w: Tensor, u: Tensor, x: Tensor): Tensor[] => {
    let h = x;
    for (let t = 0; t < 3; t++) h = core.tanh(core.matmul(h, w, { transposeB: true }));
    return [h, core.matmul(h, w), core.matmul(x, u, { transposeB: true })];
  };
  const args = [values([4, 4], 1), values([5, 4], 2), values([2, 4], 3)] as const;

  it('transposes a matrix read transposed by several products once, before its first reader', () => {
    const graph = trace(f, ...args);
    const out = transposeSharedOperands(graph);
    const w = out.inputs[0]!;
    const transposes = out.nodes.filter((n) => n.op === 'transpose');
    expect(transposes.map((n) => n.inputs[0])).toEqual([w]);
    const copy = transposes[0]!.id;
    const products = out.nodes.filter((n) => n.op === 'matmul');
    // the three recurrent products read the copy untransposed; the plain product and u's single reader are as they were
    expect(products.map((n) => [n.inputs[1] === copy ? 'copy' : n.inputs[1] === w ? 'w' : 'u', (n.attrs as { transB: boolean }).transB])).toEqual([
      ['copy', false],
      ['copy', false],
      ['copy', false],
      ['w', false],
      ['u', true],
    ]);
    expect(copy).toBeLessThan(products[0]!.id);
    // the same values (the CPU sums a transposed operand in its own order: within float32 rounding)
    const want = evaluate(graph, ...args) as Tensor[];
    const got = evaluate(out, ...args) as Tensor[];
    got.forEach((g, k) => {
      const a = g.dataSync();
      const b = want[k]!.dataSync();
      expect(g.shape).toEqual(want[k]!.shape);
      a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThanOrEqual(1e-6));
    });
  });

  it('leaves a graph with no shared transposed operand as it is', () => {
    const graph = trace((x: Tensor, u: Tensor) => core.matmul(x, u, { transposeB: true }), args[2], args[1]);
    expect(transposeSharedOperands(graph)).toBe(graph);
  });
});
