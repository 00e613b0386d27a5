import {
  add,
  cast,
  checkGrad,
  foldIn,
  grad,
  jit,
  keyData,
  matmul,
  mean,
  mul,
  normal,
  randomKey,
  slice,
  square,
  sum,
  tensor,
  Tensor,
  transpose,
  treeLeaves,
  valueAndGrad,
  zeros,
} from '@tapestry/core';
import { crossEntropy, dropout, embedding, init, linear, lstm, mse } from '@tapestry/layers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose, expectExact } from './helpers.js';

describe('linear', () => {
  it('computes x Wᵀ + b over the last axis with PyTorch init bounds', () => {
    const head = linear({ inFeatures: 4, outFeatures: 3, dtype: 'float64' });
    const p = head.init(randomKey(0));
    expect(p.weight.shape).toEqual([3, 4]);
    expect(Math.max(...Array.from(p.weight.dataSync(), Math.abs))).toBeLessThanOrEqual(0.5);
    const x = normal(randomKey(1), [2, 5, 4], { dtype: 'float64' });
    const y = head.apply(p, x);
    expect(y.shape).toEqual([2, 5, 3]);
    expectClose(y, add(matmul(x, transpose(p.weight)), p.bias!), 0, 'y');
    expect(linear({ inFeatures: 4, outFeatures: 3, bias: false }).init(randomKey(0)).bias).toBeUndefined();
    expect(() => head.apply(p, zeros([2, 5], 'float64'))).toThrow(/linear: x must be \[\.\.\., inFeatures\] = \[\.\.\., 4\], got \[2, 5\]/);
  });

  it('gradients equal finite differences', () => {
    const head = linear({ inFeatures: 3, outFeatures: 2, dtype: 'float64' });
    const r = checkGrad(
      (p, x: Tensor) => sum(mul(head.apply(p, x), head.apply(p, x))),
      [head.init(randomKey(0)), normal(randomKey(2), [4, 3], { dtype: 'float64' })],
    );
    expect(r.ok, r.message).toBe(true);
  });
});

describe('embedding', () => {
  it('looks rows up and scatters gradients back, summing repeated ids', () => {
    const embed = embedding({ numEmbeddings: 5, embeddingDim: 2, dtype: 'float64' });
    const p = embed.init(randomKey(0));
    const ids = tensor([[1, 4, 1]], { dtype: 'int32' });
    const v = embed.apply(p, ids);
    expect(v.shape).toEqual([1, 3, 2]);
    const w = p.weight.toArray() as number[][];
    expect(v.toArray()).toEqual([[w[1], w[4], w[1]]]);
    const g = grad((q: typeof p) => sum(embed.apply(q, ids)))(p) as typeof p;
    expect(g.weight.toArray()).toEqual([
      [0, 0],
      [2, 2],
      [0, 0],
      [0, 0],
      [1, 1],
    ]);
  });

  it('rejects ids out of range or of the wrong dtype', () => {
    const embed = embedding({ numEmbeddings: 5, embeddingDim: 2 });
    const p = embed.init(randomKey(0));
    expect(() => embed.apply(p, tensor([0, 5], { dtype: 'int32' }))).toThrow(/embedding: ids contains 5 \(at flat index 1\), outside 0 … 4/);
    expect(() => embed.apply(p, tensor([0, 1]))).toThrow(/ids must be int32/);
  });
});

