/** The static memory plan: no two live values share a buffer, and buffers are reused. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { add, exp, grad, jit, mul, reshape, slice, sum, tanh, trace, type Tensor } from '@tapestry/core';
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
    const pooled = compiled.memory.bufferOf.filter((b) => b >= 0).length;
    expect(compiled.memory.buffers.length).toBeLessThan(pooled / 2);
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
});
