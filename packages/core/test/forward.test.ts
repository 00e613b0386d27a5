/**
 * Forward values against straightforward JS reference implementations: broadcasting elementwise ops,
 * matmul (a naive triple loop), reductions (naive loops), transpose (naive index mapping), and the
 * non-differentiable ops (comparisons, argmax, oneHot, isFinite, sign), whose gradients are zero.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  abs,
  add,
  argmax,
  cast,
  div,
  elu,
  equal,
  exp,
  gather,
  grad,
  greater,
  greaterEqual,
  isFinite,
  leakyRelu,
  less,
  lessEqual,
  expm1,
  log,
  log1p,
  logSumExp,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  neg,
  notEqual,
  oneHot,
  pow,
  relu,
  sigmoid,
  sign,
  softplus,
  sqrt,
  square,
  sub,
  sum,
  tanh,
  tensor,
  transpose,
  where,
  type Tensor,
} from '@tapestry/core';
import {
  axesArb,
  broadcastPair,
  broadcastSource,
  indicesArb,
  matmulShapes,
  naiveBroadcastShape,
  permutationArb,
  ravel,
  RUNS,
  shapeArb,
  sizeOf,
  tensorArb,
  unravel,
} from './arbitraries.js';

/** Values on a coarse grid, so that equal elements (ties) are common. */
function coarseTensor(shape: number[]): fc.Arbitrary<Tensor> {
  const n = sizeOf(shape);
  return fc.array(fc.integer({ min: -2, max: 2 }), { minLength: n, maxLength: n }).map((v) => tensor(new Float64Array(v.map((k) => k / 2)), { shape }));
}

