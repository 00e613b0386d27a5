/** The static memory plan: no two live values share a buffer, and buffers are reused. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { add, concat, exp, grad, jit, matmul, mul, reshape, sigmoid, slice, sum, tanh, trace, type Tensor } from '@tapestry/core';
import { compileGraph } from '../../src/graph/compile.js';
import { optimize } from '../../src/graph/optimize.js';
import { programArb, programLoss, runProgram, valuesFor } from './programs.js';
import { lstmParams, sequenceLoss } from './lstm.js';

/** Asserts that values sharing a buffer are never live at the same step. */
function expectNoOverlap(compiled: ReturnType<typeof compileGraph>): void {
  const { bufferOf, defined, lastUse } = compiled.memory;
  const byBuffer = new Map<number, number[]>();
  bufferOf.forEach((b, id) => {
    if (b >= 0) byBuffer.set(b, [...(byBuffer.get(b) ?? []), id]);
  });
  for (const ids of byBuffer.values()) {
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        const [a, b] = [ids[i]!, ids[j]!];
        const apart = lastUse[a]! < defined[b]! || lastUse[b]! < defined[a]!;
        expect(apart, `%${a} [${defined[a]}, ${lastUse[a]}] and %${b} [${defined[b]}, ${lastUse[b]}] share buffer ${bufferOf[a]}`).toBe(true);
      }
    }
  }
  // and each buffer is large enough for every value it holds
  bufferOf.forEach((b, id) => {
    if (b < 0) return;
    const size = compiled.graph.nodes[id]!.shape.reduce((p, d) => p * d, 1);
    expect(compiled.memory.buffers[b]!.size).toBeGreaterThanOrEqual(size);
  });
}

