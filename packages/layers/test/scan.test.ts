import { add, checkGrad, concat, mul, normal, randomKey, sum, tanh, tensor, Tensor, zeros } from '@tapestry/core';
import { scan } from '@tapestry/layers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const f64 = (v: number[] | number[][] | number[][][]) => tensor(v, { dtype: 'float64' });
const cumsum = (acc: Tensor, x: Tensor) => {
  const s = add(acc, x);
  return [s, s] as const;
};

describe('scan', () => {
  it('threads the carry over the leading axis and stacks outputs in time order', () => {
    const xs = f64([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const [total, partial] = scan(cumsum, zeros([2], 'float64'), xs);
    expect(total.toArray()).toEqual([9, 12]);
    expect(partial.toArray()).toEqual([
      [1, 2],
      [4, 6],
      [9, 12],
    ]);
  });

  it('reverse visits the last step first but returns outputs in time order', () => {
    const [total, partial] = scan(cumsum, zeros([1], 'float64'), f64([[1], [10], [100]]), { reverse: true });
    expect(total.toArray()).toEqual([111]);
    expect(partial.toArray()).toEqual([[111], [110], [100]]);
  });

  it('carries, inputs and outputs may be trees', () => {
    const xs = { a: f64([[1], [2]]), b: [f64([[10], [20]])] };
    const [carry, ys] = scan(
      (c: { n: Tensor; s: Tensor }, x: { a: Tensor; b: Tensor[] }) => {
        const s = add(c.s, mul(x.a, x.b[0]!));
        return [
          { n: add(c.n, 1), s },
          { s, twice: [mul(s, 2)] },
        ] as const;
      },
      { n: zeros([1], 'float64'), s: zeros([1], 'float64') },
      xs,
    );
    expect(carry.n.toArray()).toEqual([2]);
    expect(carry.s.toArray()).toEqual([50]);
    expect(ys.s.toArray()).toEqual([[10], [50]]);
    expect(ys.twice[0]!.toArray()).toEqual([[20], [100]]);
  });

  it('runs without xs when given a length', () => {
    const [count, ys] = scan((c: Tensor) => [add(c, 1), c] as const, zeros([], 'float64'), null, { length: 4 });
    expect(count.item()).toBe(4);
    expect(ys.toArray()).toEqual([0, 1, 2, 3]);
  });

  it('gradients through a scan equal finite differences (float64)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1e6 }),
        (steps, width, reverse, seed) => {
          const xs = normal(randomKey(seed), [steps, width], { dtype: 'float64' });
          const w = normal(randomKey(seed + 1), [width], { dtype: 'float64' });
          const h0 = normal(randomKey(seed + 2), [width], { dtype: 'float64' });
          const f = (xsArg: Tensor, wArg: Tensor, h: Tensor) => {
            const [last, ys] = scan(
              (c: Tensor, x: Tensor) => {
                const next = tanh(add(mul(c, wArg), x));
                return [next, mul(next, next)] as const;
              },
              h,
              xsArg,
              { reverse },
            );
            return add(sum(last), sum(ys));
          };
          const r = checkGrad(f, [xs, w, h0]);
          expect(r.ok, r.message).toBe(true);
        },
      ),
      { numRuns: 20 },
    );
  });

  describe('errors', () => {
    it('a carry that changes shape names the leaf and ends with what to do', () => {
      const grow = (c: { h: Tensor; c: Tensor }, x: Tensor) => [{ h: c.h, c: concat([c.c, x], 0) }, x] as const;
      expect(() => scan(grow, { h: zeros([2]), c: zeros([2]) }, zeros([3, 1]))).toThrow(
        /scan: the carry returned by f at step 0 does not match the initial carry: carry\.c is \[3\] float32 but init\.c is \[2\] float32\. Revise the function so that the carry it returns has the same structure, shapes and dtypes as the initial carry\.$/,
      );
    });

    it('a carry that changes structure lists both structures', () => {
      const drop = (c: { h: Tensor; c: Tensor }) => [{ h: c.h }, c.h] as const;
      expect(() => scan(drop as never, { h: zeros([2]), c: zeros([2]) }, zeros([3, 1]))).toThrow(
        /carry\.h\} but the initial carry has \{carry\.h, carry\.c\}\. Revise/,
      );
    });

    it('xs leaves must share the time axis', () => {
      expect(() => scan(cumsum as never, zeros([1]), { a: zeros([3, 1]), b: zeros([4, 1]) })).toThrow(/xs\.b has 4 steps .* but xs\.a has 3/);
    });

    it('f must return a pair', () => {
      expect(() => scan(((c: Tensor) => c) as never, zeros([1]), zeros([2, 1]))).toThrow(/f must return a pair \[carry, y\]/);
    });
  });
});
