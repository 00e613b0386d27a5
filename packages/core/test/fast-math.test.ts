/**
 * fast-math's exp, tanh and sigmoid against Math.*: the float32 kernels on millions of deterministic
 * pseudo-random float32 inputs (at most one float32 ulp from Math.* rounded to float32, and exact mismatches
 * rare), the double functions to 1e-12 relative (in fact a few double ulps), every special value exactly,
 * and unaryRange dispatching float32 storage to them while float64 keeps Math.* bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { exp, sigmoid, tanh, tensor } from '@tapestry/core';
import { unaryKernel, unaryRange, type UnaryCode } from '../src/kernels/elementwise.js';
import { expFloat32Range, fastExp, fastSigmoid, fastTanh, sigmoidFloat32Range, tanhFloat32Range } from '../src/kernels/fast-math.js';

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
  /** Double inputs for the relative-accuracy test. */
  doubleRange: [number, number];
}

const SUBJECTS: Subject[] = [
  {
    name: 'exp',
    fast: fastExp,
    kernel: expFloat32Range,
    reference: Math.exp,
    uniform: [
      [-110, 95],
      [-5, 5],
    ],
    doubleRange: [-708, 709.78],
  },
  {
    name: 'tanh',
    fast: fastTanh,
    kernel: tanhFloat32Range,
    reference: Math.tanh,
    uniform: [
      [-12, 12],
      [-1, 1],
    ],
    doubleRange: [-25, 25],
  },
  {
    name: 'sigmoid',
    fast: fastSigmoid,
    kernel: sigmoidFloat32Range,
    reference: mathSigmoid,
    uniform: [
      [-110, 40],
      [-8, 8],
    ],
    doubleRange: [-708, 40],
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

/** Special values every function must get exactly right, with their exact results. */
const SPECIALS: [Subject['name'], number, number][] = [
  ['exp', 0, 1],
  ['exp', -0, 1],
  ['exp', Infinity, Infinity],
  ['exp', -Infinity, 0],
  ['exp', NaN, NaN],
  ['exp', 1e300, Infinity],
  ['exp', -1e300, 0],
  ['exp', 709.782712893384, 1.7976931348622732e308],
  ['exp', 709.7827128933841, Infinity],
  ['exp', -745.1332191019411, 5e-324],
  ['exp', -745.1332191019412, 0],
  ['exp', 5e-324, 1],
  ['exp', -5e-324, 1],
  ['tanh', 0, 0],
  ['tanh', -0, -0],
  ['tanh', Infinity, 1],
  ['tanh', -Infinity, -1],
  ['tanh', NaN, NaN],
  ['tanh', 19.1, 1],
  ['tanh', -19.1, -1],
  ['tanh', 1e300, 1],
  ['tanh', -1e300, -1],
  ['tanh', 5e-324, 5e-324],
  ['tanh', -5e-324, -5e-324],
  ['tanh', 1e-300, 1e-300],
  ['tanh', -1e-20, -1e-20],
  ['sigmoid', 0, 0.5],
  ['sigmoid', -0, 0.5],
  ['sigmoid', Infinity, 1],
  ['sigmoid', -Infinity, 0],
  ['sigmoid', NaN, NaN],
  ['sigmoid', 40, 1],
  ['sigmoid', 1e300, 1],
  ['sigmoid', -800, 0],
  ['sigmoid', -1e300, 0],
];

describe('fast-math', () => {
  for (const subject of SUBJECTS) {
    describe(subject.name, () => {
      it('float32 kernel: within one float32 ulp of Math.* rounded to float32 on 2.4 million inputs, rarely different', () => {
        const x = float32Inputs(subject, 600_000, 0x9e3779b9 ^ subject.name.length);
        const out = new Float32Array(x.length);
        subject.kernel(x, 0, 1, out, 0, x.length);
        let mismatches = 0;
        for (let i = 0; i < x.length; i++) {
          const expected = Math.fround(subject.reference(x[i]!));
          const actual = out[i]!;
          if (Object.is(actual, expected)) continue;
          if (expected !== expected) throw new Error(`${subject.name}(${x[i]}) = ${actual}, expected NaN`);
          // a mismatch must be one float32 ulp, never a different sign of zero
          expect(Math.abs(float32Ordinal(actual) - float32Ordinal(expected)), `${subject.name}(${x[i]})`).toBe(1);
          mismatches++;
        }
        console.log(`${subject.name} float32: ${mismatches} of ${x.length} differ from Math.* by one ulp (rate ${(mismatches / x.length).toExponential(2)})`);
        expect(mismatches / x.length).toBeLessThan(1e-6);
      });

      it('doubles: within 1e-12 relative of Math.* (and within four ulps) over the whole range', () => {
        const next = xorshift(12345 + subject.name.length);
        const [lo, hi] = subject.doubleRange;
        let worst = 0;
        for (let i = 0; i < 1_000_000; i++) {
          // uniform over the range, then log-uniform magnitudes down to the subnormals
          const v = i % 2 === 0 ? lo + (hi - lo) * unit(next) : (next() & 1 ? -1 : 1) * 2 ** (-1074 + 1080 * unit(next));
          const expected = subject.reference(v);
          const actual = subject.fast(v);
          if (Math.abs(expected) < 2 ** -1022) {
            // subnormal results have no relative precision: both round the exact value, at most an ulp apart
            expect(Math.abs(actual - expected), `${subject.name}(${v})`).toBeLessThanOrEqual(2 ** -1074);
            continue;
          }
          const rel = Math.abs(actual - expected) / Math.abs(expected);
          if (!(rel <= 1e-12)) throw new Error(`${subject.name}(${v}) = ${actual}, Math: ${expected}`);
          worst = Math.max(worst, rel);
        }
        console.log(`${subject.name} double: largest relative difference from Math.* ${worst.toExponential(2)}`);
        expect(worst).toBeLessThan(4 * 2 ** -52);
      });

      it('special values exactly', () => {
        for (const [name, v, expected] of SPECIALS.filter(([name]) => name === subject.name)) {
          expect(Object.is(subject.fast(v), expected), `${name}(${v}) = ${subject.fast(v)}, expected ${expected}`).toBe(true);
          const out = new Float32Array(1);
          subject.kernel(Float32Array.of(v), 0, 1, out, 0, 1);
          expect(Object.is(out[0], Math.fround(subject.reference(Math.fround(v)))), `float32 ${name}(${v})`).toBe(true);
        }
      });
    });
  }

  it('exp: subnormal results and the underflow to 0 agree with Math.exp to an ulp', () => {
    for (let v = -708.5; v > -746; v -= 0.173) {
      expect(Math.abs(fastExp(v) - Math.exp(v)), `exp(${v})`).toBeLessThanOrEqual(Math.max(2 ** -1074, 2.3e-16 * Math.exp(v)));
    }
  });

  it('tanh and sigmoid keep full relative accuracy near 0 (no cancellation)', () => {
    for (let e = -1074; e <= 0; e += 0.37) {
      for (const v of [2 ** e, -(2 ** e)]) {
        expect(Math.abs(fastTanh(v) - Math.tanh(v)), `tanh(${v})`).toBeLessThanOrEqual(4 * 2 ** -53 * Math.abs(Math.tanh(v)));
        expect(Math.abs(fastSigmoid(-1 / v) - mathSigmoid(-1 / v)), `sigmoid(${-1 / v})`).toBeLessThanOrEqual(
          Math.max(2 ** -1074, 4 * 2 ** -53 * mathSigmoid(-1 / v)),
        );
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

  it('the ops use them: float32 results within a float32 ulp of Math.*, float64 results bit for bit', () => {
    const values = [-30, -4.5, -1, -1e-3, 0, 2e-8, 0.5, 3, 17, 90];
    for (const [op, subject] of [
      [exp, SUBJECTS[0]!],
      [tanh, SUBJECTS[1]!],
      [sigmoid, SUBJECTS[2]!],
    ] as const) {
      const y32 = op(tensor(values, { dtype: 'float32' })).toArray() as number[];
      y32.forEach((y, i) => {
        const expected = Math.fround(subject.reference(Math.fround(values[i]!)));
        expect(Math.abs(float32Ordinal(y) - float32Ordinal(expected)), `${subject.name}(${values[i]})`).toBeLessThanOrEqual(1);
      });
      expect(op(tensor(values, { dtype: 'float64' })).toArray()).toEqual(values.map(subject.reference));
    }
  });
});
