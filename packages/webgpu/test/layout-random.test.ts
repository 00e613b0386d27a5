/**
 * Layout, indexing and random kernels against core's CPU. Layout ops, gather, oneHot and scatterAdd (which
 * adds each output's rows in index order, as the CPU does) must match bit for bit; so must threefry's words
 * (deriveKey), float32 `uniform` on [0, 1) (dropout's draw) and `bernoulli` (an exact integer comparison).
 * `normal` and the Gumbel noise of `categorical` go through float32 log/sqrt/cos on the GPU and float64 on the
 * CPU, so they agree within a few float32 ulps (tolerances below), and categorical draws agree exactly on the
 * seeds tested (a flip would need logits + noise to tie within those ulps).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@tapestry/core';
import { keyData, randomKey, type Tensor } from '@tapestry/core';
// core's sampler (internal to core): the CPU reference for the Gumbel noise categorical draws
import { drawSample } from '../../core/src/random/samplers.js';
import { backendOrSkip, mismatch, runOnGpu, RUNS, shapeArb, values } from './gpu-harness.js';

const backend = await backendOrSkip('layout-random');

describe.skipIf(backend === null)('webgpu layout and indexing kernels', () => {
  const gpu = backend!;

  it('reshape, transpose and broadcastTo match the CPU exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb(1, 4, 4).chain((s) =>
          fc.tuple(
            fc.constant(s),
            fc.shuffledSubarray(
              s.map((_, i) => i),
              { minLength: s.length, maxLength: s.length },
            ),
          ),
        ),
        fc.integer({ min: 0, max: 999 }),
        async ([shape, perm], seed) => {
          const x = values(shape, seed);
          const t = core.transpose(x, perm);
          expect(mismatch(await runOnGpu(gpu, 'transpose', [x], t, { perm }), t, 0, 0)).toBeNull();
          const r = core.reshape(x, [x.size]);
          expect(mismatch(await runOnGpu(gpu, 'reshape', [x], r, { shape: [x.size] }), r, 0, 0)).toBeNull();
          // every other axis cut to size 1, then broadcast back with a new leading axis
          const target = [2, ...shape];
          const small = core.slice(
            x,
            shape.map(() => 0),
            shape.map((d, i) => (i % 2 === 1 ? 1 : d)),
          );
          const b = core.broadcastTo(small, target);
          expect(mismatch(await runOnGpu(gpu, 'broadcastTo', [small], b, { shape: target }), b, 0, 0)).toBeNull();
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('slice and pad (its transpose) match the CPU exactly, int32 too', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb(1, 4, 5).chain((s) =>
          fc.tuple(
            fc.constant(s),
            fc.tuple(...s.map((d) => fc.integer({ min: 0, max: d - 1 }).chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: d - b }))))),
          ),
        ),
        fc.integer({ min: 0, max: 999 }),
        fc.boolean(),
        async ([shape, spans], seed, int) => {
          const x = values(shape, seed, -9, 9, int ? 'int32' : 'float32');
          const begin = spans.map(([b]) => b);
          const size = spans.map(([, s]) => s);
          const sl = core.slice(x, begin, size);
          if (sl === x) return;
          expect(mismatch(await runOnGpu(gpu, 'slice', [x], sl, { begin, size }), sl, 0, 0)).toBeNull();
          // pad is slice's VJP: the gradient of sum(slice(x) * w) puts w back where the slice came from
          const w = values(size, seed + 1);
          const padded = core.grad((z: Tensor) => core.sum(core.mul(core.slice(z, begin, size), w)))(values(shape, seed + 2));
          expect(mismatch(await runOnGpu(gpu, 'pad', [w], padded, { begin, shape }), padded, 0, 0)).toBeNull();
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('concat of many inputs (more than a shader can bind) matches the CPU exactly', async () => {
    const parts = Array.from({ length: 20 }, (_, i) => values([2, (i % 3) + 1, 3], i));
    const want = core.concat(parts, 1);
    const before = gpu.stats.dispatches;
    expect(mismatch(await runOnGpu(gpu, 'concat', parts, want, { axis: 1 }), want, 0, 0)).toBeNull();
    expect(gpu.stats.dispatches - before).toBe(Math.ceil(20 / (gpu.maxBindings - 1)));
    await fc.assert(
      fc.asyncProperty(
        shapeArb(1, 3, 4).chain((s) =>
          fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length - 1 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 2, maxLength: 4 })),
        ),
        fc.integer({ min: 0, max: 999 }),
        async ([shape, axis, sizes], seed) => {
          const xs = sizes.map((d, i) =>
            values(
              shape.map((s, j) => (j === axis ? d : s)),
              seed + i,
            ),
          );
          const c = core.concat(xs, axis);
          if (c.size === 0) return;
          expect(mismatch(await runOnGpu(gpu, 'concat', xs, c, { axis }), c, 0, 0)).toBeNull();
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('gather, scatterAdd (its transpose, with repeated indices) and oneHot match the CPU exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb(1, 3, 5).chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length - 1 }), shapeArb(1, 2, 6))),
        fc.integer({ min: 0, max: 999 }),
        async ([shape, axis, idxShape], seed) => {
          const x = values(shape, seed);
          const n = shape[axis]!;
          const idx = core.cast(core.floor(values(idxShape, seed + 1, 0, n)), 'int32');
          const g = core.gather(x, idx, axis);
          expect(mismatch(await runOnGpu(gpu, 'gather', [x, idx], g, { axis }), g, 0, 0)).toBeNull();
          const ct = values(g.shape, seed + 2);
          const scattered = core.grad((z: Tensor) => core.sum(core.mul(core.gather(z, idx, axis), ct)))(x);
          expect(mismatch(await runOnGpu(gpu, 'scatterAdd', [ct, idx], scattered, { axis, shape }), scattered, 0, 0)).toBeNull();
          const oh = core.oneHot(idx, n + 1);
          expect(mismatch(await runOnGpu(gpu, 'oneHot', [idx], oh, { depth: n + 1, dtype: 'float32' }), oh, 0, 0)).toBeNull();
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe.skipIf(backend === null)('webgpu random kernels', () => {
  const gpu = backend!;
  const seeds = fc.integer({ min: 0, max: 2 ** 40 });

  it("deriveKey gives the CPU's threefry words bit for bit (split and foldIn)", async () => {
    await fc.assert(
      fc.asyncProperty(seeds, fc.integer({ min: 0, max: 2 ** 32 - 1 }), async (seed, data) => {
        const k = keyData(randomKey(seed));
        for (const [c0, c1, want] of [
          [1, 3, core.splitKey(k, 4)[3]!],
          [2, data >>> 0, core.foldIn(k, data)],
        ] as const) {
          expect(mismatch(await runOnGpu(gpu, 'deriveKey', [k], want, { c0, c1 }), want, 0, 0)).toBeNull();
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("uniform on [0, 1) (dropout's draw) and bernoulli are bit-identical to the CPU; other bounds within an ulp", async () => {
    await fc.assert(
      fc.asyncProperty(seeds, shapeArb(0, 3, 40), fc.double({ min: 0, max: 1, noNaN: true }), async (seed, shape, p) => {
        const k = keyData(randomKey(seed));
        const u = core.uniform(k, shape);
        expect(mismatch(await runOnGpu(gpu, 'random', [k], u, { kind: 'uniform', shape, dtype: 'float32', low: 0, high: 1 }), u, 0, 0)).toBeNull();
        const v = core.uniform(k, shape, { low: -3, high: 5 });
        expect(
          mismatch(await runOnGpu(gpu, 'random', [k], v, { kind: 'uniform', shape, dtype: 'float32', low: -3, high: 5 }), v, 2 ** -23, 2 ** -22),
        ).toBeNull();
        for (const dtype of ['float32', 'int32'] as const) {
          const bern = core.bernoulli(k, p, shape, dtype);
          expect(mismatch(await runOnGpu(gpu, 'random', [k], bern, { kind: 'bernoulli', shape, dtype, p }), bern, 0, 0)).toBeNull();
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('bernoulli thresholds are exact at the 53-bit boundary', async () => {
    // p just above and below a drawn uniform: the comparison must flip exactly where the CPU's does
    const k = keyData(randomKey(7));
    const u = core.uniform(k, [64], { dtype: 'float64' });
    for (const i of [0, 5, 63]) {
      const exact = u.dataSync()[i]!;
      for (const p of [exact, exact + 2 ** -53, Math.max(0, exact - 2 ** -53)]) {
        const want = core.bernoulli(k, p, [64]);
        expect(mismatch(await runOnGpu(gpu, 'random', [k], want, { kind: 'bernoulli', shape: [64], dtype: 'float32', p }), want, 0, 0)).toBeNull();
      }
    }
  });

  it('normal and Gumbel noise agree within float32 transcendental error; categorical draws agree', async () => {
    await fc.assert(
      fc.asyncProperty(seeds, shapeArb(1, 2, 30), async (seed, shape) => {
        const k = keyData(randomKey(seed));
        const z = core.normal(k, shape, { mean: 1, std: 2 });
        const gz = await runOnGpu(gpu, 'random', [k], z, { kind: 'normal', shape, dtype: 'float32', mean: 1, std: 2 });
        // an odd count leaves the last element's sine partner undrawn: draw one more for its pair's radius
        const paired = core.normal(k, [z.size + (z.size % 2)], { mean: 1, std: 2 }).dataSync();
        expect(Array.from(paired.subarray(0, z.size))).toEqual(Array.from(z.dataSync()));
        expect(normalMismatch(gz, z, paired, 1, 2)).toBeNull();
        const gumbel = gumbelOf(seed, shape);
        expect(mismatch(await runOnGpu(gpu, 'random', [k], gumbel, { kind: 'gumbel', shape, dtype: 'float32' }), gumbel, 2 ** -20, 2 ** -21)).toBeNull();
      }),
      // a pair whose float32 angle moved an element by 1.1e-6 (the fixed 2⁻¹⁹ bound this replaced failed it),
      // and a pair of radius 0.034 whose 1 − u, rounded to f32, once cost the radius its digits (element 56)
      {
        numRuns: RUNS,
        examples: [
          [270410278534, [2, 26]],
          [1099498978299, [3, 19]],
        ],
      },
    );
    // categorical = argmax(logits + Gumbel noise): the GPU noise, added and argmaxed on the CPU, picks the same ids
    for (let seed = 0; seed < 20; seed++) {
      const k = keyData(randomKey(seed));
      const logits = values([16, 50], seed);
      const noise = await runOnGpu(gpu, 'random', [k], logits, { kind: 'gumbel', shape: [16, 50], dtype: 'float32' });
      const ids = core.argmax(core.add(logits, new core.Tensor(noise, [16, 50], 'float32')), -1);
      expect(Array.from(ids.dataSync())).toEqual(Array.from(core.categorical(k, logits).dataSync()));
    }
  });
});

/**
 * Box–Muller's angle is 2π·v: the CPU forms it in float64, the GPU in float32, whose rounding (≤ 2⁻²¹ for an
 * angle below 8, with the roundings of v's two halves) moves cos/sin by up to radius · 2⁻²⁰; the float32
 * radius and the GPU's cos/sin add a few ulps more. So element i of a pair may differ by
 * std · (radius · 2⁻²⁰ + 2⁻²¹), with the pair's radius read off the CPU values: (y₀ − mean)² + (y₁ − mean)² = (std · r)².
 * `paired` is the CPU's draw of an even count (the sample, then the last pair's sine when the count is odd):
 * reading the last element's radius off its cosine alone under-states it, which made the bound fail by chance.
 */
function normalMismatch(gpuData: ArrayLike<number>, cpu: Tensor, paired: ArrayLike<number>, mean: number, std: number): string | null {
  const want = cpu.dataSync();
  for (let i = 0; i < want.length; i++) {
    const p = i - (i % 2);
    const a = (paired[p]! - mean) / std;
    const b = (paired[p + 1]! - mean) / std;
    const radius = Math.hypot(a, b);
    const tolerance = std * (radius * 2 ** -20 + 2 ** -21);
    if (!(Math.abs(gpuData[i]! - want[i]!) <= tolerance)) {
      return `element ${i}: gpu ${gpuData[i]}, cpu ${want[i]} (radius ${radius}, tolerance ${tolerance}, shape [${cpu.shape.join(', ')}])`;
    }
  }
  return null;
}

/** The CPU's Gumbel noise for a key (what categorical adds to the logits), from core's sampler itself. */
function gumbelOf(seed: number, shape: readonly number[]): Tensor {
  const key = randomKey(seed);
  return new core.Tensor(drawSample(key.k0, key.k1, { kind: 'gumbel', shape, dtype: 'float32' }), shape, 'float32');
}
