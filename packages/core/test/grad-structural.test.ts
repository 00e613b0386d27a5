/**
 * VJPs of matmul and the structural ops (reshape, transpose, expandDims, squeeze, broadcastTo, slice,
 * concat, stack, split, gather, indexSelect) against central finite differences, with output shapes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  abs,
  broadcastTo,
  cast,
  concat,
  expandDims,
  gather,
  grad,
  indexSelect,
  matmul,
  mul,
  reshape,
  slice,
  split,
  squeeze,
  stack,
  sum,
  tensor,
  transpose,
  type Tensor,
} from '@tapestry/core';
import { broadcastableTo, dim, indicesArb, matmulShapes, permutationArb, RUNS, seedArb, shapeArb, tensorArb, weights } from './arbitraries.js';
import { expectVjpMatchesFiniteDifferences } from './grad-helpers.js';

describe('matmul', () => {
  it('VJP matches finite differences (1-D promotion, batched, broadcast batch axes)', () => {
    fc.assert(
      fc.property(
        matmulShapes.chain((s) => fc.tuple(fc.constant(s), tensorArb(s.a), tensorArb(s.b))),
        seedArb,
        ([shapes, a, b], seed) => {
          const y = expectVjpMatchesFiniteDifferences((x: Tensor, y: Tensor) => matmul(x, y), [a, b], seed);
          expect(y.shape).toEqual(shapes.out);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('VJP matches finite differences for larger operands (every kernel loop, both transposed products)', () => {
    fc.assert(
      fc.property(
        fc
          .tuple(fc.integer({ min: 3, max: 9 }), fc.integer({ min: 3, max: 9 }), fc.integer({ min: 3, max: 9 }))
          .chain(([m, k, n]) => fc.tuple(tensorArb([m, k]), tensorArb([k, n]))),
        seedArb,
        ([a, b], seed) => {
          expectVjpMatchesFiniteDifferences((x: Tensor, y: Tensor) => matmul(x, y), [a, b], seed);
        },
      ),
      { numRuns: 10 },
    );
  });

  it('float32 gradients of larger products agree with float64 within the rounding bound', () => {
    const magnitudes = (x: Tensor) => abs(cast(x, 'float64'));
    fc.assert(
      fc.property(
        fc
          .tuple(fc.integer({ min: 8, max: 40 }), fc.integer({ min: 8, max: 40 }), fc.integer({ min: 8, max: 40 }))
          .chain(([m, k, n]) => fc.tuple(tensorArb([m, k]), tensorArb([k, n]))),
        seedArb,
        ([a64, b64], seed) => {
          const [a, b] = [cast(a64, 'float32'), cast(b64, 'float32')];
          const w = cast(weights([a.shape[0]!, b.shape[1]!], seed), 'float32');
          const f = (a: Tensor, b: Tensor, w: Tensor) => sum(mul(matmul(a, b), w));
          const [ga, gb] = grad(f, [0, 1])(a, b, w) as Tensor[];
          const [ea, eb] = grad(f, [0, 1])(cast(a, 'float64'), cast(b, 'float64'), cast(w, 'float64')) as Tensor[];
          // dA = W Bᵀ sums n products, dB = Aᵀ W sums m products
          const boundA = matmul(magnitudes(w), transpose(magnitudes(b))).dataSync();
          const boundB = matmul(transpose(magnitudes(a)), magnitudes(w)).dataSync();
          const [m, n] = [a.shape[0]!, b.shape[1]!];
          ga!.dataSync().forEach((v, i) => expect(Math.abs(v - ea!.dataSync()[i]!)).toBeLessThanOrEqual((n + 2) * 2 ** -24 * boundA[i]! + 1e-30));
          gb!.dataSync().forEach((v, i) => expect(Math.abs(v - eb!.dataSync()[i]!)).toBeLessThanOrEqual((m + 2) * 2 ** -24 * boundB[i]! + 1e-30));
        },
      ),
      { numRuns: 10 },
    );
  });
});

describe('reshape-like ops', () => {
  it('reshape to a shuffled factorisation, with and without -1', () => {
    fc.assert(
      fc.property(
        shapeArb(0, 3).chain((s) =>
          fc.tuple(tensorArb(s), permutationArb(s.length), fc.integer({ min: 0, max: 2 }), fc.integer({ min: -1, max: s.length - 1 })),
        ),
        seedArb,
        ([x, perm, ones, inferred], seed) => {
          const target = [...perm.map((p) => x.shape[p]!), ...new Array<number>(ones).fill(1)];
          const requested = target.map((d, i) => (i === inferred ? -1 : d));
          const y = expectVjpMatchesFiniteDifferences((x) => reshape(x, requested), [x], seed);
          expect(y.shape).toEqual(target);
          expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('transpose by a random permutation, and by default (reversed axes)', () => {
    fc.assert(
      fc.property(
        shapeArb(0, 3).chain((s) => fc.tuple(tensorArb(s), permutationArb(s.length))),
        seedArb,
        ([x, perm], seed) => {
          const y = expectVjpMatchesFiniteDifferences((x) => transpose(x, perm), [x], seed);
          expect(y.shape).toEqual(perm.map((p) => x.shape[p]));
          const z = expectVjpMatchesFiniteDifferences((x) => transpose(x), [x], seed);
          expect(z.shape).toEqual([...x.shape].reverse());
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('expandDims at every valid axis (negative counts from the end of the result)', () => {
    fc.assert(
      fc.property(
        shapeArb(0, 3).chain((s) => fc.tuple(tensorArb(s), fc.integer({ min: -s.length - 1, max: s.length }))),
        seedArb,
        ([x, axis], seed) => {
          const y = expectVjpMatchesFiniteDifferences((x) => expandDims(x, axis), [x], seed);
          const at = axis < 0 ? axis + x.rank + 1 : axis;
          expect(y.shape).toEqual([...x.shape.slice(0, at), 1, ...x.shape.slice(at)]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('squeeze all size-1 axes or a chosen one', () => {
    const withOnes = fc.array(fc.oneof(fc.constant(1), dim), { minLength: 0, maxLength: 4 }).chain((s) => {
      const unitAxes = s.flatMap((d, i) => (d === 1 ? [i, i - s.length] : []));
      return fc.tuple(tensorArb(s), unitAxes.length === 0 ? fc.constant(null) : fc.option(fc.constantFrom(...unitAxes)));
    });
    fc.assert(
      fc.property(withOnes, seedArb, ([x, axis], seed) => {
        const chosen = axis ?? undefined;
        const y = expectVjpMatchesFiniteDifferences((x) => squeeze(x, chosen), [x], seed);
        const at = chosen === undefined ? -1 : (chosen + x.rank) % x.rank;
        expect(y.shape).toEqual(x.shape.filter((d, i) => (chosen === undefined ? d !== 1 : i !== at)));
      }),
      { numRuns: RUNS },
    );
  });

  it('broadcastTo sums the gradient back over repeated axes', () => {
    fc.assert(
      fc.property(
        shapeArb(0, 3).chain((out) =>
          fc.tuple(
            fc.constant(out),
            broadcastableTo(out).chain((s) => tensorArb(s)),
          ),
        ),
        seedArb,
        ([out, x], seed) => {
          const y = expectVjpMatchesFiniteDifferences((x) => broadcastTo(x, out), [x], seed);
          expect(y.shape).toEqual(out);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('slice, concat, stack, split', () => {
  it('slice of a random block (size -1: to the end; short lists cover leading axes)', () => {
    const sliceCase = shapeArb(1, 3).chain((s) =>
      fc.tuple(
        tensorArb(s),
        fc.tuple(...s.map((d) => fc.integer({ min: 0, max: d - 1 }).chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: -1, max: d - b }))))),
        fc.integer({ min: 0, max: s.length }),
      ),
    );
    fc.assert(
      fc.property(sliceCase, seedArb, ([x, spec, given], seed) => {
        const begin = spec.slice(0, given).map(([b]) => b);
        const size = spec.slice(0, given).map(([, n]) => n);
        const y = expectVjpMatchesFiniteDifferences((x) => slice(x, begin, size), [x], seed);
        expect(y.shape).toEqual(x.shape.map((d, i) => (i < given ? (size[i] === -1 ? d - begin[i]! : size[i]) : d)));
      }),
      { numRuns: RUNS },
    );
  });

  it('concat of 1–3 tensors that differ along the axis', () => {
    const concatCase = shapeArb(1, 3).chain((s) =>
      fc.integer({ min: 0, max: s.length - 1 }).chain((axis) =>
        fc.tuple(
          fc.constant(axis),
          fc.array(
            dim.chain((d) => tensorArb(s.map((v, i) => (i === axis ? d : v)))),
            { minLength: 1, maxLength: 3 },
          ),
          fc.boolean(),
        ),
      ),
    );
    fc.assert(
      fc.property(concatCase, seedArb, ([axis, xs, negative], seed) => {
        const ax = negative ? axis - xs[0]!.rank : axis;
        const y = expectVjpMatchesFiniteDifferences((...xs) => concat(xs, ax), xs, seed);
        const expected = xs[0]!.shape.slice();
        expected[axis] = xs.reduce((t, x) => t + x.shape[axis]!, 0);
        expect(y.shape).toEqual(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it('stack of 1–3 same-shaped tensors along a new axis', () => {
    const stackCase = shapeArb(0, 2).chain((s) =>
      fc.tuple(fc.array(tensorArb(s), { minLength: 1, maxLength: 3 }), fc.integer({ min: -s.length - 1, max: s.length })),
    );
    fc.assert(
      fc.property(stackCase, seedArb, ([xs, axis], seed) => {
        const y = expectVjpMatchesFiniteDifferences((...xs) => stack(xs, axis), xs, seed);
        const at = axis < 0 ? axis + xs[0]!.rank + 1 : axis;
        expect(y.shape).toEqual([...xs[0]!.shape.slice(0, at), xs.length, ...xs[0]!.shape.slice(at)]);
      }),
      { numRuns: RUNS },
    );
  });

  it('split into equal parts or given sizes; every part carries its gradient back', () => {
    const splitCase = shapeArb(1, 3).chain((s) =>
      fc
        .integer({ min: 0, max: s.length - 1 })
        .chain((axis) =>
          fc.tuple(
            tensorArb(s.map((d, i) => (i === axis ? d * 2 : d))),
            fc.constant(axis),
            fc.oneof(
              fc.constant<number | number[]>(2),
              fc.constant<number | number[]>(1),
              fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }),
            ),
          ),
        ),
    );
    fc.assert(
      fc.property(splitCase, seedArb, ([x, axis, spec], seed) => {
        const n = x.shape[axis]!;
        // turn a list of sizes into one that adds up to the axis size (the last part takes the rest)
        const sizes = typeof spec === 'number' ? spec : [...spec.map((v) => Math.min(v, n)), 0];
        if (typeof sizes !== 'number') {
          let rest = n;
          for (let i = 0; i < sizes.length - 1; i++) rest -= sizes[i] = Math.min(sizes[i]!, rest);
          sizes[sizes.length - 1] = rest;
        }
        const parts = split(x, sizes, axis);
        const expectedSizes = typeof sizes === 'number' ? new Array<number>(sizes).fill(n / sizes) : sizes;
        expect(parts.map((p) => p.shape)).toEqual(expectedSizes.map((k) => x.shape.map((d, i) => (i === axis ? k : d))));
        // each part scaled differently, so a part's gradient landing in the wrong place is caught
        expectVjpMatchesFiniteDifferences(
          (x) =>
            concat(
              split(x, sizes, axis).map((p, i) => mul(p, i + 1)),
              axis,
            ),
          [x],
          seed,
        );
      }),
      { numRuns: RUNS },
    );
  });
});

describe('gather and indexSelect', () => {
  it('gather with indices of rank 0–2 along a random axis; repeated indices accumulate', () => {
    const gatherCase = shapeArb(1, 3).chain((s) =>
      fc.integer({ min: 0, max: s.length - 1 }).chain((axis) =>
        fc.tuple(
          tensorArb(s),
          fc.constant(axis),
          shapeArb(0, 2).chain((is) => indicesArb(is, s[axis]!)),
          fc.boolean(),
        ),
      ),
    );
    fc.assert(
      fc.property(gatherCase, seedArb, ([x, axis, indices, negative], seed) => {
        const ax = negative ? axis - x.rank : axis;
        const y = expectVjpMatchesFiniteDifferences((x) => gather(x, indices, ax), [x], seed);
        expect(y.shape).toEqual([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)]);
      }),
      { numRuns: RUNS },
    );
  });

  it('indexSelect along a random axis', () => {
    const selectCase = shapeArb(1, 3).chain((s) =>
      fc.integer({ min: 0, max: s.length - 1 }).chain((axis) =>
        fc.tuple(
          tensorArb(s),
          fc.constant(axis),
          fc.integer({ min: 1, max: 6 }).chain((k) => indicesArb([k], s[axis]!)),
        ),
      ),
    );
    fc.assert(
      fc.property(selectCase, seedArb, ([x, axis, indices], seed) => {
        const y = expectVjpMatchesFiniteDifferences((x) => indexSelect(x, axis, indices), [x], seed);
        expect(y.shape).toEqual(x.shape.map((d, i) => (i === axis ? indices.size : d)));
      }),
      { numRuns: RUNS },
    );
  });

  it('the gradient of a row counts how often it was picked', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((n) => fc.tuple(fc.constant(n), indicesArb([8], n))),
        ([n, indices]) => {
          const table = tensor(new Float64Array(n * 2), { shape: [n, 2] });
          const g = grad((t: Tensor) => sum(gather(t, indices)))(table) as Tensor;
          const counts = new Array<number>(n).fill(0);
          indices.dataSync().forEach((i) => counts[i]!++);
          expect(g.toArray()).toEqual(counts.map((c) => [c, c]));
        },
      ),
      { numRuns: RUNS },
    );
  });
});
