/** jit's `donate`: results take the storage of donated arguments, which become unreadable. */
import { describe, expect, it } from 'vitest';
import { add, jit, mul, reshape, sum, tensor, type Tensor } from '@tapestry/core';
import { allocations } from '../../src/dtype.js';

const step = (s: { h: Tensor; n: Tensor }, x: Tensor) => ({ s: { h: add(mul(s.h, 0.5), x), n: add(s.n, 1) }, y: sum(s.h) });

describe('jit donate', () => {
  it('gives the same values as without donation, call after call, and recycles the storage', () => {
    const plain = jit(step);
    const donating = jit(step, { donate: [0] });
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    let a = plain(
      {
        h: tensor([
          [0, 1, 0],
          [1, 0, 1],
        ]),
        n: tensor(0),
      },
      x,
    );
    let b = donating(
      {
        h: tensor([
          [0, 1, 0],
          [1, 0, 1],
        ]),
        n: tensor(0),
      },
      x,
    );
    const seen = new Set<unknown>();
    for (let i = 0; i < 6; i++) {
      expect(b.s.h.toArray()).toEqual(a.s.h.toArray());
      expect(b.s.n.item()).toBe(a.s.n.item());
      expect(b.y.item()).toBe(a.y.item());
      seen.add(b.s.h.storage);
      const before = allocations.count;
      a = plain(a.s, x);
      b = donating(b.s, x);
      // plain allocates its three results; donating, after its first call, only one: h' and one of the two
      // float32 scalars (n', y) take the storage of the donated h and n, the other needs a fresh array
      if (i > 0) expect(allocations.count - before).toBe(3 + 1);
    }
    // two arrays alternate as h's storage
    expect(seen.size).toBe(2);
  });

  it('makes donated tensors unreadable, with an error that says why', () => {
    const f = jit((a: Tensor) => mul(a, 2), { donate: [0] });
    const a = tensor([1, 2, 3]);
    const r = f(a);
    expect(r.toArray()).toEqual([2, 4, 6]);
    expect(() => a.toArray()).toThrow(/donated to a jitted call/);
    expect(() => f(a)).toThrow(/argument args\[0\] \(Tensor\(f32\[3\]\)\) was donated to an earlier call/);
  });

  it('never recycles storage a result or a kept argument still uses', () => {
    // a result that is the donated argument itself, and the same tensor passed donated and kept
    const f = jit((a: Tensor, b: Tensor) => ({ same: a, twice: add(a, b) }), { donate: [0] });
    const a = tensor([1, 2]);
    const r1 = f(a, a);
    expect(r1.same.toArray()).toEqual([1, 2]);
    expect(r1.twice.toArray()).toEqual([2, 4]);
    const c = tensor([5, 6]);
    const r2 = f(r1.twice, c);
    const r3 = f(r2.twice, c);
    expect(r1.same.toArray()).toEqual([1, 2]);
    expect(r2.same.toArray()).toEqual([2, 4]);
    expect(r3.twice.toArray()).toEqual([12, 16]);
  });

  it('does not recycle a view into shared storage', () => {
    const f = jit((a: Tensor) => mul(a, 3), { donate: [0] });
    const base = new Float32Array([1, 2, 3, 4]);
    const view = tensor(base.subarray(0, 2));
    const r1 = f(view);
    const r2 = f(r1);
    const r3 = f(tensor([1, 1]));
    expect(r2.toArray()).toEqual([9, 18]);
    expect(r3.toArray()).toEqual([3, 3]);
    expect((r3.storage as Float32Array).buffer).not.toBe(base.buffer);
  });

  it('leaves a reshape of a kept argument alone', () => {
    const f = jit((a: Tensor, b: Tensor) => add(a, reshape(b, [2])), { donate: [0] });
    const b = tensor([[10], [20]]);
    let r = f(tensor([1, 2]), b);
    for (let i = 0; i < 3; i++) r = f(r, b);
    expect(r.toArray()).toEqual([41, 82]);
    expect(b.toArray()).toEqual([[10], [20]]);
  });

  it('rejects bad donate options and positions, naming them', () => {
    expect(() => jit((a: Tensor) => a, { donate: [-1] })).toThrow(/jit: donate\[0\] must be a non-negative integer/);
    expect(() => jit((a: Tensor) => a, { donate: [0, 0] })).toThrow(/jit: donate lists argument 0 twice/);
    expect(() => jit((a: Tensor) => mul(a, 2), { donate: [1] })(tensor([1]))).toThrow(/jit: donate names argument 1, but the call has 1 arguments/);
  });
});
