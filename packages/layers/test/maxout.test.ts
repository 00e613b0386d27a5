import { add, checkGrad, DTypeError, matmul, maxout, normal, randomKey, ShapeError, sum, tanh, transpose, zeros, type Tensor } from '@tapestry/core';
import { linear, maxoutLinear } from '@tapestry/layers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose, f64 } from './helpers.js';

describe('maxoutLinear', () => {
  it("is the maximum over each unit's pieces of x Wᵀ + b, with nn.Linear(in, out·pieces) init bounds", () => {
    const layer = maxoutLinear({ inFeatures: 4, outFeatures: 3, pieces: 2, dtype: 'float64' });
    const p = layer.init(randomKey(0));
    expect(p.weight.shape).toEqual([6, 4]);
    expect(p.bias!.shape).toEqual([6]);
    expect(Math.max(...Array.from(p.weight.dataSync(), Math.abs))).toBeLessThanOrEqual(0.5);
    const x = normal(randomKey(1), [2, 5, 4], { dtype: 'float64' });
    const y = layer.apply(p, x);
    expect(y.shape).toEqual([2, 5, 3]);
    // by hand: unit j is the larger of rows 2j and 2j + 1 of the affine map
    const z = add(matmul(x, transpose(p.weight)), p.bias!).toArray() as number[][][];
    const want = z.map((row) => row.map((v) => [0, 1, 2].map((j) => Math.max(v[2 * j]!, v[2 * j + 1]!))));
    expectClose(y, want, 0, 'y');
    // the same parameters in an nn.Linear(4, 6), then maxout: the PyTorch recipe the state dict is for
    const asLinear = linear({ inFeatures: 4, outFeatures: 6, dtype: 'float64' });
    expectClose(y, maxout(asLinear.apply(asLinear.fromStateDict(layer.toStateDict(p)), x), 2), 0, 'via linear');
  });

  it('gradients equal finite differences for random sizes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 1000 }),
        (inFeatures, outFeatures, pieces, seed) => {
          const layer = maxoutLinear({ inFeatures, outFeatures, pieces, dtype: 'float64' });
          const p = layer.init(randomKey(seed));
          const x = normal(randomKey(seed + 1), [3, inFeatures], { dtype: 'float64' });
          // pieces of a unit closer than the finite-difference step would sit on a kink: such draws are skipped
          const z = add(matmul(x, transpose(p.weight)), p.bias!).toArray() as number[][];
          const gap = Math.min(
            ...z.flatMap((row) =>
              Array.from({ length: outFeatures }, (_, j) => {
                const group = row.slice(j * pieces, (j + 1) * pieces).sort((a, b) => b - a);
                return group.length > 1 ? group[0]! - group[1]! : Infinity;
              }),
            ),
          );
          fc.pre(gap > 1e-3);
          const r = checkGrad((q, v: Tensor) => sum(tanh(layer.apply(q, v))), [p, x]);
          expect(r.ok, r.message).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('has no bias with bias: false and round-trips its state dict', () => {
    const layer = maxoutLinear({ inFeatures: 3, outFeatures: 2, pieces: 4, bias: false });
    const p = layer.init(randomKey(2));
    expect(p.bias).toBeUndefined();
    expect(layer.apply(p, zeros([5, 3])).shape).toEqual([5, 2]);
    const q = layer.fromStateDict(layer.toStateDict(p));
    expect(Array.from(q.weight.dataSync())).toEqual(Array.from(p.weight.dataSync()));
    expect(layer.fromStateDict({ weight: Array.from({ length: 8 }, () => [0, 0, 0]) }).weight.shape).toEqual([8, 3]);
  });

  it('rejects bad options, inputs and state dicts naming maxoutLinear', () => {
    expect(() => maxoutLinear({ inFeatures: 3, outFeatures: 2, pieces: 0 })).toThrow(/maxoutLinear: pieces must be a positive integer, got 0/);
    expect(() => maxoutLinear({ inFeatures: 3, outFeatures: 2 } as never)).toThrow(/maxoutLinear: pieces must be a positive integer, got undefined/);
    const layer = maxoutLinear({ inFeatures: 3, outFeatures: 2, pieces: 2, dtype: 'float64' });
    const p = layer.init(randomKey(0));
    expect(() => layer.apply(p, zeros([4, 5], 'float64'))).toThrow(ShapeError);
    expect(() => layer.apply(p, zeros([4, 5], 'float64'))).toThrow(/maxoutLinear: x must be \[\.\.\., inFeatures\] = \[\.\.\., 3\], got \[4, 5\]/);
    expect(() => layer.apply(p, zeros([4, 3], 'float32'))).toThrow(DTypeError);
    expect(() => layer.apply({ weight: f64([[1, 2, 3]]) }, zeros([4, 3], 'float64'))).toThrow(
      /maxoutLinear: params.weight must be \[outFeatures · pieces, inFeatures\] = \[4, 3\], got \[1, 3\]/,
    );
    expect(() => layer.fromStateDict({ weight: zeros([2, 3], 'float64') })).toThrow(/maxoutLinear.fromStateDict/);
  });
});