describe('memory plan', () => {
  it('never lets two live values share a buffer (random programs and their gradients, fused or not)', () => {
    fc.assert(
      fc.property(programArb, fc.boolean(), ({ shapes, program, seed }, fuse) => {
        const args = [valuesFor(shapes[0]!, seed, 'float64'), valuesFor(shapes[1]!, seed + 1, 'float64')];
        expectNoOverlap(compileGraph(optimize(trace((x: Tensor, y: Tensor) => runProgram(program, [x, y]), ...args)), { fuse }));
        const g = grad((x: Tensor, y: Tensor) => programLoss(program, [x, y]), [0, 1]);
        expectNoOverlap(compileGraph(optimize(trace(g, ...args)), { fuse }));
      }),
      { numRuns: 60 },
    );
  });

  it('reuses buffers: an unrolled LSTM backward pass needs far fewer buffers than values', () => {
    const p = lstmParams(3, 4, 'float64');
    const xs = valuesFor([2, 8, 3], 1, 'float64');
    const ys = valuesFor([2, 8, 4], 2, 'float64');
    const compiled = compileGraph(optimize(trace(grad(sequenceLoss), p, xs, ys)));
    expectNoOverlap(compiled);
    // in elements: one buffer per value would hold every pooled value's; reuse holds about half of that
    // (the forward values kept for the backward pass stay live, one set per step)
    let pooled = 0;
    compiled.memory.bufferOf.forEach((b, id) => {
      if (b >= 0) pooled += compiled.graph.nodes[id]!.shape.reduce((p, d) => p * d, 1);
    });
    const held = compiled.memory.buffers.reduce((total, b) => total + b.size, 0);
    expect(held).toBeLessThan(0.55 * pooled);
  });

  it('reads contiguous slices of pooled values in place (windows), keeps their buffer live, and copies the rest', () => {
    // a [T, N, F] value read step by step (x_t: a window), x_t's rows (windows of a window, one through a
    // reshape), and a column (not contiguous: a copy); the buffer is reused only after its last window is read
    const f = (x: Tensor) => {
      const y = tanh(x);
      let acc = sum(slice(y, [0, 0, 1], [4, 3, 1]));
      for (let t = 0; t < 4; t++) {
        const step = slice(y, [t, 0, 0], [1, 3, 5]);
        const row = slice(reshape(step, [3, 5]), [1, 0], [2, 5]);
        acc = add(acc, sum(mul(exp(step), t + 1)));
        acc = add(acc, sum(mul(row, slice(row, [1, 0], [1, 5]))));
      }
      return mul(tanh(acc), exp(slice(y, [3, 2, 0], [1, 1, 5])));
    };
    for (const dtype of ['float32', 'float64'] as const) {
      const x = valuesFor([4, 3, 5], 3, dtype);
      const compiled = compileGraph(optimize(trace(f, x)));
      expectNoOverlap(compiled);
      const kinds = compiled.graph.nodes.filter((n) => n.op === 'slice').map((n) => compiled.schedule.storage[n.id]);
      // every slice but the column is a window
      expect(kinds.filter((k) => k === 'window').length).toBe(kinds.length - 1);
      expect(kinds.filter((k) => k !== 'window')).toEqual(['pooled']);
      expect(jit(f)(x).toArray()).toEqual(f(x).toArray());
      expect(jit(grad((v: Tensor) => sum(f(v))))(x).toArray()).toEqual(grad((v: Tensor) => sum(f(v)))(x).toArray());
    }
  });

  it("reads slices that only fused groups read in place (views), keeps what they slice live, and gives eager's bits", () => {
    // an LSTM-like step: four column blocks of a product (its gates) and a column block of an input feed one
    // fused group (views); a block a matmul reads is copied
    const f = (x: Tensor, w: Tensor, v: Tensor) => {
      const gates = matmul(x, w); // [5, 8]
      const [i, g, o] = [0, 2, 4].map((at) => slice(gates, [0, at], [5, 2]));
      const c = add(mul(sigmoid(i!), tanh(g!)), mul(slice(gates, [0, 6], [5, 2]), slice(x, [0, 1], [5, 2])));
      const h = mul(sigmoid(o!), tanh(c));
      return add(sum(mul(h, h)), sum(matmul(slice(gates, [0, 1], [5, 3]), v)));
    };
    for (const dtype of ['float32', 'float64'] as const) {
      const args = [valuesFor([5, 3], 8, dtype), valuesFor([3, 8], 9, dtype), valuesFor([3, 2], 10, dtype)] as const;
      const compiled = compileGraph(optimize(trace(f, ...args)));
      expectNoOverlap(compiled);
      const { schedule, memory, graph } = compiled;
      const slices = graph.nodes.filter((n) => n.op === 'slice');
      expect(slices.map((n) => schedule.storage[n.id])).toEqual(['view', 'view', 'view', 'view', 'view', 'pooled']);
      const stepped = new Set(schedule.steps.flatMap((step) => (step.kind === 'node' ? [step.id] : [])));
      for (const n of slices) expect(stepped.has(n.id)).toBe(schedule.storage[n.id] !== 'view');
      // the product stays live until the group that reads its blocks has run
      const product = graph.nodes.find((n) => n.op === 'matmul' && n.shape.join() === '5,8')!;
      const group = schedule.steps.findIndex((step) => step.kind === 'group' && step.group.members.some((m) => graph.nodes[m]!.op === 'sigmoid'));
      expect(memory.lastUse[product.id]).toBeGreaterThanOrEqual(group);
      expect(schedule.views.get(slices[1]!.id)).toEqual({ offset: 2, strides: [8, 1] });
      expect(jit(f)(...args).toArray()).toEqual(f(...args).toArray());
      const arrays = (ts: Tensor[]) => ts.map((t) => t.toArray());
      expect(arrays(jit(grad(f, [0, 1, 2]))(...args) as Tensor[])).toEqual(arrays(grad(f, [0, 1, 2])(...args) as Tensor[]));
    }
  });

  it('computes the values a concat stacks straight into their place in it, and keeps its buffer live from the first', () => {
    // per-step values stacked along the first axis (as product accumulation stacks per-step gradients), each
    // also read on its own after others are written; a concat along the second axis copies as before
    const f = (x: Tensor, w: Tensor) => {
      const steps: Tensor[] = [];
      let carry = sum(x);
      for (let t = 0; t < 3; t++) {
        const v = mul(tanh(slice(x, [t, 0, 0], [1, 4, 5])), add(carry, t));
        steps.push(v);
        carry = sum(mul(v, v));
      }
      const stacked = concat(steps, 0); // [3, 4, 5]: contiguous blocks
      // contiguous blocks too, but of values already placed in the stack: copied
      const side = concat([steps[0]!, steps[2]!], 1);
      // [4, 10]: rows of the two interleaved, copied
      const wide = concat([reshape(steps[1]!, [4, 5]), reshape(steps[2]!, [4, 5])], 1);
      return add(sum(matmul(reshape(stacked, [12, 5]), w)), add(mul(sum(side), carry), sum(exp(wide))));
    };
    for (const dtype of ['float32', 'float64'] as const) {
      const x = valuesFor([3, 4, 5], 5, dtype);
      const w = valuesFor([5, 2], 6, dtype);
      const compiled = compileGraph(optimize(trace(f, x, w)));
      expectNoOverlap(compiled);
      const concats = compiled.graph.nodes.filter((n) => n.op === 'concat');
      const stepped = new Set(compiled.schedule.steps.flatMap((s) => (s.kind === 'node' ? [s.id] : [])));
      // the stack is assembled by its inputs' steps (no step of its own), the row-interleaving concat copies
      const assembled = concats.filter((c) => !stepped.has(c.id));
      expect(assembled.length).toBeGreaterThanOrEqual(1);
      expect(concats.some((c) => stepped.has(c.id))).toBe(true);
      for (const c of assembled) for (const i of c.inputs) expect(compiled.schedule.storage[i]).toBe('window');
      expect(jit(f)(x, w).toArray()).toEqual(f(x, w).toArray());
      const loss = (a: Tensor, b: Tensor) => f(a, b);
      const arrays = (ts: Tensor[]) => ts.map((t) => t.toArray());
      expect(arrays(jit(grad(loss, [0, 1]))(x, w) as Tensor[])).toEqual(arrays(grad(loss, [0, 1])(x, w) as Tensor[]));
    }
  });
});
