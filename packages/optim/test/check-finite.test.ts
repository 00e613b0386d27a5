/** The NaN guard: the first non-finite leaf is named by its tree path and index. */
import { ArgumentError, jit, tensor, trace, type Tensor } from '@tapestry/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyUpdates, checkFinite, guardFinite, NonFiniteError, sgd, type GradientTransformation } from '@tapestry/optim';
import { problemArb } from './arbitraries.js';
import { snapshot } from './helpers.js';

describe('checkFinite', () => {
  it('returns a finite tree unchanged (the same object)', () => {
    const t = { w: tensor([1, 2]), layers: [{ b: tensor([[3]]) }] };
    expect(checkFinite(t)).toBe(t);
  });

  it('names the first non-finite leaf by its path, its index and the count', () => {
    const t = {
      embed: tensor([1, 2, 3]),
      layers: [
        {
          w: tensor([
            [1, 2],
            [3, 4],
          ]),
        },
        {
          w: tensor([
            [1, Infinity],
            [Number.NaN, 4],
            [5, Number.NaN],
          ]),
        },
      ],
      head: tensor([Number.NaN]),
    };
    let error: unknown;
    try {
      checkFinite(t, { name: 'grads' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NonFiniteError);
    expect(error).toBeInstanceOf(ArgumentError);
    const e = error as NonFiniteError;
    expect(e.path).toBe('grads.layers[1].w');
    expect(e.index).toEqual([0, 1]);
    expect(e.value).toBe(Infinity);
    expect(e.message).toMatch(/^checkFinite: grads\.layers\[1\]\.w\[0, 1\] is Infinity \(3 of 6 values in that leaf are not finite\)/);
    expect(e.message).toMatch(/lower the learning rate/);
  });

  it('handles a 0-d leaf and a bare tensor root', () => {
    expect(() => checkFinite({ loss: tensor(Number.NaN) })).toThrow(/^checkFinite: tree\.loss is NaN \(1 of 1/);
    expect(() => checkFinite(tensor([0, -Infinity]), { name: 'x' })).toThrow(/^checkFinite: x\[1\] is -Infinity/);
  });

  it('finds a NaN planted anywhere in a random tree', () => {
    fc.assert(
      fc.property(problemArb(0), fc.nat(), fc.nat(), ({ params }, leafPick, elemPick) => {
        const entries = Object.entries(params).flatMap(([k, v]) => (Array.isArray(v) ? v.map((t, i) => [`${k}[${i}]`, t] as const) : [[k, v] as const]));
        const [path, leaf] = entries[leafPick % entries.length]!;
        const data = (leaf as ReturnType<typeof tensor>).dataSync();
        const at = elemPick % data.length;
        data[at] = Number.NaN;
        const poisoned = tensor(data as Float64Array, { shape: [...(leaf as ReturnType<typeof tensor>).shape] });
        const [key, idx] = path.includes('[') ? [path.slice(0, path.indexOf('[')), Number(path.slice(path.indexOf('[') + 1, -1))] : [path, -1];
        const tree: Record<string, unknown> = { ...params };
        if (idx < 0) tree[key] = poisoned;
        else tree[key] = (tree[key] as unknown[]).map((t, i) => (i === idx ? poisoned : t));
        expect(() => checkFinite(tree, { name: 'p' })).toThrow(NonFiniteError);
        try {
          checkFinite(tree, { name: 'p' });
        } catch (e) {
          expect((e as NonFiniteError).path).toBe(`p.${path}`);
          const shape = poisoned.shape;
          const flat = (e as NonFiniteError).index.reduce((acc, i, axis) => acc * shape[axis]! + i, 0);
          expect(flat).toBe(at);
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('checkFinite under trace', () => {
  it('refuses abstract values and points to guardFinite', () => {
    const check = (g: { w: Tensor }) => checkFinite(g, { name: 'grads' });
    expect(() => trace(check, { w: tensor([1, 2]) })).toThrow(ArgumentError);
    expect(() => trace(check, { w: tensor([1, 2]) })).toThrow(/^checkFinite: grads\.w is an abstract value of trace\/jit .*use guardFinite\(optimizer\)/);
    expect(() => jit(check)({ w: tensor([1, 2]) })).toThrow(/checkFinite: grads\.w is an abstract value/);
  });
});

describe('guardFinite', () => {
  const f64 = (v: number[]) => tensor(v, { dtype: 'float64' });
  const values = (tree: unknown) => snapshot(tree);

  it('skips a step whose gradients are not finite: zero updates, the inner state kept, the tallies counted', () => {
    const inner = sgd({ lr: 0.1, momentum: 0.9 });
    const opt = guardFinite(inner);
    const params = { w: f64([1, 2]) };
    const s0 = opt.init(params);
    expect([s0.notFiniteCount.item(), s0.lastFinite.item(), s0.totalNotFinite.item()]).toEqual([0, 1, 0]);
    expect(s0.notFiniteCount.dtype).toBe('int32');

    const ok = opt.update({ w: f64([0.5, 0.5]) }, s0, params);
    const plain = inner.update({ w: f64([0.5, 0.5]) }, inner.init(params), params);
    expect(values(ok.updates)).toEqual(values(plain.updates));
    expect(values(ok.state.inner)).toEqual(values(plain.state));
    expect(applyUpdates(params, ok.updates).w.toArray()).toEqual([0.95, 1.95]);

    const bad = opt.update({ w: f64([0.5, Number.NaN]) }, ok.state, params);
    expect(bad.updates.w.toArray()).toEqual([0, 0]);
    expect(values(bad.state.inner)).toEqual(values(ok.state.inner)); // momentum buffer and counts unchanged
    expect([bad.state.notFiniteCount.item(), bad.state.lastFinite.item(), bad.state.totalNotFinite.item()]).toEqual([1, 0, 1]);

    const worse = opt.update({ w: f64([Infinity, 0]) }, bad.state, params);
    expect([worse.state.notFiniteCount.item(), worse.state.lastFinite.item(), worse.state.totalNotFinite.item()]).toEqual([2, 0, 2]);

    // the next finite step continues exactly as if the skipped steps had never happened
    const resumed = opt.update({ w: f64([0.25, -1]) }, worse.state, params);
    const reference = inner.update({ w: f64([0.25, -1]) }, plain.state, params);
    expect(values(resumed.updates)).toEqual(values(reference.updates));
    expect(values(resumed.state.inner)).toEqual(values(reference.state));
    expect([resumed.state.notFiniteCount.item(), resumed.state.lastFinite.item(), resumed.state.totalNotFinite.item()]).toEqual([0, 1, 2]);
  });

  it('also skips a step the inner transformation made non-finite', () => {
    const opt = guardFinite(sgd({ lr: 1e10 }));
    const params = { w: f64([1, 2]) };
    const state = opt.init(params);
    // 1e300 · 1e10 overflows to -Infinity in the update although the gradient itself is finite
    const overflow = opt.update({ w: f64([1, 1e300]) }, state, params);
    expect(overflow.updates.w.toArray()).toEqual([0, 0]);
    expect(overflow.state.lastFinite.item()).toBe(0);
    expect(opt.update({ w: f64([1, 1]) }, state, params).updates.w.toArray()).toEqual([-1e10, -1e10]);
  });

  it('rejects a missing inner transformation and a foreign state', () => {
    expect(() => guardFinite(undefined as unknown as GradientTransformation)).toThrow(/^guardFinite: inner must be a transformation/);
    const opt = guardFinite(sgd({ lr: 0.1 }));
    const params = { w: f64([1]) };
    expect(() => opt.update(params, { inner: opt.init(params).inner } as never, params)).toThrow(/^guardFinite\.update: state has no 'notFiniteCount'/);
  });
});
