/** The static memory plan: no two live values share a buffer, and buffers are reused. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { grad, trace, type Tensor } from '@tapestry/core';
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
});
