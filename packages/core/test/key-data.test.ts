/**
 * Key tensors: a key's words as an int32 tensor, so random ops trace like any other op. The same key gives
 * the same numbers as a Key or as a key tensor, eager or jitted; a jitted function given a new key tensor
 * draws new numbers from one compiled plan; bad key tensors are refused by name.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ArgumentError,
  bernoulli,
  categorical,
  DTypeError,
  foldIn,
  jit,
  keyData,
  keyFromData,
  mul,
  normal,
  randomKey,
  ShapeError,
  splitKey,
  sum,
  tensor,
  trace,
  uniform,
  valueAndGrad,
  type Key,
  type Tensor,
} from '@tapestry/core';

const seeds = fc.integer({ min: 0, max: 2 ** 40 });
const shapes = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 3 });
const same = (a: Tensor, b: Tensor) => {
  expect(a.shape).toEqual(b.shape);
  expect(a.dtype).toBe(b.dtype);
  expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
};

describe('key tensors', () => {
  it('hold the key words and round-trip through keyFromData', () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const key = randomKey(seed);
        const data = keyData(key);
        expect(data.shape).toEqual([2]);
        expect(data.dtype).toBe('int32');
        expect(keyFromData(data).toWords()).toEqual(key.toWords());
      }),
    );
  });

  it('split and foldIn give the key tensors of the keys split and foldIn give', () => {
    fc.assert(
      fc.property(seeds, fc.integer({ min: 1, max: 4 }), fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), (seed, n, data) => {
        const key = randomKey(seed);
        const split = splitKey(keyData(key), n);
        splitKey(key, n).forEach((k, i) => same(split[i]!, keyData(k)));
        same(foldIn(keyData(key), data), keyData(foldIn(key, data)));
      }),
    );
  });

  it('every sampler draws the same numbers from a Key and from its key tensor', () => {
    fc.assert(
      fc.property(seeds, shapes, fc.constantFrom('float32' as const, 'float64' as const), (seed, shape, dtype) => {
        const key = randomKey(seed);
        const data = keyData(key);
        same(uniform(data, shape, { dtype, low: -2, high: 3 }), uniform(key, shape, { dtype, low: -2, high: 3 }));
        same(normal(data, shape, { dtype, mean: 1, std: 2 }), normal(key, shape, { dtype, mean: 1, std: 2 }));
        same(bernoulli(data, 0.3, shape, dtype), bernoulli(key, 0.3, shape, dtype));
        const logits = normal(foldIn(key, 1), [...shape, 3], { dtype });
        same(categorical(data, logits), categorical(key, logits));
      }),
    );
  });
});

describe('random ops under trace and jit', () => {
  it('are graph nodes reading the key argument, not constants', () => {
    const g = trace((k: Tensor) => uniform(foldIn(k, 3), [2, 2]), keyData(randomKey(0)));
    expect(g.opCounts()).toMatchObject({ deriveKey: 1, random: 1 });
    expect(g.toString()).toContain('= input(args[0])');
  });

  it('a jitted function draws new numbers for each key, equal to eager, from one plan', () => {
    const draw = (k: Tensor) => ({ u: uniform(k, [3, 4]), b: bernoulli(foldIn(k, 1), 0.5, [7], 'float64'), n: normal(splitKey(k, 2)[1]!, [5]) });
    const compiled = jit(draw);
    const results = [0, 1, 2].map((seed) => {
      const key: Key = randomKey(seed);
      const got = compiled(keyData(key));
      const want = draw(keyData(key));
      same(got.u, want.u);
      same(got.b, want.b);
      same(got.n, want.n);
      same(got.u, uniform(key, [3, 4]));
      return Array.from(got.u.dataSync());
    });
    expect(results[0]).not.toEqual(results[1]);
    expect(compiled.cacheSize).toBe(1);
  });

  it('a key tensor built inside the function from a Key is a constant: the same numbers each call', () => {
    const compiled = jit((x: Tensor) => mul(x, uniform(keyData(randomKey(4)), [3])));
    const x = tensor([1, 1, 1]);
    same(compiled(x), compiled(x));
    same(compiled(x), uniform(randomKey(4), [3]));
  });

  it('have no gradient; a loss through a mask differentiates the same eager and jitted', () => {
    const loss = (w: Tensor, k: Tensor) => sum(mul(mul(w, w), bernoulli(k, 0.5, [6], 'float64')));
    const w = tensor([1, 2, 3, 4, 5, 6], { dtype: 'float64' });
    const k = keyData(randomKey(9));
    const [value, g] = valueAndGrad(loss)(w, k);
    const [jv, jg] = jit(valueAndGrad(loss))(w, k);
    same(jv, value);
    same(jg, g);
    const mask = bernoulli(randomKey(9), 0.5, [6], 'float64').dataSync();
    expect(Array.from(g.dataSync())).toEqual([1, 2, 3, 4, 5, 6].map((v, i) => 2 * v * mask[i]!));
  });
});

describe('bad key tensors', () => {
  it('are refused, naming the op and what was wrong', () => {
    expect(() => uniform(tensor([1, 2]), [2])).toThrow(DTypeError);
    expect(() => uniform(tensor([1, 2]), [2])).toThrow('uniform: a key tensor must be int32 (from keyData), got float32');
    expect(() => foldIn(tensor([1, 2, 3], { dtype: 'int32' }), 1)).toThrow(ShapeError);
    expect(() => foldIn(tensor([1, 2, 3], { dtype: 'int32' }), 1)).toThrow('foldIn: a key tensor has shape [2] (from keyData), got [3]');
    expect(() => bernoulli(3 as unknown as Key, 0.5, [2])).toThrow(ArgumentError);
    expect(() => keyFromData(tensor([[1, 2]], { dtype: 'int32' }))).toThrow('keyFromData: a key tensor has shape [2]');
  });

  it('keyFromData refuses a traced key (it has no words yet)', () => {
    expect(() => trace((k: Tensor) => keyFromData(k), keyData(randomKey(0)))).toThrow('keyFromData: the key tensor is traced and has no value yet');
  });
});