describe('dropout', () => {
  const x = normal(randomKey(0), [200, 50], { dtype: 'float64' });
  it('is the identity when not training or p = 0', () => {
    expect(dropout(x, 0.5, { training: false })).toBe(x);
    expect(dropout(x, 0, { key: randomKey(1) })).toBe(x);
  });

  it('zeroes about p of the elements, scales survivors by 1/(1-p), and is reproducible from the key', () => {
    const y = dropout(x, 0.3, { key: randomKey(1) });
    const xs = x.dataSync();
    const ys = y.dataSync();
    let zeros = 0;
    for (let i = 0; i < xs.length; i++) {
      if (ys[i] === 0) zeros++;
      else expect(ys[i]).toBeCloseTo(xs[i]! / 0.7, 12);
    }
    expect(zeros / xs.length).toBeGreaterThan(0.27);
    expect(zeros / xs.length).toBeLessThan(0.33);
    expectExact(dropout(x, 0.3, { key: randomKey(1) }), y, 'same key');
    expect(Array.from(dropout(x, 0.3, { key: randomKey(2) }).dataSync())).not.toEqual(Array.from(ys));
    expect(Array.from(dropout(x, 1, { key: randomKey(1) }).dataSync()).every((v) => v === 0)).toBe(true);
  });

  it('draws the same mask from a key tensor, eager or jitted, and a new one for each key a jitted step is given', () => {
    const compiled = jit((x: Tensor, k: Tensor) => dropout(x, 0.3, { key: k }));
    const masks = [1, 2].map((seed) => {
      const eager = dropout(x, 0.3, { key: randomKey(seed) });
      expectExact(dropout(x, 0.3, { key: keyData(randomKey(seed)) }), eager, 'key tensor');
      expectExact(compiled(x, keyData(randomKey(seed))), eager, 'jitted');
      return Array.from(eager.dataSync(), (v) => v === 0);
    });
    expect(masks[0]).not.toEqual(masks[1]);
    expect(compiled.cacheSize).toBe(1);
  });

  it('a jitted loss through dropout and recurrent layers has the eager gradients', () => {
    const layer = lstm({ inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: 0.4, dtype: 'float64' });
    const p = layer.init(randomKey(0));
    const xs = normal(randomKey(1), [2, 5, 3], { dtype: 'float64' });
    const loss = (params: typeof p, k: Tensor) => sum(square(dropout(layer.apply(params, xs, { training: true, key: k }).output, 0.25, { key: foldIn(k, 9) })));
    const step = jit(valueAndGrad(loss));
    for (const seed of [3, 4]) {
      const k = keyData(randomKey(seed));
      const [value, g] = valueAndGrad(loss)(p, k);
      const [jv, jg] = step(p, k);
      expectClose(jv, value, 1e-12, 'loss');
      treeLeaves<Tensor>(g).forEach((leaf, i) => expectClose(treeLeaves<Tensor>(jg)[i]!, leaf, 1e-12, `gradient leaf ${i}`));
    }
    expect(step.cacheSize).toBe(1);
  });

  it('gradients equal finite differences (float64, random shapes, rates and key tensors)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.double({ min: 0.05, max: 0.9, noNaN: true }),
        fc.nat(1000),
        (shape, p, seed) => {
          const x = normal(randomKey(seed), shape, { dtype: 'float64' });
          const k = keyData(randomKey(seed + 1));
          const r = checkGrad((x: Tensor) => sum(square(dropout(x, p, { key: k }))), [x]);
          expect(r.ok, r.message).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('needs a key when active', () => {
    expect(() => dropout(x, 0.5)).toThrow(/dropout: a key is required/);
    expect(() => dropout(x, 2, { key: randomKey(0) })).toThrow(/p must be a probability in \[0, 1\], got 2/);
  });

  it('between recurrent layers: training only, from the explicit key', () => {
    const layer = lstm({ inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: 0.5, dtype: 'float64' });
    const plain = lstm({ inputSize: 3, hiddenSize: 4, numLayers: 2, dtype: 'float64' });
    const p = layer.init(randomKey(0));
    const xs = normal(randomKey(1), [2, 3, 3], { dtype: 'float64' });
    expectExact(layer.apply(p, xs).output, plain.apply(p, xs).output, 'evaluation ignores dropout');
    const a = layer.apply(p, xs, { training: true, key: randomKey(5) });
    expectExact(layer.apply(p, xs, { training: true, key: randomKey(5) }).output, a.output, 'same key');
    expect(Array.from(a.output.dataSync())).not.toEqual(Array.from(plain.apply(p, xs).output.dataSync()));
    // only between layers: the first layer's final state is untouched
    const firstLayer = (h: Tensor) => slice(h, [0, 0, 0], [1, -1, -1]);
    expectExact(firstLayer(a.state.h), firstLayer(plain.apply(p, xs).state.h), 'layer 0 state.h');
    const single = lstm({ inputSize: 3, hiddenSize: 4, dropout: 0.5, dtype: 'float64' });
    const q = single.init(randomKey(0));
    expectExact(single.apply(q, xs, { training: true, key: randomKey(5) }).output, single.apply(q, xs).output, 'one layer: nothing to drop');
  });
});

describe('initialisers', () => {
  it('uniform, normal and zeros', () => {
    const u = init.uniform(-0.2, 0.3)(randomKey(0), [1000], 'float64').dataSync();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-0.2);
    expect(Math.max(...u)).toBeLessThan(0.3);
    expect(init.zeros()(randomKey(0), [2, 3], 'float32').toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    const n = init.normal(1, 2)(randomKey(0), [4000], 'float64');
    expect(mean(n).item()).toBeCloseTo(1, 1);
  });

  it('xavierUniform uses gain * sqrt(6 / (fanIn + fanOut))', () => {
    const w = init.xavierUniform(2)(randomKey(0), [30, 20], 'float64').dataSync();
    const bound = 2 * Math.sqrt(6 / 50);
    expect(Math.max(...Array.from(w, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(w, Math.abs))).toBeGreaterThan(0.95 * bound);
    expect(() => init.xavierUniform()(randomKey(0), [3], 'float64')).toThrow(/at least 2 axes/);
  });

  it('orthogonal: orthonormal rows (wide) or columns (tall), times gain, for any shape', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 1e6 }), (rows, cols, seed) => {
        const q = init.orthogonal(1.5)(randomKey(seed), [rows, cols], 'float64');
        const gram = rows <= cols ? matmul(q, transpose(q)) : matmul(transpose(q), q);
        const k = Math.min(rows, cols);
        const want = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? 2.25 : 0)));
        expectClose(gram, want, 1e-12, 'gram');
      }),
      { numRuns: 30 },
    );
  });

  it('orthogonal in float32 (blocked float32 products for tall shapes) is orthonormal to float32 rounding', () => {
    for (const shape of [
      [400, 100],
      [100, 400],
      [150, 150],
    ] as const) {
      const q = cast(init.orthogonal()(randomKey(3), shape, 'float32'), 'float64');
      const k = Math.min(...shape);
      const gram = shape[0] <= shape[1] ? matmul(q, transpose(q)) : matmul(transpose(q), q);
      expectClose(
        gram,
        Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? 1 : 0))),
        1e-6,
        `gram ${shape}`,
      );
    }
  });

  it('orthogonal is fast: a char-RNN LSTM recurrent weight [512, 128] without freezing a page', () => {
    init.orthogonal()(randomKey(1), [64, 16], 'float32'); // warm the JIT
    const start = performance.now();
    const q = init.orthogonal()(randomKey(0), [512, 128], 'float32');
    const elapsed = performance.now() - start;
    expect(q.shape).toEqual([512, 128]);
    expect(elapsed).toBeLessThan(1000); // about 20 ms measured; a 1 s ceiling for slow CI machines
  });
});