/** `op` applied elementwise with broadcasting, the slow and obvious way. */
function naiveBinary(a: Tensor, b: Tensor, op: (x: number, y: number) => number): number[] {
  const out = naiveBroadcastShape(a.shape, b.shape);
  const da = a.dataSync();
  const db = b.dataSync();
  return Array.from({ length: sizeOf(out) }, (_, i) => {
    const index = unravel(i, out);
    return op(da[broadcastSource(index, a.shape)]!, db[broadcastSource(index, b.shape)]!);
  });
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (Number.isNaN(e) || !Number.isFinite(e)) expect(a).toBe(e);
    else expect(Math.abs(a - e), `element ${i}: ${a} vs ${e}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e)));
  }
}

describe('broadcasting elementwise ops match a naive reference', () => {
  const ops: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number][] = [
    ['add', add, (x, y) => x + y],
    ['sub', sub, (x, y) => x - y],
    ['mul', mul, (x, y) => x * y],
    ['div', div, (x, y) => x / y],
    ['pow', pow, (x, y) => x ** y],
    ['maximum', maximum, Math.max],
    ['minimum', minimum, Math.min],
  ];
  for (const [name, op, reference] of ops) {
    it(name, () => {
      fc.assert(
        fc.property(
          broadcastPair.chain(([sa, sb]) => fc.tuple(tensorArb(sa, { min: 0.1, max: 4 }), tensorArb(sb, { min: -3, max: 3 }))),
          ([a, b]) => {
            const y = op(a, b);
            expect(y.shape).toEqual(naiveBroadcastShape(a.shape, b.shape));
            expect(y.dtype).toBe('float64');
            expect(Array.from(y.dataSync())).toEqual(naiveBinary(a, b, reference));
          },
        ),
        { numRuns: RUNS },
      );
    });
  }

  it('int32 add and mul stay int32', () => {
    const a = tensor([[1], [2]], { dtype: 'int32' });
    const b = tensor([10, 20, 30], { dtype: 'int32' });
    expect(add(a, b).dtype).toBe('int32');
    expect(add(a, b).toArray()).toEqual([
      [11, 21, 31],
      [12, 22, 32],
    ]);
    expect(mul(a, b).toArray()).toEqual([
      [10, 20, 30],
      [20, 40, 60],
    ]);
  });

  it('float32 results are rounded to float32', () => {
    const y = add(tensor([0.1]), tensor([0.2]));
    expect(y.dtype).toBe('float32');
    expect(y.item()).toBe(Math.fround(Math.fround(0.1) + Math.fround(0.2)));
  });

  it('maximum and minimum propagate NaN', () => {
    const a = tensor([NaN, 1, NaN], { dtype: 'float64' });
    const b = tensor([1, NaN, NaN], { dtype: 'float64' });
    expect(Array.from(maximum(a, b).dataSync())).toEqual([NaN, NaN, NaN]);
    expect(Array.from(minimum(a, b).dataSync())).toEqual([NaN, NaN, NaN]);
  });
});

describe('unary ops match Math and PyTorch formulas', () => {
  const softplusRef = (beta: number, threshold: number) => (v: number) => (v * beta > threshold ? v : Math.log1p(Math.exp(beta * v)) / beta);
  const ops: [string, (x: Tensor) => Tensor, (v: number) => number][] = [
    ['neg', neg, (v) => -v],
    ['exp', exp, Math.exp],
    ['log', (x) => log(abs(x)), (v) => Math.log(Math.abs(v))],
    ['log1p', (x) => log1p(abs(x)), (v) => Math.log1p(Math.abs(v))],
    ['expm1', (x) => expm1(x), (v) => Math.expm1(v)],
    ['sqrt', (x) => sqrt(abs(x)), (v) => Math.sqrt(Math.abs(v))],
    ['abs', abs, Math.abs],
    ['square', square, (v) => v * v],
    ['tanh', tanh, Math.tanh],
    ['sigmoid', sigmoid, (v) => 1 / (1 + Math.exp(-v))],
    ['relu', relu, (v) => (v > 0 ? v : 0)],
    ['leakyRelu', (x) => leakyRelu(x, 0.1), (v) => (v > 0 ? v : 0.1 * v)],
    ['elu', (x) => elu(x, 2), (v) => (v > 0 ? v : 2 * Math.expm1(v))],
    ['softplus', (x) => softplus(x), softplusRef(1, 20)],
    ['softplus (beta 3, threshold 2)', (x) => softplus(x, 3, 2), softplusRef(3, 2)],
  ];
  for (const [name, op, reference] of ops) {
    it(name, () => {
      fc.assert(
        fc.property(
          shapeArb(0, 3).chain((s) => tensorArb(s, { min: -30, max: 30 })),
          (x) => {
            const y = op(x);
            expect(y.shape).toEqual(x.shape);
            expectClose(y.dataSync(), Array.from(x.dataSync(), reference), 1e-14);
          },
        ),
        { numRuns: RUNS },
      );
    });
  }

  it('sigmoid does not overflow for large |x|', () => {
    expect(Array.from(sigmoid(tensor([-1000, 1000], { dtype: 'float64' })).dataSync())).toEqual([0, 1]);
  });
});

/** The matrix product with NumPy semantics, by a triple loop over explicit indices. */
function naiveMatmul(a: Tensor, b: Tensor): number[] {
  const as = a.rank === 1 ? [1, a.shape[0]!] : a.shape;
  const bs = b.rank === 1 ? [b.shape[0]!, 1] : b.shape;
  const [m, k] = as.slice(-2) as [number, number];
  const n = bs[bs.length - 1]!;
  const batch = naiveBroadcastShape(as.slice(0, -2), bs.slice(0, -2));
  const da = a.dataSync();
  const db = b.dataSync();
  const out: number[] = [];
  for (let t = 0; t < sizeOf(batch); t++) {
    const bi = unravel(t, batch);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          acc += da[broadcastSource([...bi, i, p], as)]! * db[broadcastSource([...bi, p, j], bs)]!;
        }
        out.push(acc);
      }
    }
  }
  return out;
}

/** Σ_p |a[i, p]| · |b[p, j]| per output element: the scale of a product's rounding error. */
function absMatmul(a: Tensor, b: Tensor): number[] {
  const abs = (x: Tensor) => tensor(new Float64Array(Array.from(x.dataSync(), Math.abs)), { shape: x.shape.slice() });
  return naiveMatmul(abs(a), abs(b));
}

describe('matmul matches a naive triple loop', () => {
  it('float64, all operand kinds', () => {
    fc.assert(
      fc.property(
        matmulShapes.chain((s) => fc.tuple(fc.constant(s), tensorArb(s.a), tensorArb(s.b))),
        ([s, a, b]) => {
          const y = matmul(a, b);
          expect(y.shape).toEqual(s.out);
          expectClose(y.dataSync(), naiveMatmul(a, b));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('larger inner dimensions (the unrolled kernel path) and float32', () => {
    fc.assert(
      fc.property(
        fc
          .tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 9 }))
          .chain(([m, k, n]) => fc.tuple(tensorArb([m, k]), tensorArb([k, n]))),
        ([a, b]) => {
          expectClose(matmul(a, b).dataSync(), naiveMatmul(a, b));
          const y32 = matmul(cast(a, 'float32'), cast(b, 'float32'));
          expect(y32.dtype).toBe('float32');
          expectClose(y32.dataSync(), naiveMatmul(a, b), 1e-5);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

/** Reduces with `combine` over the given axes by visiting every element once. */
function naiveReduce(x: Tensor, axis: number | readonly number[] | undefined, init: number, combine: (acc: number, v: number) => number): number[] {
  const rank = x.rank;
  const axes = axis === undefined ? x.shape.map((_, i) => i) : (typeof axis === 'number' ? [axis] : [...axis]).map((a) => (a + rank) % rank);
  const outShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Array<number>(sizeOf(outShape)).fill(init);
  const data = x.dataSync();
  for (let i = 0; i < x.size; i++) {
    const index = unravel(i, x.shape).map((v, j) => (axes.includes(j) ? 0 : v));
    const slot = ravel(index, outShape);
    out[slot] = combine(out[slot]!, data[i]!);
  }
  return out;
}

describe('float32 matmul of larger products (the fast kernels) stays within the rounding bound', () => {
  it('|C − C_exact| ≤ (k + 2) · 2⁻²⁴ · Σ|a||b| elementwise', () => {
    fc.assert(
      fc.property(
        fc
          .tuple(fc.integer({ min: 8, max: 40 }), fc.integer({ min: 8, max: 40 }), fc.integer({ min: 8, max: 40 }), fc.boolean())
          .chain(([m, k, n, batched]) => fc.tuple(tensorArb(batched ? [2, m, k] : [m, k]), tensorArb([k, n]))),
        ([a64, b64]) => {
          // round the operands first: the reference is the exact product of the float32 inputs
          const a = cast(a64, 'float32');
          const b = cast(b64, 'float32');
          const y = matmul(a, b);
          expect(y.dtype).toBe('float32');
          const exact = naiveMatmul(cast(a, 'float64'), cast(b, 'float64'));
          const scale = absMatmul(cast(a, 'float64'), cast(b, 'float64'));
          const k = a.shape[a.rank - 1]!;
          const data = y.dataSync();
          exact.forEach((e, i) => expect(Math.abs(data[i]! - e), `element ${i}`).toBeLessThanOrEqual((k + 2) * 2 ** -24 * scale[i]! + 1e-30));
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe('reductions match naive loops', () => {
  const reductionCase = shapeArb(0, 3).chain((s) => fc.tuple(tensorArb(s), axesArb(s.length), fc.boolean()));
  it('sum, max, min, mean, logSumExp', () => {
    fc.assert(
      fc.property(reductionCase, ([x, axis, keepDims]) => {
        const sums = naiveReduce(x, axis, 0, (a, v) => a + v);
        const count = x.size / sums.length;
        expectClose(sum(x, axis, keepDims).dataSync(), sums);
        // which zero an extremum of +0 and −0 returns is unspecified (Math.max prefers +0, the kernels and
        // PyTorch keep the first of equal values): the zeros' sign is not compared (fast-check found a column of both)
        const unsigned = (v: number): number => (v === 0 ? 0 : v);
        expect(Array.from(max(x, axis, keepDims).dataSync(), unsigned)).toEqual(naiveReduce(x, axis, -Infinity, Math.max).map(unsigned));
        expect(Array.from(min(x, axis, keepDims).dataSync(), unsigned)).toEqual(naiveReduce(x, axis, Infinity, Math.min).map(unsigned));
        expectClose(
          mean(x, axis, keepDims).dataSync(),
          sums.map((v) => v / count),
        );
        expectClose(logSumExp(x, axis, keepDims).dataSync(), naiveReduce(x, axis, 0, (a, v) => a + Math.exp(v)).map(Math.log));
      }),
      { numRuns: 50 },
    );
  });

  it('int32 sum stays int32', () => {
    const x = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: 'int32' },
    );
    expect(sum(x, 0).dtype).toBe('int32');
    expect(sum(x, 0).toArray()).toEqual([5, 7, 9]);
    expect(max(x, 1).toArray()).toEqual([3, 6]);
  });

  it('int32 max and min start from the int32 extremes (all-negative max, all-positive min)', () => {
    // regression: ±Infinity seeds become 0 in an Int32Array, so max of negatives and min of positives gave 0
    const x = tensor(
      [
        [-7, -3, -5],
        [4, 9, 2],
      ],
      { dtype: 'int32' },
    );
    expect(max(x, 1).toArray()).toEqual([-3, 9]);
    expect(min(x, 1).toArray()).toEqual([-7, 2]);
    expect(max(x).item()).toBe(9);
    expect(min(tensor([3, 5, 8], { dtype: 'int32' })).item()).toBe(3);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 1, maxLength: 20 }), (values) => {
        const t = tensor(values, { dtype: 'int32' });
        expect(max(t).item()).toBe(Math.max(...values));
        expect(min(t).item()).toBe(Math.min(...values));
      }),
      { numRuns: 100 },
    );
  });
});

describe('transpose matches a naive index mapping', () => {
  it('output element [i0, i1, …] is input element [i_perm⁻¹…]', () => {
    fc.assert(
      fc.property(
        shapeArb(0, 3).chain((s) => fc.tuple(tensorArb(s), permutationArb(s.length))),
        ([x, perm]) => {
          const y = transpose(x, perm);
          const outShape = perm.map((p) => x.shape[p]!);
          expect(y.shape).toEqual(outShape);
          const data = x.dataSync();
          const expected = Array.from({ length: x.size }, (_, i) => {
            const out = unravel(i, outShape);
            const source = new Array<number>(x.rank);
            perm.forEach((p, j) => (source[p] = out[j]!));
            return data[ravel(source, x.shape)]!;
          });
          expect(Array.from(y.dataSync())).toEqual(expected);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('gather matches a naive lookup', () => {
  it('out[a…, idx…, c…] = x[a…, indices[idx…], c…]', () => {
    const gatherCase = shapeArb(1, 3).chain((s) =>
      fc.integer({ min: 0, max: s.length - 1 }).chain((axis) =>
        fc.tuple(
          tensorArb(s),
          fc.constant(axis),
          shapeArb(0, 2).chain((is) => indicesArb(is, s[axis]!)),
        ),
      ),
    );
    fc.assert(
      fc.property(gatherCase, ([x, axis, indices]) => {
        const y = gather(x, indices, axis);
        const idx = indices.dataSync();
        const data = x.dataSync();
        const expected = Array.from({ length: y.size }, (_, i) => {
          const out = unravel(i, y.shape);
          const k = ravel(out.slice(axis, axis + indices.rank), indices.shape);
          return data[ravel([...out.slice(0, axis), idx[k]!, ...out.slice(axis + indices.rank)], x.shape)]!;
        });
        expect(Array.from(y.dataSync())).toEqual(expected);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('non-differentiable ops', () => {
  const comparisons: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => boolean][] = [
    ['greater', greater, (x, y) => x > y],
    ['less', less, (x, y) => x < y],
    ['equal', equal, (x, y) => x === y],
    ['greaterEqual', greaterEqual, (x, y) => x >= y],
    ['lessEqual', lessEqual, (x, y) => x <= y],
    ['notEqual', notEqual, (x, y) => x !== y],
  ];
  for (const [name, op, reference] of comparisons) {
    it(`${name} returns an int32 0/1 mask with broadcasting, and no gradient flows through it`, () => {
      fc.assert(
        fc.property(
          broadcastPair.chain(([sa, sb]) => fc.tuple(coarseTensor(sa), coarseTensor(sb))),
          ([a, b]) => {
            const y = op(a, b);
            expect(y.dtype).toBe('int32');
            expect(y.shape).toEqual(naiveBroadcastShape(a.shape, b.shape));
            expect(Array.from(y.dataSync())).toEqual(naiveBinary(a, b, (x, v) => (reference(x, v) ? 1 : 0)));
            const g = grad((a: Tensor) => sum(mul(cast(op(a, b), 'float64'), 3)))(a) as Tensor;
            expect(g.shape).toEqual(a.shape);
            expect(Array.from(g.dataSync()).every((v) => v === 0)).toBe(true);
          },
        ),
        { numRuns: RUNS },
      );
    });
  }

  it('comparisons with NaN are false (notEqual true), as in IEEE', () => {
    const a = tensor([NaN, 1], { dtype: 'float64' });
    const b = tensor([NaN, NaN], { dtype: 'float64' });
    expect(equal(a, b).toArray()).toEqual([0, 0]);
    expect(notEqual(a, b).toArray()).toEqual([1, 1]);
    expect(greater(a, b).toArray()).toEqual([0, 0]);
  });

  it('argmax picks the first largest element along an axis (ties are common here)', () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3).chain((s) => fc.tuple(coarseTensor(s), fc.integer({ min: -s.length, max: s.length - 1 }), fc.boolean())),
        ([x, axis, keepDims]) => {
          const a = (axis + x.rank) % x.rank;
          const y = argmax(x, axis, keepDims);
          expect(y.dtype).toBe('int32');
          expect(y.shape).toEqual(keepDims ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a));
          const reduced = x.shape.map((d, i) => (i === a ? 1 : d));
          const data = x.dataSync();
          const expected = Array.from({ length: sizeOf(reduced) }, (_, o) => {
            const index = unravel(o, reduced);
            let best = 0;
            for (let k = 1; k < x.shape[a]!; k++) {
              index[a] = k;
              const v = data[ravel(index, x.shape)]!;
              index[a] = best;
              if (v > data[ravel(index, x.shape)]!) best = k;
            }
            return best;
          });
          expect(Array.from(y.dataSync())).toEqual(expected);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('argmax treats NaN as the largest value, as PyTorch does', () => {
    expect(argmax(tensor([1, NaN, 3, NaN], { dtype: 'float64' })).item()).toBe(1);
  });

  it('oneHot puts a single 1 at each index', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((depth) =>
          fc.tuple(
            fc.constant(depth),
            shapeArb(0, 2).chain((s) => indicesArb(s, depth)),
          ),
        ),
        fc.constantFrom('float32' as const, 'float64' as const, 'int32' as const),
        ([depth, indices], dtype) => {
          const y = oneHot(indices, depth, dtype);
          expect(y.shape).toEqual([...indices.shape, depth]);
          expect(y.dtype).toBe(dtype);
          const idx = indices.dataSync();
          expect(Array.from(y.dataSync())).toEqual(Array.from({ length: y.size }, (_, i) => (idx[Math.floor(i / depth)] === i % depth ? 1 : 0)));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('isFinite marks NaN and ±Infinity with 0; gradients through a mask are zero', () => {
    fc.assert(
      fc.property(
        shapeArb(0, 3).chain((s) =>
          fc
            .array(fc.oneof(fc.double({ noNaN: true, min: -1e300, max: 1e300 }), fc.constantFrom(NaN, Infinity, -Infinity)), {
              minLength: sizeOf(s),
              maxLength: sizeOf(s),
            })
            .map((v) => tensor(new Float64Array(v), { shape: s })),
        ),
        (x) => {
          const y = isFinite(x);
          expect(y.dtype).toBe('int32');
          expect(y.shape).toEqual(x.shape);
          expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync(), (v) => (Number.isFinite(v) ? 1 : 0)));
        },
      ),
      { numRuns: RUNS },
    );
    const x = tensor([1, 2], { dtype: 'float64' });
    const g = grad((x: Tensor) => sum(where(isFinite(x), x, 0)))(x) as Tensor;
    expect(Array.from(g.dataSync())).toEqual([1, 1]);
  });

  it('sign matches Math.sign and has zero gradient', () => {
    fc.assert(
      fc.property(
        shapeArb(0, 3).chain((s) => tensorArb(s)),
        (x) => {
          const y = sign(x);
          expect(y.shape).toEqual(x.shape);
          expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync(), Math.sign));
          const g = grad((x: Tensor) => sum(mul(sign(x), x)))(x) as Tensor;
          // d/dx [sign(x) · x] with sign a constant = sign(x)
          expect(Array.from(g.dataSync())).toEqual(Array.from(x.dataSync(), Math.sign));
          const z = grad((x: Tensor) => sum(sign(x)))(x) as Tensor;
          expect(Array.from(z.dataSync()).every((v) => v === 0)).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
    expect(sign(tensor([-3, 0, 5], { dtype: 'int32' })).toArray()).toEqual([-1, 0, 1]);
  });

  it('argmax and oneHot results carry no gradient', () => {
    const x = tensor(
      [
        [0.5, 2, -1],
        [3, 0, 1],
      ],
      { dtype: 'float64' },
    );
    const g = grad((x: Tensor) => sum(mul(x, oneHot(argmax(x, 1), 3, 'float64'))))(x) as Tensor;
    expect(g.toArray()).toEqual([
      [0, 1, 0],
      [1, 0, 0],
    ]);
  });
});
