/**
 * VJPs of the unary primitives against central finite differences in float64, on random shapes (rank 0–3)
 * and values. Kinks and domain edges are kept out by the arbitraries.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  abs,
  cast,
  checkGrad,
  elu,
  exp,
  expm1,
  grad,
  leakyRelu,
  log,
  log1p,
  mul,
  neg,
  relu,
  sigmoid,
  softplus,
  sqrt,
  square,
  sum,
  tanh,
  tensor,
  type Tensor,
} from '@tapestry/core';
import { anyTensorArb, RUNS, seedArb, weights, type ValueOptions } from './arbitraries.js';
import { expectVjpMatchesFiniteDifferences } from './grad-helpers.js';

const cases: [string, (x: Tensor) => Tensor, ValueOptions][] = [
  ['neg', neg, {}],
  ['exp', exp, {}],
  ['expm1', expm1, {}],
  ['log', log, { min: 0.1, max: 5 }],
  ['log1p', log1p, { min: -0.9, max: 5 }],
  ['sqrt', sqrt, { min: 0.1, max: 5 }],
  ['abs', abs, { avoid: [0] }],
  ['square', square, {}],
  ['tanh', tanh, {}],
  ['sigmoid', sigmoid, { min: -8, max: 8 }],
  ['relu', relu, { avoid: [0] }],
  ['leakyRelu (default slope)', (x) => leakyRelu(x), { avoid: [0] }],
  ['leakyRelu (slope 0.2)', (x) => leakyRelu(x, 0.2), { avoid: [0] }],
  ['elu (default alpha)', (x) => elu(x), { avoid: [0] }],
  ['elu (alpha 1.7)', (x) => elu(x, 1.7), { avoid: [0] }],
  ['softplus (log regime)', (x) => softplus(x), { min: -6, max: 6 }],
  // beta 2, threshold 3: the linear regime starts at x = 1.5, kept at a distance
  ['softplus (both regimes)', (x) => softplus(x, 2, 3), { min: -3, max: 3, avoid: [1.5] }],
  ['softplus (negative beta)', (x) => softplus(x, -0.5, 1), { min: -3, max: 3, avoid: [-2] }],
];

describe('unary VJPs match finite differences', () => {
  for (const [name, op, values] of cases) {
    it(name, () => {
      fc.assert(
        fc.property(anyTensorArb(values), seedArb, (x, seed) => {
          const y = expectVjpMatchesFiniteDifferences(op, [x], seed);
          expect(y.shape).toEqual(x.shape);
          expect(y.dtype).toBe('float64');
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('the linear regime of softplus is reached and has slope 1', () => {
    const x = tensor([25, 30, -25], { dtype: 'float64' });
    expect(Array.from(softplus(x).dataSync())).toEqual([25, 30, Math.log1p(Math.exp(-25))]);
    const g = grad((x: Tensor) => sum(softplus(x)))(x) as Tensor;
    expect(g.dataSync()[0]).toBe(1);
    expect(g.dataSync()[1]).toBe(1);
  });

  it('relu and abs have gradient 0 at exactly 0, as in PyTorch', () => {
    const x = tensor([0, -0], { dtype: 'float64' });
    expect(Array.from((grad((x: Tensor) => sum(relu(x)))(x) as Tensor).dataSync())).toEqual([0, 0]);
    expect(Array.from((grad((x: Tensor) => sum(abs(x)))(x) as Tensor).dataSync()).map(Math.abs)).toEqual([0, 0]);
  });
});

describe('cast', () => {
  it('float64 → float32 → float64: the gradient is the cotangent rounded to float32', () => {
    fc.assert(
      fc.property(anyTensorArb(), seedArb, (x, seed) => {
        const roundTrip = (x: Tensor) => cast(cast(x, 'float32'), 'float64');
        const y = roundTrip(x);
        expect(y.shape).toEqual(x.shape);
        expect(y.dtype).toBe('float64');
        expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync(), Math.fround));
        const w = weights(x.shape, seed);
        const g = grad((x: Tensor) => sum(mul(roundTrip(x), w)))(x) as Tensor;
        expect(g.dtype).toBe('float64');
        expect(Array.from(g.dataSync())).toEqual(Array.from(w.dataSync(), Math.fround));
      }),
      { numRuns: RUNS },
    );
  });

  it('float32 → float64 → float32: the gradient is exactly the cotangent, in float32', () => {
    fc.assert(
      fc.property(anyTensorArb(), seedArb, (x64, seed) => {
        const x = cast(x64, 'float32');
        const w = cast(weights(x.shape, seed), 'float32');
        const g = grad((x: Tensor) => sum(mul(cast(cast(x, 'float64'), 'float32'), w)))(x) as Tensor;
        expect(g.dtype).toBe('float32');
        expect(g.shape).toEqual(x.shape);
        expect(Array.from(g.dataSync())).toEqual(Array.from(w.dataSync()));
      }),
      { numRuns: RUNS },
    );
  });

  it('a float64 function computed through a float64 cast of a float64 leaf passes checkGrad', () => {
    fc.assert(
      fc.property(anyTensorArb(), seedArb, (x, seed) => {
        expectVjpMatchesFiniteDifferences((x) => tanh(cast(x, 'float64')), [x], seed);
      }),
      { numRuns: RUNS },
    );
  });

  it('cast to int32 passes no gradient', () => {
    const x = tensor([1.5, -2.5], { dtype: 'float64' });
    const g = grad((x: Tensor) => sum(mul(x, cast(cast(x, 'int32'), 'float64'))))(x) as Tensor;
    // d/dx [x · trunc(x)] with trunc treated as a constant = trunc(x)
    expect(Array.from(g.dataSync())).toEqual([1, -2]);
  });

  it('checkGrad rejects a float32 leaf (finite differences need float64)', () => {
    expect(() => checkGrad((x: Tensor) => sum(x), [tensor([1, 2])])).toThrow(/float64/);
  });
});
