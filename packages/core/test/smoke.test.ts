import { describe, expect, it } from 'vitest';
import {
  add,
  grad,
  matmul,
  mul,
  sum,
  tanh,
  tensor,
  valueAndGrad,
  checkGrad,
  softmax,
  logSumExp,
  concat,
  slice,
  gather,
  transpose,
  broadcastTo,
  randomKey,
  uniform,
  normal,
  splitKey,
} from '@tapestry/core';

describe('smoke', () => {
  it('forward and grad', () => {
    const x = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64' },
    );
    const w = tensor([[0.5], [-0.25]], { dtype: 'float64' });
    expect(matmul(x, w).toArray()).toEqual([[0], [0.5]]);
    const g = grad((w: any) => sum(tanh(matmul(x, w))))(w);
    expect(g.shape).toEqual([2, 1]);
    const r = checkGrad((w: any) => sum(mul(tanh(matmul(x, w)), tanh(matmul(x, w)))), [w]);
    expect(r.ok, r.message).toBe(true);
    const [v, gb] = valueAndGrad((b: any) => sum(add(x, b)))(tensor([1, 1], { dtype: 'float64' }));
    expect(v.item()).toBe(14);
    expect(gb.toArray()).toEqual([2, 2]);
  });
  it('second order', () => {
    const x = tensor([0.3, -0.7], { dtype: 'float64' });
    const h = grad((x: any) => sum(grad((y: any) => sum(mul(mul(y, y), y)))(x)))(x);
    const [h0, h1] = h.toArray() as number[];
    expect(h0).toBeCloseTo(1.8, 12);
    expect(h1).toBeCloseTo(-4.2, 12);
  });
  it('composites', () => {
    const x = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: 'float64' },
    );
    const r = checkGrad(
      (x: any) =>
        sum(
          mul(
            softmax(x),
            tensor(
              [
                [1, 2, 3],
                [3, 1, 2],
              ],
              { dtype: 'float64' },
            ),
          ),
        ),
      [x],
    );
    expect(r.ok, r.message).toBe(true);
    const r2 = checkGrad(
      (x: any) => sum(mul(concat([slice(x, [0, 1], [2, 1]), transpose(x)], 1), 1.5)),
      [
        tensor(
          [
            [1, 2],
            [3, 4],
          ],
          { dtype: 'float64' },
        ),
      ],
    );
    expect(r2.ok, r2.message).toBe(true);
    const idx = tensor(
      [
        [1, 0],
        [1, 1],
      ],
      { dtype: 'int32' },
    );
    const r3 = checkGrad((x: any) => sum(tanh(gather(x, idx, 0))), [x]);
    expect(r3.ok, r3.message).toBe(true);
    expect(logSumExp(x, 1).shape).toEqual([2]);
    expect(broadcastTo(tensor([1, 2]), [3, 2]).toArray()).toEqual([
      [1, 2],
      [1, 2],
      [1, 2],
    ]);
  });
  it('random', () => {
    const [a, b] = splitKey(randomKey(0));
    const u = uniform(a!, [1000], { dtype: 'float64' });
    const m = Array.from(u.dataSync()).reduce((s, v) => s + v, 0) / 1000;
    expect(Math.abs(m - 0.5)).toBeLessThan(0.05);
    const n = normal(b!, [1000], { dtype: 'float64' });
    expect(Math.abs(Array.from(n.dataSync()).reduce((s, v) => s + v, 0) / 1000)).toBeLessThan(0.1);
  });
});
