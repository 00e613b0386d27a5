/**
 * The GEMM kernels of both backends (TypeScript in float64 and float32, WebAssembly SIMD in float32) against a
 * naive float64 reference on random shapes and all four transpose combinations, and the transposed-flag matmul
 * primitive's gradients (and gradients of gradients). The committed wasm bytes and the
 * fallback without WebAssembly are checked in wasm-node.test.ts (Node only).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { add, checkGrad, grad, matmul, mul, sum, tanh, tensor, transpose, type Tensor } from '@tapestry/core';
import { batchedGemm, gemmBackend, gemmTs, WASM_MIN_MULTIPLY_ADDS } from '../src/kernels/matmul.js';
import { gemmWasm, wasmGemmAvailable } from '../src/kernels/wasm/gemm-wasm.js';
import { matmulT } from '../src/ops/matmul.js';

type Backend = 'ts-f64' | 'ts-f32' | 'wasm-f32';
const BACKENDS: readonly Backend[] = ['ts-f64', 'ts-f32', 'wasm-f32'];
const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

/** Deterministic values in [-1, 1) from a seed (mulberry32), exactly representable in float32. */
function values(count: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = Math.fround(((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1);
  }
  return out;
}

/** op(A)[i, p] and op(B)[p, j] of stored A ([m, k] or [k, m]) and B ([k, n] or [n, k]). */
const opA = (a: ArrayLike<number>, i: number, p: number, m: number, k: number, t: boolean): number => a[t ? p * m + i : i * k + p]!;
const opB = (b: ArrayLike<number>, p: number, j: number, k: number, n: number, t: boolean): number => b[t ? j * k + p : p * n + j]!;

/** The product in float64 and, per element, Σ_p |op(A)[i, p]·op(B)[p, j]| (what rounding errors scale with). */
function reference(a: ArrayLike<number>, b: ArrayLike<number>, m: number, n: number, k: number, tA: boolean, tB: boolean) {
  const c = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let mag = 0;
      for (let p = 0; p < k; p++) {
        const prod = opA(a, i, p, m, k, tA) * opB(b, p, j, k, n, tB);
        s += prod;
        mag += Math.abs(prod);
      }
      c[i * n + j] = s;
      magnitude[i * n + j] = mag;
    }
  }
  return { c, magnitude };
}

/**
 * Runs one backend with operands and result placed at offsets inside larger arrays (so offsets are honoured)
 * and checks that nothing outside the result was written.
 */
function runBackend(backend: Backend, a: Float64Array, b: Float64Array, m: number, n: number, k: number, tA: boolean, tB: boolean): Float64Array {
  const make = backend === 'ts-f64' ? (len: number) => new Float64Array(len) : (len: number) => new Float32Array(len);
  const pad = 3;
  const aBuf = make(a.length + 2 * pad);
  aBuf.set(a, pad);
  const bBuf = make(b.length + 2 * pad);
  bBuf.set(b, pad);
  const cBuf = make(m * n + 2 * pad).fill(-7);
  if (backend === 'wasm-f32') gemmWasm(aBuf as Float32Array, pad, bBuf as Float32Array, pad, cBuf as Float32Array, pad, m, n, k, tA, tB);
  else gemmTs(aBuf, pad, bBuf, pad, cBuf, pad, m, n, k, tA, tB);
  for (let i = 0; i < pad; i++) {
    expect(cBuf[i]).toBe(-7);
    expect(cBuf[pad + m * n + i]).toBe(-7);
  }
  return Float64Array.from(cBuf.subarray(pad, pad + m * n));
}

/**
 * Error bound of a computed product against the exact one: a length-k dot product summed in any order with
 * unit roundoff u is within γ_k·Σ|a·b| of the exact value, γ_k = k·u/(1 − k·u) (Higham, Accuracy and
 * Stability, §3.1); one more u covers the final store. float32: u = 2⁻²⁴; float64: u = 2⁻⁵³, which is
 * ~1e-12 relative at the largest k tested.
 */
function bound(k: number, magnitude: number, backend: Backend): number {
  const u = backend === 'ts-f64' ? 2 ** -53 : 2 ** -24;
  const gamma = ((k + 1) * u) / (1 - (k + 1) * u);
  return gamma * magnitude + Number.MIN_VALUE;
}

function expectClose(backend: Backend, m: number, n: number, k: number, tA: boolean, tB: boolean, seed: number): void {
  const a = values(m * k, seed);
  const b = values(k * n, seed + 1);
  const { c: expected, magnitude } = reference(a, b, m, n, k, tA, tB);
  const got = runBackend(backend, a, b, m, n, k, tA, tB);
  for (let e = 0; e < m * n; e++) {
    const err = Math.abs(got[e]! - expected[e]!);
    if (!(err <= bound(k, magnitude[e]!, backend))) {
      throw new Error(
        `${backend} ${m}x${k}·${k}x${n} tA=${tA} tB=${tB}: element ${e} is ${got[e]}, expected ${expected[e]} (error ${err}, bound ${bound(k, magnitude[e]!, backend)})`,
      );
    }
  }
}

