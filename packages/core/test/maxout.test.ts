/**
 * maxout: forward against a naive loop over groups, its gradient against central finite differences in
 * float64 (tie-free values, so every group has one strict maximum), and its argument errors.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ArgumentError, DTypeError, grad, maxout, ShapeError, sum, tensor, zeros, type Tensor } from '@tapestry/core';
import { distinctTensorArb, dim, RUNS, ravel, seedArb, sizeOf, snapshot, unravel } from './arbitraries.js';
import { expectVjpMatchesFiniteDifferences } from './grad-helpers.js';

/** A shape of rank 1–3 whose `axis` has size m · pieces, with that axis and pieces. */
const caseArb = fc
  .tuple(fc.array(dim, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.nat())
  .map(([shape, m, pieces, pick]) => {
    const a = pick % shape.length;
    const withGroups = shape.map((d, i) => (i === a ? m * pieces : d));
    // half the cases pass the axis negative
    const axis = pick % 2 === 0 ? a : a - shape.length;
    return { shape: withGroups, axis, a, pieces };
  });

/** y[..., j, ...] = max over k of x[..., j·pieces + k, ...], written out element by element. */
function naiveMaxout(x: Tensor, pieces: number, a: number): { shape: number[]; data: number[] } {
  const shape = x.shape.map((d, i) => (i === a ? d / pieces : d));
  const xs = x.dataSync();
  const data = Array.from({ length: sizeOf(shape) }, (_, flat) => {
    const index = unravel(flat, shape);
    let best = -Infinity;
    for (let k = 0; k < pieces; k++) {
      const source = index.slice();
      source[a] = index[a]! * pieces + k;
      best = Math.max(best, xs[ravel(source, x.shape)]!);
    }
    return best;
  });
  return { shape, data };
}

describe('maxout', () => {
  it('equals the maximum over groups of consecutive features (naive reference)', () => {
    fc.assert(
      fc.property(
        caseArb.chain((c) => fc.tuple(fc.constant(c), distinctTensorArb(c.shape))),
        ([c, x]) => {
          const before = snapshot(x);
          const y = maxout(x, c.pieces, c.axis);
          const want = naiveMaxout(x, c.pieces, c.a);
          expect(y.shape).toEqual(want.shape);
          expect(y.dtype).toBe('float64');
          expect(Array.from(y.dataSync())).toEqual(want.data);
          expect(snapshot(x)).toEqual(before);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('VJP matches finite differences (tie-free values)', () => {
    fc.assert(
      fc.property(
        caseArb.chain((c) => fc.tuple(fc.constant(c), distinctTensorArb(c.shape), seedArb)),
        ([c, x, seed]) => {
          expectVjpMatchesFiniteDifferences((v) => maxout(v, c.pieces, c.axis), [x], seed);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('groups consecutive features, defaults to the last axis, and is the identity with one piece', () => {
    const x = tensor([[1, 5, -2, 0, 3, 4]], { dtype: 'float64' });
    expect(maxout(x, 2).toArray()).toEqual([[5, 0, 4]]);
    expect(maxout(x, 3).toArray()).toEqual([[5, 4]]);
    expect(maxout(x, 6).toArray()).toEqual([[5]]);
    expect(maxout(x, 1).toArray()).toEqual(x.toArray());
    const columns = tensor([
      [1, 2],
      [4, 0],
      [3, 7],
      [-1, 8],
    ]);
    expect(maxout(columns, 2, 0).toArray()).toEqual([
      [4, 2],
      [3, 8],
    ]);
    expect(maxout(columns, 2, 0).dtype).toBe('float32');
  });

  it("sends the gradient to each group's maximum and shares it among exact ties", () => {
    const x = tensor([1, 5, 2, 2, 3, 4], { dtype: 'float64' });
    const g = grad((v: Tensor) => sum(maxout(v, 2)))(x) as Tensor;
    expect(Array.from(g.dataSync())).toEqual([0, 1, 0.5, 0.5, 0, 1]);
  });

  it('rejects a feature axis not divisible by pieces, bad pieces, a bad axis and non-float input', () => {
    const x = zeros([2, 10], 'float64');
    expect(() => maxout(x, 3)).toThrow(ShapeError);
    expect(() => maxout(x, 3)).toThrow(/maxout: axis 1 of x \[2, 10\] has 10 features, which is not divisible by pieces = 3/);
    expect(() => maxout(x, 3, 0)).toThrow(/maxout: axis 0 of x \[2, 10\] has 2 features, which is not divisible by pieces = 3/);
    expect(() => maxout(x, 0)).toThrow(ArgumentError);
    expect(() => maxout(x, 1.5)).toThrow(/maxout: pieces must be a positive integer, got 1.5/);
    expect(() => maxout(x, 2, 2)).toThrow(ShapeError);
    expect(() => maxout(x, 2, 2)).toThrow(/maxout: axis 2 is out of range for a tensor of rank 2/);
    expect(() => maxout(zeros([], 'float64'), 1)).toThrow(/maxout: x must have at least one axis/);
    expect(() => maxout(zeros([4], 'int32'), 2)).toThrow(DTypeError);
    expect(() => maxout([1, 2] as unknown as Tensor, 2)).toThrow(/maxout: x must be a Tensor/);
  });
});
