/**
 * fast-math's float32 exp, tanh and sigmoid against Math.* rounded to float32: within their stated ulps on
 * millions of deterministic pseudo-random float32 inputs (uniform over the useful ranges, log-uniform
 * magnitudes down to the subnormals, raw bit patterns), every special value exactly, full relative accuracy
 * near 0 and correct subnormal results, and unaryRange dispatching float32 storage to them (through the SIMD
 * kernels, which give the same bits; see elementwise-wasm.test.ts) while float64 keeps Math.* bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { exp, sigmoid, tanh, tensor } from '@tapestry/core';
import { unaryKernel, unaryRange, type UnaryCode } from '../src/kernels/elementwise.js';
import { expFloat32, expFloat32Range, sigmoidFloat32, sigmoidFloat32Range, tanhFloat32, tanhFloat32Range } from '../src/kernels/fast-math.js';

type Float32Kernel = typeof expFloat32Range;

/** sigmoid in double precision, written as unaryRange writes it for float64 (never overflowing). */
function mathSigmoid(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

interface Subject {
  name: UnaryCode;
  fast: (x: number) => number;
  kernel: Float32Kernel;
  reference: (x: number) => number;
  /** Float32 input ranges [lo, hi] sampled uniformly: the useful range and the busy middle. */
  uniform: [number, number][];
  /** The most float32 ulps by which a result may differ from Math.* rounded to float32. */
  ulps: number;
}

const SUBJECTS: Subject[] = [
  {
    name: 'exp',
    fast: expFloat32,
    kernel: expFloat32Range,
    reference: Math.exp,
    uniform: [
      [-110, 95],
      [-5, 5],
    ],
    ulps: 1,
  },
  {
    name: 'tanh',
    fast: tanhFloat32,
    kernel: tanhFloat32Range,
    reference: Math.tanh,
    uniform: [
      [-12, 12],
      [-1, 1],
    ],
    ulps: 2,
  },
  {
    name: 'sigmoid',
    fast: sigmoidFloat32,
    kernel: sigmoidFloat32Range,
    reference: mathSigmoid,
    uniform: [
      [-110, 40],
      [-8, 8],
    ],
    ulps: 2,
  },
];

/** A deterministic xorshift32 stream of uint32s. */
function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** A uniform double in [0, 1) from two draws. */
function unit(next: () => number): number {
  return (next() * 2 ** 21 + (next() >>> 11)) / 2 ** 53;
}

/**
 * `count` float32 inputs of each kind: uniform over each range, log-uniform magnitudes from 2⁻¹⁴⁹ to 2⁷ with
 * random signs (tiny, subnormal and moderate values), and raw random bit patterns (every exponent, ±Infinity
 * and NaN included).
 */
function float32Inputs(subject: Subject, count: number, seed: number): Float32Array {
  const next = xorshift(seed);
  const parts = subject.uniform.length + 2;
  const out = new Float32Array(count * parts);
  let k = 0;
  for (const [lo, hi] of subject.uniform) for (let i = 0; i < count; i++) out[k++] = lo + (hi - lo) * unit(next);
  for (let i = 0; i < count; i++) out[k++] = (next() & 1 ? -1 : 1) * 2 ** (-149 + 156 * unit(next));
  const bits = new Uint32Array(out.buffer, k * 4, count);
  for (let i = 0; i < count; i++) bits[i] = next();
  return out;
}

const F32_BITS = new Int32Array(1);
const F32 = new Float32Array(F32_BITS.buffer);

/** The float32 at `v`'s position on a line where adjacent float32s (−0 and +0 together) are 1 apart. */
function float32Ordinal(v: number): number {
  F32[0] = v;
  const b = F32_BITS[0]!;
  return b >= 0 ? b : -2147483648 - b;
}

/** Special values every function must get exactly right, with their exact float32 results. */
const TINY = 2 ** -149; // the smallest float32 subnormal
const SPECIALS: [Subject['name'], number, number][] = [
  ['exp', 0, 1],
  ['exp', -0, 1],
  ['exp', Infinity, Infinity],
  ['exp', -Infinity, 0],
  ['exp', NaN, NaN],
  ['exp', 1e30, Infinity],
  ['exp', -1e30, 0],
  ['exp', 89, Infinity],
  ['exp', -104, 0],
  ['exp', TINY, 1],
  ['exp', -TINY, 1],
  ['tanh', 0, 0],
  ['tanh', -0, -0],
  ['tanh', Infinity, 1],
  ['tanh', -Infinity, -1],
  ['tanh', NaN, NaN],
  ['tanh', 10, 1],
  ['tanh', -10, -1],
  ['tanh', 1e30, 1],
  ['tanh', -1e30, -1],
  ['tanh', TINY, TINY],
  ['tanh', -TINY, -TINY],
  ['tanh', Math.fround(1e-20), Math.fround(1e-20)],
  ['sigmoid', 0, 0.5],
  ['sigmoid', -0, 0.5],
  ['sigmoid', Infinity, 1],
  ['sigmoid', -Infinity, 0],
  ['sigmoid', NaN, NaN],
  ['sigmoid', 20, 1],
  ['sigmoid', 1e30, 1],
  ['sigmoid', -200, 0],
  ['sigmoid', -1e30, 0],
];

/** The float32 ulps between `actual` and Math.* rounded to float32 at `x`; 0 for NaN against NaN. */
function ulpsFromMath(subject: Subject, x: number, actual: number): number {
  const expected = Math.fround(subject.reference(x));
  if (expected !== expected) return actual !== actual ? 0 : Infinity;
  return Math.abs(float32Ordinal(actual) - float32Ordinal(expected));
}

describe('fast-math', () => {
  for (const subject of SUBJECTS) {
    describe(subject.name, () => {
      it(`float32 kernel: within ${subject.ulps} float32 ulp(s) of Math.* rounded to float32 on 2.4 million inputs`, () => {
        const x = float32Inputs(subject, 600_000, 0x9e3779b9 ^ subject.name.length);
        const out = new Float32Array(x.length);
        subject.kernel(x, 0, 1, out, 0, x.length);
        let worst = 0;
        let mismatches = 0;
        for (let i = 0; i < x.length; i++) {
          const ulps = ulpsFromMath(subject, x[i]!, out[i]!);
          if (ulps > subject.ulps) expect.fail(`${subject.name}(${x[i]}) = ${out[i]}, Math.* gives ${Math.fround(subject.reference(x[i]!))}`);
          if (ulps > 0) mismatches++;
          worst = Math.max(worst, ulps);
        }
        console.log(`${subject.name} float32: ${mismatches} of ${x.length} differ from Math.* rounded (at most ${worst} ulp)`);
      });

      it('special values exactly', () => {
        for (const [name, v, expected] of SPECIALS.filter(([name]) => name === subject.name)) {
          expect(Object.is(subject.fast(v), expected), `${name}(${v}) = ${subject.fast(v)}, expected ${expected}`).toBe(true);
          const out = new Float32Array(1);
          subject.kernel(Float32Array.of(v), 0, 1, out, 0, 1);
          expect(Object.is(out[0], expected), `float32 ${name}(${v}) = ${out[0]}`).toBe(true);
        }
      });
    });
  }

  it('exp: subnormal results and the underflow to 0 within an ulp of Math.exp', () => {
    let subnormals = 0;
    for (let v = -87; v > -105; v -= 0.0173) {
      const x = Math.fround(v);
      const y = expFloat32(x);
      if (y > 0 && y < 2 ** -126) subnormals++;
      expect(ulpsFromMath(SUBJECTS[0]!, x, y), `exp(${x}) = ${y}`).toBeLessThanOrEqual(1);
    }
    expect(subnormals).toBeGreaterThan(500);
  });

  it('tanh keeps full relative accuracy near 0, and sigmoid far below it (no cancellation)', () => {
    for (let e = -149; e <= 0; e += 0.37) {
      for (const v of [Math.fround(2 ** e), -Math.fround(2 ** e)]) {
        expect(ulpsFromMath(SUBJECTS[1]!, v, tanhFloat32(v)), `tanh(${v})`).toBeLessThanOrEqual(1);
        // sigmoid(−1/v) for v > 0 spans −Infinity to −1: results from 0 through the subnormals to 0.27
        const w = Math.fround(-1 / Math.abs(v));
        expect(ulpsFromMath(SUBJECTS[2]!, w, sigmoidFloat32(w)), `sigmoid(${w})`).toBeLessThanOrEqual(2);
      }
    }
  });

  it('kernels honour offsets, odd lengths and a broadcast (stride-0) input', () => {
    const x = Float32Array.from({ length: 13 }, (_, i) => (i - 6) * 0.7);
    for (const subject of SUBJECTS) {
      const out = new Float32Array(16).fill(-7);
      subject.kernel(x, 2, 1, out, 1, 9);
      expect(out[0]).toBe(-7);
      for (let i = 0; i < 9; i++) expect(out[1 + i]).toBe(Math.fround(subject.fast(x[2 + i]!)));
      expect(Array.from(out.subarray(10))).toEqual([-7, -7, -7, -7, -7, -7]);
      const broadcast = new Float32Array(5);
      subject.kernel(x, 4, 0, broadcast, 0, 5);
      expect(Array.from(broadcast)).toEqual(new Array(5).fill(Math.fround(subject.fast(x[4]!))));
    }
  });

  it('unaryRange sends float32 storage to the fast kernels and keeps Math.* exactly for float64', () => {
    const values = Array.from({ length: 257 }, (_, i) => Math.fround((i - 128) * 0.11 + 0.013));
    for (const subject of SUBJECTS) {
      const f32 = unaryKernel(subject.name, Float32Array.from(values), 'float32');
      expect(f32).toBeInstanceOf(Float32Array);
      expect(Array.from(f32)).toEqual(values.map((v) => Math.fround(subject.fast(v))));
      const f64 = unaryKernel(subject.name, Float64Array.from(values), 'float64');
      expect(Array.from(f64)).toEqual(values.map(subject.reference));
      // a range inside larger buffers, as fused kernels call it
      const out = new Float32Array(300);
      unaryRange(subject.name, Float32Array.from(values), 5, 1, out, 7, 100);
      expect(Array.from(out.subarray(7, 107))).toEqual(values.slice(5, 105).map((v) => Math.fround(subject.fast(v))));
    }
  });

  it('the ops use them: float32 results within their ulps of Math.*, float64 results bit for bit', () => {
    const values = [-30, -4.5, -1, -1e-3, 0, 2e-8, 0.5, 3, 17, 90];
    for (const [op, subject] of [
      [exp, SUBJECTS[0]!],
      [tanh, SUBJECTS[1]!],
      [sigmoid, SUBJECTS[2]!],
    ] as const) {
      const y32 = op(tensor(values, { dtype: 'float32' })).toArray() as number[];
      y32.forEach((y, i) => {
        expect(ulpsFromMath(subject, Math.fround(values[i]!), y), `${subject.name}(${values[i]})`).toBeLessThanOrEqual(subject.ulps);
      });
      expect(op(tensor(values, { dtype: 'float64' })).toArray()).toEqual(values.map(subject.reference));
    }
  });
});
