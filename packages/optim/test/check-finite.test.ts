/** The NaN guard: the first non-finite leaf is named by its tree path and index. */
import { ArgumentError, tensor } from '@tapestry/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyUpdates, chain, checkFinite, guardFinite, NonFiniteError, sgd } from '@tapestry/optim';
import { problemArb } from './arbitraries.js';

describe('checkFinite', () => {
  it('returns a finite tree unchanged (the same object)', () => {
    const t = { w: tensor([1, 2]), layers: [{ b: tensor([[3]]) }] };
    expect(checkFinite(t)).toBe(t);
  });

  it('names the first non-finite leaf by its path, its index and the count', () => {
    const t = {
      embed: tensor([1, 2, 3]),
      layers: [{ w: tensor([[1, 2], [3, 4]]) }, { w: tensor([[1, Infinity], [Number.NaN, 4], [5, Number.NaN]]) }],
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
        const entries = Object.entries(params).flatMap(([k, v]) =>
          Array.isArray(v) ? v.map((t, i) => [`${k}[${i}]`, t] as const) : [[k, v] as const],
        );
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

describe('guardFinite', () => {
  it('stops a diverging run with the offending leaf named', () => {
    const opt = chain(guardFinite({ name: 'grads' }), sgd({ lr: 0.1 }));
    const params = { w: tensor([1, 2], { dtype: 'float64' }) };
    const state = opt.init(params);
    const ok = opt.update({ w: tensor([0.5, 0.5], { dtype: 'float64' }) }, state, params);
    expect(applyUpdates(params, ok.updates).w.toArray()).toEqual([0.95, 1.95]);
    expect(() => opt.update({ w: tensor([0.5, Number.NaN], { dtype: 'float64' }) }, state, params)).toThrow(
      /^guardFinite: grads\.w\[1\] is NaN/,
    );
  });

  it('placed last, it catches updates an optimiser made non-finite', () => {
    const opt = chain(sgd({ lr: 1e10 }), guardFinite());
    const params = { w: tensor([1, 2], { dtype: 'float64' }) };
    const state = opt.init(params);
    // 1e300 · 1e10 overflows to -Infinity in the update although the gradient itself is finite
    expect(() => opt.update({ w: tensor([1, 1e300], { dtype: 'float64' }) }, state, params)).toThrow(
      /^guardFinite: updates\.w\[1\] is -Infinity/,
    );
    expect(opt.update({ w: tensor([1, 1], { dtype: 'float64' }) }, state, params).updates.w.toArray()).toEqual([-1e10, -1e10]);
  });
});