describe('losses', () => {
  it('crossEntropy checks its arguments', () => {
    const logits = zeros([2, 3, 4], 'float64');
    expect(() => crossEntropy(logits, tensor([[0, 1, 2]], { dtype: 'int32' }))).toThrow(
      /targets must have the logits' shape without the class axis, \[2, 3\], got \[1, 3\]/,
    );
    expect(() => crossEntropy(logits, tensor([0, 1, 2, 3, 0, 1], { dtype: 'int32' }))).toThrow(/reshape targets to \[2, 3\]/);
    expect(() => crossEntropy(logits, zeros([2, 3], 'float64'))).toThrow(/targets must be int32 class ids/);
    expect(() =>
      crossEntropy(
        logits,
        tensor(
          [
            [0, 1, 4],
            [0, 0, 0],
          ],
          { dtype: 'int32' },
        ),
      ),
    ).toThrow(/target 4 at flat index 2 is outside 0 … 3/);
    expect(() => crossEntropy(zeros([4], 'float64'), tensor([0], { dtype: 'int32' }))).toThrow(/logits must be \[M, C\] or \[N, T, C\]/);
  });

  it('crossEntropy of uniform logits is log C, and all-ignored mean is NaN as in PyTorch', () => {
    const logits = zeros([3, 5], 'float64');
    expect(crossEntropy(logits, tensor([0, 4, 2], { dtype: 'int32' })).item()).toBeCloseTo(Math.log(5), 14);
    expect(crossEntropy(logits, tensor([-100, -100, -100], { dtype: 'int32' })).item()).toBeNaN();
    expect(crossEntropy(logits, tensor([-100, 1, -100], { dtype: 'int32' }), { reduction: 'none' }).toArray()).toEqual([0, Math.log(5), 0]);
  });

  it('mse rejects mismatched shapes', () => {
    expect(() => mse(zeros([2, 3]), zeros([3, 2]))).toThrow(/mse: input and target must have the same shape, got \[2, 3\] and \[3, 2\]/);
  });
});