describe('GEMM kernels against a float64 reference', () => {
  it('WebAssembly SIMD is available in this Node, so the fast path is what the suite tests', () => {
    expect(wasmGemmAvailable()).toBe(true);
  });

  for (const backend of BACKENDS) {
    it(`${backend}: random shapes, all transposes`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: 1, max: 70 }),
          fc.constantFrom(...TRANSPOSES),
          fc.nat(1e6),
          (m, n, k, [tA, tB], seed) => expectClose(backend, m, n, k, tA, tB, seed),
        ),
        { numRuns: 60 },
      );
    });

    it(`${backend}: sizes at and around the tiles (4 × 8) and blocks (128 rows, 256 of k)`, () => {
      const cases: [number, number, number][] = [
        [1, 1, 1],
        [1, 9, 1],
        [9, 1, 3],
        [4, 8, 256],
        [5, 9, 257],
        [3, 7, 255],
        [129, 17, 2],
        [128, 16, 513],
        [130, 1, 300],
        [1, 130, 600],
      ];
      cases.forEach(([m, n, k], c) => {
        for (const [tA, tB] of TRANSPOSES) expectClose(backend, m, n, k, tA, tB, 1000 + c);
      });
    });

    it(`${backend}: an empty inner dimension (k = 0) gives zeros`, () => {
      for (const [tA, tB] of TRANSPOSES)
        expect(Array.from(runBackend(backend, new Float64Array(0), new Float64Array(0), 2, 3, 0, tA, tB))).toEqual([0, 0, 0, 0, 0, 0]);
    });
  }

  it('wasm-f32 with a bias row gives the bits of the product followed by the add of the row (k ≤ 256)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 21 }),
        fc.integer({ min: 0, max: 27 }),
        fc.integer({ min: 0, max: 256 }),
        fc.constantFrom(...TRANSPOSES),
        fc.nat(1e6),
        (m, n, k, [tA, tB], seed) => {
          const a = Float32Array.from(values(m * k, seed));
          const b = Float32Array.from(values(k * n, seed + 1));
          // the bias from element 3 of its array; C starts as garbage, which the bias GEMM must not read
          const bias = Float32Array.from(values(n + 3, seed + 2));
          const product = new Float32Array(m * n);
          gemmWasm(a, 0, b, 0, product, 0, m, n, k, tA, tB);
          const expected = product.map((p, e) => Math.fround(p + bias[3 + (e % n)]!));
          const c = new Float32Array(m * n).fill(NaN);
          gemmWasm(a, 0, b, 0, c, 0, m, n, k, tA, tB, false, { array: bias, offset: 3 });
          expect(Array.from(c)).toEqual(Array.from(expected));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('both float32 backends agree with each other within twice the float32 bound', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 300 }),
        fc.constantFrom(...TRANSPOSES),
        fc.nat(1e6),
        (m, n, k, [tA, tB], seed) => {
          const a = values(m * k, seed);
          const b = values(k * n, seed + 1);
          const { magnitude } = reference(a, b, m, n, k, tA, tB);
          const ts = runBackend('ts-f32', a, b, m, n, k, tA, tB);
          const wasm = runBackend('wasm-f32', a, b, m, n, k, tA, tB);
          for (let e = 0; e < m * n; e++) expect(Math.abs(ts[e]! - wasm[e]!)).toBeLessThanOrEqual(2 * bound(k, magnitude[e]!, 'wasm-f32'));
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('batchedGemm', () => {
  it('uses the per-batch indices (broadcast batches) and the backend chosen by dtype and size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 24 }),
        fc.constantFrom(...TRANSPOSES),
        fc.nat(1e6),
        (m, n, k, [tA, tB], seed) => {
          // output batch t multiplies A entry aIndex[t] by B entry bIndex[t]
          const aIndex = Int32Array.from([0, 1, 0, 1]);
          const bIndex = Int32Array.from([0, 0, 2, 1]);
          const a = values(2 * m * k, seed);
          const b = values(3 * k * n, seed + 1);
          for (const dtype of ['float32', 'float64'] as const) {
            const A = dtype === 'float32' ? Float32Array.from(a) : a;
            const B = dtype === 'float32' ? Float32Array.from(b) : b;
            const c = batchedGemm(A, B, 4, aIndex, bIndex, m, n, k, tA, tB, dtype);
            expect(c.length).toBe(4 * m * n);
            expect(c).toBeInstanceOf(dtype === 'float32' ? Float32Array : Float64Array);
            for (let t = 0; t < 4; t++) {
              const aT = A.subarray(aIndex[t]! * m * k, (aIndex[t]! + 1) * m * k);
              const bT = B.subarray(bIndex[t]! * k * n, (bIndex[t]! + 1) * k * n);
              // the dispatch is deterministic: the result is bit-identical to the backend it should pick
              const expected = dtype === 'float32' ? new Float32Array(m * n) : new Float64Array(m * n);
              if (gemmBackend(dtype, m, n, k) === 'wasm') gemmWasm(aT as Float32Array, 0, bT as Float32Array, 0, expected as Float32Array, 0, m, n, k, tA, tB);
              else gemmTs(aT, 0, bT, 0, expected, 0, m, n, k, tA, tB);
              expect(Array.from(c.subarray(t * m * n, (t + 1) * m * n))).toEqual(Array.from(expected));
            }
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('sends float32 products from the measured crossover on to WebAssembly, and float64 never', () => {
    expect(gemmBackend('float32', 32, 1024, 256)).toBe('wasm');
    expect(gemmBackend('float32', 8, 8, WASM_MIN_MULTIPLY_ADDS / 64)).toBe('wasm');
    expect(gemmBackend('float32', 8, 8, WASM_MIN_MULTIPLY_ADDS / 64 - 1)).toBe('ts');
    expect(gemmBackend('float32', 1, 1, 1 << 20)).toBe('ts');
    expect(gemmBackend('float64', 1024, 1024, 1024)).toBe('ts');
  });

  it('public matmul in float32 on an LSTM-sized product matches the float64 reference', () => {
    const [m, k, n] = [32, 256, 1024];
    const a = values(m * k, 5);
    const b = values(k * n, 6);
    const out = matmul(tensor(Float32Array.from(a), { shape: [m, k] }), tensor(Float32Array.from(b), { shape: [k, n] })).dataSync();
    const { c, magnitude } = reference(a, b, m, n, k, false, false);
    for (let e = 0; e < m * n; e++) expect(Math.abs(out[e]! - c[e]!)).toBeLessThanOrEqual(bound(k, magnitude[e]!, 'wasm-f32'));
  });
});

describe('matmul with transpose flags: gradients in float64', () => {
  const f64 = (shape: number[], seed: number): Tensor =>
    tensor(
      values(
        shape.reduce((x, y) => x * y, 1),
        seed,
      ),
      { shape, dtype: 'float64' },
    );
  // stored shapes of A ([.., m, k] or [.., k, m]) and B ([.., k, n] or [.., n, k]) with broadcasting batches
  const operands = fc
    .tuple(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 3 }),
      fc.constantFrom<number[][]>([[], []], [[2], []], [[], [2]], [[2, 1], [3]]),
      fc.constantFrom(...TRANSPOSES),
      fc.nat(1e6),
    )
    .map(([m, k, n, [ba, bb], [tA, tB], seed]) => ({
      a: f64([...ba!, ...(tA ? [k, m] : [m, k])], seed),
      b: f64([...bb!, ...(tB ? [n, k] : [k, n])], seed + 1),
      tA,
      tB,
      seed,
    }));

  it('the flagged product equals matmul of explicitly transposed operands', () => {
    const swapLast = (x: Tensor): Tensor =>
      transpose(
        x,
        [...x.shape.keys()].map((i) => (i < x.rank - 2 ? i : 2 * x.rank - 3 - i)),
      );
    fc.assert(
      fc.property(operands, ({ a, b, tA, tB }) => {
        const got = matmulT(a, b, tA, tB);
        const expected = matmul(tA ? swapLast(a) : a, tB ? swapLast(b) : b);
        expect(got.shape).toEqual(expected.shape);
        const g = got.dataSync();
        const e = expected.dataSync();
        for (let i = 0; i < g.length; i++) expect(Math.abs(g[i]! - e[i]!)).toBeLessThanOrEqual(1e-12);
      }),
      { numRuns: 30 },
    );
  });

  it('gradients match finite differences for every transpose combination', () => {
    fc.assert(
      fc.property(operands, ({ a, b, tA, tB, seed }) => {
        const y = matmulT(a, b, tA, tB);
        const w = f64([...y.shape], seed + 2);
        const result = checkGrad((x: Tensor, z: Tensor) => sum(mul(tanh(matmulT(x, z, tA, tB)), w)), [a, b]);
        expect(result.ok, result.message).toBe(true);
      }),
      { numRuns: 20 },
    );
  });

  it('gradients of gradients match finite differences for every transpose combination', () => {
    fc.assert(
      fc.property(operands, ({ a, b, tA, tB, seed }) => {
        const y = matmulT(a, b, tA, tB);
        const w = f64([...y.shape], seed + 2);
        const va = f64([...a.shape], seed + 3);
        const vb = f64([...b.shape], seed + 4);
        const f = (x: Tensor, z: Tensor): Tensor => sum(mul(tanh(matmulT(x, z, tA, tB)), w));
        const g = (x: Tensor, z: Tensor): Tensor => {
          const [gx, gz] = grad(f, [0, 1])(x, z) as Tensor[];
          return add(sum(mul(gx!, va)), sum(mul(gz!, vb)));
        };
        const result = checkGrad(g, [a, b]);
        expect(result.ok, result.message).toBe(true);
      }),
      { numRuns: 20 },
    );
  });
});
