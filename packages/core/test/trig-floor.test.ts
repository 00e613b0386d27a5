/**
 * cos, sin and floor: forward values against Math, VJPs of cos and sin against central finite differences
 * in float64, floor's zero gradient, and compiled (fused) execution equal to eager execution.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { add, cos, findFusionGroups, floor, grad, jit, mul, optimize, sin, sum, tensor, trace, type Tensor } from '@tapestry/core';
import { anyTensorArb, RUNS, seedArb, shapeArb, tensorArb } from './arbitraries.js';
import { expectVjpMatchesFiniteDifferences } from './grad-helpers.js';

const f64 = (values: number[]) => tensor(values, { dtype: 'float64' });

describe('forward values', () => {
  const cases: [string, (x: Tensor) => Tensor, (v: number) => number][] = [
    ['cos', cos, Math.cos],
    ['sin', sin, Math.sin],
    ['floor', floor, Math.floor],
  ];
  for (const [name, op, reference] of cases) {
    it(`${name} matches Math.${name} bit for bit, in float64 and (rounded) float32`, () => {
      fc.assert(
        fc.property(anyTensorArb({ min: -20, max: 20 }), (x) => {
          const y = op(x);
          expect(y.shape).toEqual(x.shape);
          expect(y.dtype).toBe('float64');
          expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync(), reference));
          const x32 = tensor(Float32Array.from(x.dataSync()), { shape: [...x.shape] });
          const y32 = op(x32);
          expect(y32.dtype).toBe('float32');
          expect(Array.from(y32.dataSync())).toEqual(Array.from(x32.dataSync(), (v) => Math.fround(reference(v))));
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('known points and edge values', () => {
    expect(cos(f64([0, Math.PI])).toArray()).toEqual([1, -1]);
    expect(sin(f64([0, Math.PI / 2, -0])).toArray()).toEqual([0, 1, -0]);
    expect(floor(f64([1.5, -1.5, 2, -0.25, Infinity])).toArray()).toEqual([1, -2, 2, -1, Infinity]);
    expect(Number.isNaN(cos(f64([Infinity])).item())).toBe(true);
    expect(Number.isNaN(floor(f64([Number.NaN])).item())).toBe(true);
  });

  it('floor accepts int32 (the identity) while cos and sin reject it', () => {
    const i = tensor([-3, 0, 7], { dtype: 'int32' });
    expect(floor(i).dtype).toBe('int32');
    expect(floor(i).toArray()).toEqual([-3, 0, 7]);
    expect(() => cos(i)).toThrow(/^cos: x must be float32 or float64, got int32 \[3\]/);
    expect(() => sin(i)).toThrow(/^sin: x must be float32 or float64, got int32/);
  });
});

describe('gradients', () => {
  it('cos: d cos(x) = −sin(x) dx, against finite differences', () => {
    fc.assert(
      fc.property(anyTensorArb({ min: -10, max: 10 }), seedArb, (x, seed) => {
        expect(expectVjpMatchesFiniteDifferences(cos, [x], seed).shape).toEqual(x.shape);
      }),
      { numRuns: RUNS },
    );
  });

  it('sin: d sin(x) = cos(x) dx, against finite differences', () => {
    fc.assert(
      fc.property(anyTensorArb({ min: -10, max: 10 }), seedArb, (x, seed) => {
        expect(expectVjpMatchesFiniteDifferences(sin, [x], seed).shape).toEqual(x.shape);
      }),
      { numRuns: RUNS },
    );
  });

  it('second derivatives: d² sin = −sin, d² cos = −cos', () => {
    const x = f64([-2, 0.3, 1.7]);
    const d2sin = grad((v: Tensor) => sum(grad((u: Tensor) => sum(sin(u)))(v) as Tensor))(x) as Tensor;
    const d2cos = grad((v: Tensor) => sum(grad((u: Tensor) => sum(cos(u)))(v) as Tensor))(x) as Tensor;
    expect(Array.from(d2sin.dataSync())).toEqual(Array.from(x.dataSync(), (v) => -Math.sin(v)));
    expect(Array.from(d2cos.dataSync())).toEqual(Array.from(x.dataSync(), (v) => -Math.cos(v)));
  });

  it('floor has zero gradient, as sign', () => {
    fc.assert(
      fc.property(
        shapeArb(0, 3).chain((s) => tensorArb(s, { min: -5, max: 5 })),
        (x) => {
          // d/dx [floor(x) · x] with floor a constant = floor(x)
          const g = grad((v: Tensor) => sum(mul(floor(v), v)))(x) as Tensor;
          expect(Array.from(g.dataSync())).toEqual(Array.from(x.dataSync(), Math.floor));
          const z = grad((v: Tensor) => sum(floor(v)))(x) as Tensor;
          expect(Array.from(z.dataSync()).every((v) => v === 0)).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('jit', () => {
  // one elementwise chain through all three ops, so the compiled plan runs them inside a fused kernel
  const f = (x: Tensor) => add(mul(cos(x), sin(mul(x, 0.5))), floor(mul(x, 3)));

  it('the ops fuse into one group with their neighbours', () => {
    const g = optimize(trace(f, f64([0, 1, 2])));
    const groups = findFusionGroups(g);
    const fusedOps = groups.flatMap((group) => group.members.map((id) => g.nodes[id]!.op));
    expect(fusedOps).toEqual(expect.arrayContaining(['cos', 'sin', 'floor']));
  });

  it('jit equals eager bit for bit, float64 and float32, with gradients', () => {
    fc.assert(
      fc.property(anyTensorArb({ min: -20, max: 20 }, 1, 3), (x) => {
        const x32 = tensor(Float32Array.from(x.dataSync()), { shape: [...x.shape] });
        for (const input of [x, x32]) {
          expect(Array.from(jit(f)(input).dataSync())).toEqual(Array.from(f(input).dataSync()));
          const df = grad((v: Tensor) => sum(f(v)));
          expect(Array.from((jit(df)(input) as Tensor).dataSync())).toEqual(Array.from((df(input) as Tensor).dataSync()));
        }
      }),
      { numRuns: RUNS },
    );
  });
});
