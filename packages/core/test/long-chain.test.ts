/**
 * Reverse mode walks the tape in a loop, never by recursion: a chain of 100,000 ops (an unrolled loop of
 * that many steps) differentiates without overflowing the JS stack.
 */
import { describe, expect, it } from 'vitest';
import { add, grad, mul, sum, tanh, tensor, type Tensor } from '@tapestry/core';

const STEPS = 100_000;

describe('a 100,000-op chain', () => {
  it('differentiates without a stack overflow, and gets the right gradient', () => {
    // y = x · c^N, so dy/dx = c^N and dy/dc = N x c^(N−1): c is reused by every op and accumulates
    const c = tensor([1 + 1e-6], { dtype: 'float64' });
    const x = tensor([0.5, -2], { dtype: 'float64' });
    const f = (x: Tensor, c: Tensor) => {
      let y = x;
      for (let i = 0; i < STEPS; i++) y = mul(y, c);
      return sum(y);
    };
    const [gx, gc] = grad(f, [0, 1])(x, c) as Tensor[];
    const cN = Math.pow(1 + 1e-6, STEPS);
    Array.from(gx!.dataSync()).forEach((v) => expect(v).toBeCloseTo(cN, 10));
    expect(gc!.item()).toBeCloseTo(STEPS * (0.5 - 2) * Math.pow(1 + 1e-6, STEPS - 1), 6);
  });

  it('an unrolled recurrence h ← tanh(w h + 0.1) of 50,000 steps (100,000 ops)', () => {
    const f = (w: Tensor) => {
      let h = tensor([0.2], { dtype: 'float64' });
      for (let i = 0; i < STEPS / 2; i++) h = tanh(add(mul(h, w), 0.1));
      return sum(h);
    };
    const w = tensor([0.5], { dtype: 'float64' });
    const g = (grad(f)(w) as Tensor).item();
    // at the fixed point h* = tanh(w h* + 0.1), dh*/dw = (1 − h*²) h* / (1 − w (1 − h*²))
    let h = 0.2;
    for (let i = 0; i < 1000; i++) h = Math.tanh(0.5 * h + 0.1);
    const s = 1 - h * h;
    expect(g).toBeCloseTo((s * h) / (1 - 0.5 * s), 10);
  });
});
