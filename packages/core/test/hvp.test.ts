/**
 * Grad of grad: Hessian-vector products of composite functions, computed by differentiating the gradient,
 * against central finite differences of the gradient, (∇f(x + hv) − ∇f(x − hv)) / 2h, in float64.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  add,
  checkGrad,
  div,
  elu,
  grad,
  log1p,
  logSumExp,
  matmul,
  mean,
  mul,
  pow,
  sigmoid,
  slice,
  softmax,
  softplus,
  square,
  sum,
  tanh,
  tensor,
  type Tensor,
} from '@tapestry/core';
import { RUNS, seedArb, tensorArb, weights, type ValueOptions } from './arbitraries.js';
import { GRAD_TOL } from './grad-helpers.js';

/** Hv by reverse-over-reverse: the gradient of v·∇f. */
function hvp(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor {
  return grad((y: Tensor) => sum(mul(grad(f)(y) as Tensor, v)))(x) as Tensor;
}

/** Hv by central differences of the gradient along v. */
function hvpByDifferences(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor, h = 1e-5): number[] {
  const at = (s: number) => (grad(f)(add(x, mul(v, s))) as Tensor).dataSync();
  const plus = at(h);
  const minus = at(-h);
  return Array.from(plus, (p, i) => (p - minus[i]!) / (2 * h));
}

function expectHvpMatches(f: (x: Tensor) => Tensor, x: Tensor, seed: number): void {
  const v = weights(x.shape, seed);
  const analytic = hvp(f, x, v);
  expect(analytic.shape).toEqual(x.shape);
  const numeric = hvpByDifferences(f, x, v);
  analytic.dataSync().forEach((a, i) => {
    const n = numeric[i]!;
    const error = Math.abs(a - n) / Math.max(1, Math.abs(a), Math.abs(n));
    expect(error, `element ${i}: analytic ${a}, numeric ${n}`).toBeLessThan(GRAD_TOL);
  });
}

const X = tensor(
  [
    [0.3, -1.2, 0.8, 0.1],
    [1.5, 0.4, -0.6, -0.9],
    [-0.2, 0.7, 1.1, -1.4],
  ],
  { dtype: 'float64' },
);
const W = tensor(
  [
    [0.5, -0.3],
    [0.2, 0.8],
    [-0.7, 0.1],
    [0.4, -0.6],
  ],
  { dtype: 'float64' },
);
const C = tensor(
  [
    [1, -2, 0.5, 3],
    [0.25, 1, -1, 2],
    [2, 0, 1, -0.5],
  ],
  { dtype: 'float64' },
);

const composites: [string, (x: Tensor) => Tensor, number[], ValueOptions][] = [
  ['sum(tanh(X W)²) in W', (w) => sum(square(tanh(matmul(X, w)))), [4, 2], {}],
  ['sum(tanh(x W)²) in x', (x) => sum(square(tanh(matmul(x, W)))), [3, 4], {}],
  ['logSumExp(x W) in x', (x) => logSumExp(matmul(x, W)), [3, 4], {}],
  ['sum(softmax(x) · C)', (x) => sum(mul(softmax(x), C)), [3, 4], {}],
  ['sum(σ(x) · log1p(x²))', (x) => sum(mul(sigmoid(x), log1p(square(x)))), [2, 3], {}],
  ['mean(x³ / (1 + x²))', (x) => mean(div(pow(x, 3), add(square(x), 1))), [5], { min: 0.2, max: 2 }],
  ['sum(elu(x) · softplus(x))', (x) => sum(mul(elu(x), softplus(x))), [2, 2], { avoid: [0], margin: 0.05 }],
  [
    'a 3-step tanh RNN, h ← tanh(h W + x_t), in W',
    (w) => {
      let h = tensor([[0.1, -0.2]], { dtype: 'float64' });
      for (let t = 0; t < 3; t++) h = tanh(add(matmul(h, w), slice(X, [t, 0], [1, 2])));
      return sum(square(h));
    },
    [2, 2],
    {},
  ],
];

describe('Hessian-vector products (grad of grad) match finite differences of the gradient', () => {
  for (const [name, f, shape, values] of composites) {
    it(name, () => {
      fc.assert(
        fc.property(tensorArb(shape, values), seedArb, (x, seed) => expectHvpMatches(f, x, seed)),
        { numRuns: 15 },
      );
    });
  }

  it('checkGrad agrees: the gradient of v·∇f is Hv', () => {
    const f = (w: Tensor) => sum(square(tanh(matmul(X, w))));
    fc.assert(
      fc.property(tensorArb([4, 2]), seedArb, (w, seed) => {
        const v = weights(w.shape, seed);
        const r = checkGrad((w: Tensor) => sum(mul(grad(f)(w) as Tensor, v)), [w]);
        expect(r.ok, r.message).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('third order: d³/dx³ sum(tanh(x)) = −2 (1 − t²)(1 − 3t²) with t = tanh(x)', () => {
    fc.assert(
      fc.property(tensorArb([4]), (x) => {
        const d1 = (x: Tensor) => grad((y: Tensor) => sum(tanh(y)))(x) as Tensor;
        const d2 = (x: Tensor) => grad((y: Tensor) => sum(d1(y)))(x) as Tensor;
        const d3 = grad((y: Tensor) => sum(d2(y)))(x) as Tensor;
        d3.dataSync().forEach((v, i) => {
          const t = Math.tanh(x.dataSync()[i]!);
          expect(v).toBeCloseTo(-2 * (1 - t * t) * (1 - 3 * t * t), 12);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('mixed second derivatives: ∂/∂W of v·∇ₓf matches checkGrad', () => {
    const f = (x: Tensor, w: Tensor) => sum(square(tanh(matmul(x, w))));
    fc.assert(
      fc.property(tensorArb([4, 2]), seedArb, (w, seed) => {
        const v = weights(X.shape, seed);
        const r = checkGrad((w: Tensor) => sum(mul(grad(f, 0)(X, w) as Tensor, v)), [w]);
        expect(r.ok, r.message).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
