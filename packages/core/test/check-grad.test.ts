/** checkGrad itself: it must catch a wrong gradient, not just approve right ones. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { add, checkGrad, customVjp, DTypeError, mul, sum, tanh, tensor, type Tensor } from '@tapestry/core';
import { RUNS, shapeArb, tensorArb } from './arbitraries.js';

/** tanh with a backward scaled by `factor`: correct only for factor 1. */
function tanhWithScaledGradient(factor: number) {
  return customVjp(
    (x: Tensor) => {
      const y = tanh(x);
      return { value: y, residuals: y };
    },
    (ct, y: Tensor) => [mul(ct, mul(add(mul(mul(y, y), -1), 1), factor))],
  );
}

describe('checkGrad', () => {
  it('accepts the correct custom gradient', () => {
    const good = tanhWithScaledGradient(1);
    fc.assert(
      fc.property(
        shapeArb(0, 3).chain((s) => tensorArb(s)),
        (x) => {
          const r = checkGrad((x: Tensor) => sum(good(x)), [x]);
          expect(r.ok, r.message).toBe(true);
          expect(r.maxError).toBeLessThan(1e-6);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('detects a deliberately wrong gradient (off by as little as 0.1 %)', () => {
    fc.assert(
      fc.property(
        shapeArb(0, 3).chain((s) => tensorArb(s, { min: -2, max: 2 })),
        fc.oneof(fc.double({ min: 1.001, max: 3, noNaN: true }), fc.double({ min: -1, max: 0.999, noNaN: true })),
        (x, factor) => {
          const bad = tanhWithScaledGradient(factor);
          const r = checkGrad((x: Tensor) => sum(bad(x)), [x]);
          expect(r.ok).toBe(false);
          expect(r.maxError).toBeGreaterThan(1e-6);
          expect(r.message).toMatch(/checkGrad: max error .* at argument 0, element \d+: analytic .*, numeric /);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('detects a gradient that is wrong in a single element and names that element', () => {
    const oneWrong = customVjp(
      (x: Tensor) => ({ value: mul(x, x) }),
      (ct, _r, [x]) => {
        const g = mul(ct, mul(x!, 2)).dataSync();
        g[2] = g[2]! + 0.01;
        return [tensor(g, { shape: x!.shape.slice() })];
      },
    );
    const r = checkGrad((x: Tensor) => sum(oneWrong(x)), [tensor([0.1, 0.2, 0.3, 0.4], { dtype: 'float64' })]);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/element 2/);
  });

  it('checks trees of arguments and names the path', () => {
    const bad = tanhWithScaledGradient(2);
    const params = { w: tensor([0.5], { dtype: 'float64' }), layers: [{ b: tensor([0.1, 0.2], { dtype: 'float64' }) }] };
    const f = (p: typeof params) => add(sum(tanh(p.w)), sum(bad(p.layers[0]!.b)));
    const r = checkGrad(f, [params]);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/layers\[0\]\.b/);
    const good = checkGrad((p: typeof params) => add(sum(tanh(p.w)), sum(tanh(p.layers[0]!.b))), [params]);
    expect(good.ok, good.message).toBe(true);
  });

  it('only checks the arguments in argnums', () => {
    const bad = tanhWithScaledGradient(2);
    const a = tensor([0.5], { dtype: 'float64' });
    const b = tensor([0.7], { dtype: 'float64' });
    const f = (a: Tensor, b: Tensor) => add(sum(tanh(a)), sum(bad(b)));
    expect(checkGrad(f, [a, b], { argnums: 0 }).ok).toBe(true);
    expect(checkGrad(f, [a, b], { argnums: [1] }).ok).toBe(false);
  });

  it('rejects float32 arguments with a DTypeError', () => {
    expect(() => checkGrad((x: Tensor) => sum(x), [tensor([1, 2])])).toThrow(DTypeError);
  });
});
