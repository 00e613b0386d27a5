/**
 * VJPs of the binary primitives (and where) against central finite differences, on random broadcast-
 * compatible shapes, including shapes that broadcast to one neither has ([3, 1] with [4]).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { add, div, equal, grad, greater, maximum, minimum, mul, pow, sub, sum, tensor, where, type Tensor } from '@tapestry/core';
import { broadcastPair, broadcastTriple, indicesArb, naiveBroadcastShape, RUNS, seedArb, sizeOf, tensorArb, type ValueOptions } from './arbitraries.js';
import { expectVjpMatchesFiniteDifferences } from './grad-helpers.js';

/** A float64 tensor of the given shape with values on the grid (k + offset) / 100, |k| ≤ 300. */
function gridTensor(shape: number[], offset: number): fc.Arbitrary<Tensor> {
  const n = sizeOf(shape);
  return fc
    .array(fc.integer({ min: -300, max: 300 }), { minLength: n, maxLength: n })
    .map((ks) => tensor(new Float64Array(ks.map((k) => (k + offset) / 100)), { shape }));
}

const cases: [string, (a: Tensor, b: Tensor) => Tensor, ValueOptions, ValueOptions][] = [
  ['add', add, {}, {}],
  ['sub', sub, {}, {}],
  ['mul', mul, {}, {}],
  // the divisor stays away from 0
  ['div', div, {}, { avoid: [0], margin: 0.3 }],
  // a positive base, so a^b and log(a) are defined for both gradients
  ['pow', pow, { min: 0.2, max: 3 }, { min: -2, max: 2 }],
];

describe('binary VJPs match finite differences with broadcasting', () => {
  for (const [name, op, aValues, bValues] of cases) {
    it(name, () => {
      fc.assert(
        fc.property(
          broadcastPair.chain(([sa, sb]) => fc.tuple(tensorArb(sa, aValues), tensorArb(sb, bValues))),
          seedArb,
          ([a, b], seed) => {
            const y = expectVjpMatchesFiniteDifferences(op, [a, b], seed);
            expect(y.shape).toEqual(naiveBroadcastShape(a.shape, b.shape));
          },
        ),
        { numRuns: RUNS },
      );
    });
  }

  it('pow with a negative base and an integer exponent: the base gradient', () => {
    fc.assert(
      fc.property(
        broadcastPair.chain(([sa, sb]) =>
          fc.tuple(
            tensorArb(sa, { min: -3, max: 3, avoid: [0], margin: 0.2 }),
            fc.array(fc.integer({ min: 1, max: 4 }), { minLength: sizeOf(sb), maxLength: sizeOf(sb) }).map((v) => tensor(new Float64Array(v), { shape: sb })),
          ),
        ),
        seedArb,
        ([a, b], seed) => {
          expectVjpMatchesFiniteDifferences(pow, [a, b], seed, 0);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('pow gradients at the edges (zero and negative bases, zero exponents) match PyTorch', () => {
    // from torch 1.13: torch.pow(a, b).sum().backward() in float64
    const a = tensor([-2, 0, 0, 2, 0, -1.5, -2], { dtype: 'float64' });
    const b = tensor([2, 2, -1, 0.5, 0, 0, 3], { dtype: 'float64' });
    const [ga, gb] = grad((a: Tensor, b: Tensor) => sum(pow(a, b)), [0, 1])(a, b) as Tensor[];
    // finite values agree to the last bit or two (JS and C pow may round differently); NaN and ±Infinity exactly
    const matches = (actual: Tensor, expected: number[]) =>
      Array.from(actual.dataSync()).forEach((v, i) => {
        const e = expected[i]!;
        if (Number.isFinite(e)) expect(Math.abs(v - e), `element ${i}: ${v} vs ${e}`).toBeLessThanOrEqual(2e-16 * Math.abs(e));
        else expect(v, `element ${i}`).toBe(e);
      });
    matches(ga!, [-4, 0, -Infinity, 0.3535533905932738, 0, 0, 12]);
    matches(gb!, [NaN, 0, -Infinity, 0.9802581434685472, 0, NaN, NaN]);
  });

  it('operands given as plain numbers', () => {
    fc.assert(
      fc.property(tensorArb([2, 3], { min: 0.2, max: 3 }), seedArb, (x, seed) => {
        expectVjpMatchesFiniteDifferences((x) => pow(2.5, x), [x], seed);
        expectVjpMatchesFiniteDifferences((x) => pow(x, 3), [x], seed);
        expectVjpMatchesFiniteDifferences((x) => div(1, x), [x], seed);
        expectVjpMatchesFiniteDifferences((x) => sub(1, x), [x], seed);
        expectVjpMatchesFiniteDifferences((x) => mul(x, -1.5), [x], seed);
      }),
      { numRuns: RUNS },
    );
  });

  for (const [name, op] of [
    ['maximum', maximum],
    ['minimum', minimum],
  ] as const) {
    it(`${name} (no ties: the operands live on disjoint grids)`, () => {
      fc.assert(
        fc.property(
          broadcastPair.chain(([sa, sb]) => fc.tuple(gridTensor(sa, 0), gridTensor(sb, 0.5))),
          seedArb,
          ([a, b], seed) => {
            const y = expectVjpMatchesFiniteDifferences(op, [a, b], seed);
            expect(y.shape).toEqual(naiveBroadcastShape(a.shape, b.shape));
          },
        ),
        { numRuns: RUNS },
      );
    });
  }

  it('maximum and minimum split the gradient evenly on ties, as PyTorch does', () => {
    const a = tensor([1, 2, 3], { dtype: 'float64' });
    const b = tensor([1, 5, 0], { dtype: 'float64' });
    const [ga, gb] = grad((a: Tensor, b: Tensor) => sum(maximum(a, b)), [0, 1])(a, b) as Tensor[];
    expect(Array.from(ga!.dataSync())).toEqual([0.5, 0, 1]);
    expect(Array.from(gb!.dataSync())).toEqual([0.5, 1, 0]);
    const [ha, hb] = grad((a: Tensor, b: Tensor) => sum(minimum(a, b)), [0, 1])(a, b) as Tensor[];
    expect(Array.from(ha!.dataSync())).toEqual([0.5, 1, 0]);
    expect(Array.from(hb!.dataSync())).toEqual([0.5, 0, 1]);
  });

  it('where: both branches, with three-way broadcasting; the mask gets no gradient', () => {
    fc.assert(
      fc.property(
        broadcastTriple.chain(([sc, sa, sb]) => fc.tuple(indicesArb(sc, 2), tensorArb(sa), tensorArb(sb))),
        seedArb,
        ([cond, a, b], seed) => {
          const y = expectVjpMatchesFiniteDifferences((a, b) => where(cond, a, b), [a, b], seed);
          expect(y.shape).toEqual(naiveBroadcastShape(cond.shape, a.shape, b.shape));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a value used twice accumulates its gradient (x · x, x + x)', () => {
    fc.assert(
      // away from 0, where the where(x > 0, …) case has its kink
      fc.property(
        broadcastPair.chain(([s]) => tensorArb(s, { avoid: [0] })),
        seedArb,
        (x, seed) => {
          expectVjpMatchesFiniteDifferences((x) => mul(x, x), [x], seed);
          expectVjpMatchesFiniteDifferences((x) => add(x, sub(x, mul(x, x))), [x], seed);
          expectVjpMatchesFiniteDifferences((x) => where(greater(x, 0), mul(x, 2), x), [x], seed);
          expectVjpMatchesFiniteDifferences((x) => where(equal(x, x), x, 0), [x], seed);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
