/**
 * VJPs of the reductions (all axes and given axes, keepDims on and off) and of softmax / logSoftmax against
 * central finite differences. max and min get inputs without ties (their kinks).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { grad, logSoftmax, logSumExp, max, mean, min, softmax, sum, tensor, type Tensor } from '@tapestry/core';
import { axesArb, distinctTensorArb, RUNS, seedArb, shapeArb, tensorArb } from './arbitraries.js';
import { expectVjpMatchesFiniteDifferences } from './grad-helpers.js';

type Reduction = (x: Tensor, axis?: number | readonly number[], keepDims?: boolean) => Tensor;

/** The shape a reduction should produce, computed independently of core. */
function expectedShape(shape: readonly number[], axis: number | readonly number[] | undefined, keepDims: boolean): number[] {
  const rank = shape.length;
  const axes = axis === undefined ? shape.map((_, i) => i) : (typeof axis === 'number' ? [axis] : [...axis]).map((a) => (a + rank) % rank);
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

const reductions: [string, Reduction, boolean][] = [
  ['sum', sum, false],
  ['mean', mean, false],
  ['max', max, true],
  ['min', min, true],
  ['logSumExp', logSumExp, false],
];

describe('reduction VJPs match finite differences', () => {
  for (const [name, op, distinct] of reductions) {
    it(`${name} over all or given axes, keepDims on and off`, () => {
      fc.assert(
        fc.property(
          shapeArb(0, 3).chain((s) => fc.tuple(distinct ? distinctTensorArb(s) : tensorArb(s), axesArb(s.length), fc.boolean())),
          seedArb,
          ([x, axis, keepDims], seed) => {
            const y = expectVjpMatchesFiniteDifferences((x) => op(x, axis, keepDims), [x], seed);
            expect(y.shape).toEqual(expectedShape(x.shape, axis, keepDims));
          },
        ),
        { numRuns: RUNS },
      );
    });
  }

  it('max and min share the gradient evenly among ties', () => {
    const x = tensor(
      [
        [3, 1, 3],
        [0, 0, -1],
      ],
      { dtype: 'float64' },
    );
    expect((grad((x: Tensor) => sum(max(x, 1)))(x) as Tensor).toArray()).toEqual([
      [0.5, 0, 0.5],
      [0.5, 0.5, 0],
    ]);
    expect((grad((x: Tensor) => sum(min(x, 1)))(x) as Tensor).toArray()).toEqual([
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect((grad((x: Tensor) => max(x))(x) as Tensor).toArray()).toEqual([
      [0.5, 0, 0.5],
      [0, 0, 0],
    ]);
  });

  it('logSumExp is stable for large inputs and its gradient is the softmax', () => {
    const x = tensor([1000, 1000, 999], { dtype: 'float64' });
    const expected = 1000 + Math.log(2 + Math.exp(-1));
    expect(logSumExp(x).item()).toBeCloseTo(expected, 10);
    const g = grad((x: Tensor) => logSumExp(x))(x) as Tensor;
    const z = 2 + Math.exp(-1);
    const expectedGrad = [1 / z, 1 / z, Math.exp(-1) / z];
    Array.from(g.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expectedGrad[i]!, 14));
  });
});

describe('softmax and logSoftmax VJPs match finite differences', () => {
  for (const [name, op] of [
    ['softmax', softmax],
    ['logSoftmax', logSoftmax],
  ] as const) {
    it(`${name} along a random axis`, () => {
      fc.assert(
        fc.property(
          shapeArb(1, 3).chain((s) => fc.tuple(tensorArb(s), fc.integer({ min: -s.length, max: s.length - 1 }))),
          seedArb,
          ([x, axis], seed) => {
            const y = expectVjpMatchesFiniteDifferences((x) => op(x, axis), [x], seed);
            expect(y.shape).toEqual(x.shape);
          },
        ),
        { numRuns: RUNS },
      );
    });
  }

  it('softmax sums to 1 along its axis and logSoftmax is its log', () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3).chain((s) => fc.tuple(tensorArb(s, { min: -30, max: 30 }), fc.integer({ min: 0, max: s.length - 1 }))),
        ([x, axis]) => {
          const totals = sum(softmax(x, axis), axis).dataSync();
          totals.forEach((t) => expect(Math.abs(t - 1)).toBeLessThan(1e-12));
          const p = softmax(x, axis).dataSync();
          const lp = logSoftmax(x, axis).dataSync();
          p.forEach((v, i) => expect(Math.abs(Math.log(v) - lp[i]!)).toBeLessThan(1e-9));
        },
      ),
      { numRuns: RUNS },
    );
  });
});
