/** customVjp: a user-given backward is used, is differentiable, and is validated per input. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ArgumentError, checkGrad, customVjp, exp, grad, mul, sum, tanh, tensor, zeros, type Tensor } from '@tapestry/core';
import { RUNS, seedArb, shapeArb, tensorArb } from './arbitraries.js';
import { expectVjpMatchesFiniteDifferences } from './grad-helpers.js';

/** x·y with a hand-written backward, correct by construction. */
const product = customVjp(
  (x: Tensor, y: Tensor) => ({ value: mul(x, y), residuals: { x, y } }),
  (ct, { x, y }: { x: Tensor; y: Tensor }) => [mul(ct, y), mul(ct, x)],
  'product',
);

describe('customVjp', () => {
  it('a correct backward passes the finite-difference check', () => {
    fc.assert(
      fc.property(
        shapeArb(0, 3).chain((s) => fc.tuple(tensorArb(s), tensorArb(s))),
        seedArb,
        ([x, y], seed) => {
          const out = expectVjpMatchesFiniteDifferences(product, [x, y], seed);
          expect(out.shape).toEqual(x.shape);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('its backward is used instead of differentiating the forward (straight-through)', () => {
    const roundST = customVjp(
      (x: Tensor) => ({ value: tensor(new Float64Array(Array.from(x.dataSync(), Math.round)), { shape: x.shape.slice() }) }),
      (ct) => [ct],
    );
    const x = tensor([0.4, 1.6], { dtype: 'float64' });
    expect(roundST(x).toArray()).toEqual([0, 2]);
    expect((grad((x: Tensor) => sum(mul(roundST(x), 3)))(x) as Tensor).toArray()).toEqual([3, 3]);
  });

  it('its backward is differentiable (second order through bwd)', () => {
    const expCustom = customVjp(
      (x: Tensor) => ({ value: exp(x) }),
      (ct, _r, [x]) => [mul(ct, exp(x!))],
    );
    fc.assert(
      fc.property(tensorArb([3]), (x) => {
        const d2 = grad((y: Tensor) => sum(grad((z: Tensor) => sum(expCustom(z)))(y) as Tensor))(x) as Tensor;
        d2.dataSync().forEach((v, i) => expect(v).toBeCloseTo(Math.exp(x.dataSync()[i]!), 12));
      }),
      { numRuns: RUNS },
    );
  });

  it('null means no gradient for that input', () => {
    const firstOnly = customVjp(
      (x: Tensor, y: Tensor) => ({ value: mul(x, y) }),
      (ct, _r, [, y]) => [mul(ct, y!), null],
    );
    const x = tensor([1, 2], { dtype: 'float64' });
    const y = tensor([3, 4], { dtype: 'float64' });
    const [gx, gy] = grad((x: Tensor, y: Tensor) => sum(firstOnly(x, y)), [0, 1])(x, y) as Tensor[];
    expect(gx!.toArray()).toEqual([3, 4]);
    expect(gy!.toArray()).toEqual([0, 0]);
  });

  const x = tensor([[1, 2, 3]], { dtype: 'float64' });
  const y = tensor([0.5, 0.25, 2], { dtype: 'float64' });
  const differentiate = (bwd: (ct: Tensor, r: unknown, xs: readonly Tensor[]) => (Tensor | null)[]) => {
    const op = customVjp((a: Tensor, b: Tensor) => ({ value: mul(a, b) }), bwd, 'scaled');
    return () => grad((a: Tensor, b: Tensor) => sum(op(a, b)), [0, 1])(x, y);
  };

  it('bwd returning too few gradients is an ArgumentError naming the function and the count', () => {
    const run = differentiate((ct) => [ct]);
    expect(run).toThrow(ArgumentError);
    expect(run).toThrow(/customVjp\(scaled\).*2 gradients.*got 1/);
  });

  it('bwd returning a gradient of the wrong shape is an ArgumentError naming the input and both shapes', () => {
    // the cotangent has the broadcast shape [1, 3], not y's [3]
    const run = differentiate((ct, _r, [a, b]) => [mul(ct, b!), mul(ct, a!)]);
    expect(run).toThrow(ArgumentError);
    expect(run).toThrow(/customVjp\(scaled\).*xs\[1\].*float64.*\[3\].*got float64 \[1, 3\]/);
  });

  it('bwd returning a gradient of the wrong dtype or a non-tensor is an ArgumentError naming the input', () => {
    const wrongDType = differentiate((_ct, _r, [a, b]) => [zeros(a!.shape as number[], 'float64'), zeros(b!.shape as number[], 'float32')]);
    expect(wrongDType).toThrow(ArgumentError);
    expect(wrongDType).toThrow(/xs\[1\].*float64 tensor of shape \[3\].*got float32 \[3\]/);
    const notATensor = differentiate((_ct, _r, [a]) => [zeros(a!.shape as number[], 'float64'), 3 as unknown as Tensor]);
    expect(notATensor).toThrow(/xs\[1\].*got 3/);
  });

  it('bwd returning something that is not an array is an ArgumentError', () => {
    expect(differentiate(() => undefined as unknown as Tensor[])).toThrow(/customVjp\(scaled\).*array of 2 gradients/);
  });

  it('fwd and bwd must be functions; inputs must be tensors', () => {
    expect(() => customVjp(3 as never, () => [])).toThrow(ArgumentError);
    expect(() => product(x, [1, 2, 3] as unknown as Tensor)).toThrow(/customVjp\(product\): xs\[1\] must be a Tensor/);
  });

  it('two custom functions may share a name (a factory called twice)', () => {
    const make = (scale: number) =>
      customVjp(
        (x: Tensor) => ({ value: mul(x, scale) }),
        (ct) => [mul(ct, scale)],
        'scale',
      );
    const double = make(2);
    const triple = make(3);
    const x = tensor([1, 2], { dtype: 'float64' });
    expect((grad((x: Tensor) => sum(double(x)))(x) as Tensor).toArray()).toEqual([2, 2]);
    expect((grad((x: Tensor) => sum(triple(x)))(x) as Tensor).toArray()).toEqual([3, 3]);
  });

  it('inside a larger function, only the custom part uses the custom rule', () => {
    const f = (a: Tensor) => sum(tanh(product(a, a)));
    const r = checkGrad(f, [tensor([0.3, -0.8, 1.1], { dtype: 'float64' })]);
    expect(r.ok, r.message).toBe(true);
  });
});
