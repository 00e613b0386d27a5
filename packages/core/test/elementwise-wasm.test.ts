/**
 * The WebAssembly SIMD elementwise kernels against the JavaScript row loops they stand in for: the same bits
 * (NaN for NaN) for every covered function and dtype over random lengths, offsets and stride-0/1 operands
 * (fast-check), special values included; float32 exp, tanh and sigmoid over millions of inputs spread over
 * every float32 exponent; column sums; and the committed module bytes against a fresh build.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { binaryRange, unaryRange, whereRange, type BinaryCode, type UnaryCode } from '../src/kernels/elementwise.js';
import { expFloat32Range, sigmoidFloat32Range, tanhFloat32Range } from '../src/kernels/fast-math.js';
import { reduceInto } from '../src/kernels/reduce.js';
import {
  addRowsWasm,
  binaryWasm,
  elementwiseWasmAvailable,
  setElementwiseWasm,
  unaryWasm,
  WASM_MIN_ELEMENTS,
  wasmRegister,
} from '../src/kernels/wasm/elementwise-wasm.js';

afterEach(() => setElementwiseWasm(true));

type FloatArray = Float32Array | Float64Array;
type FloatType = typeof Float32Array | typeof Float64Array;

/** Values that exercise every rule: signed zeros, infinities, NaN, subnormals, saturation points, ties. */
const SPECIAL = [
  NaN,
  0,
  -0,
  Infinity,
  -Infinity,
  1e-45,
  -1e-45,
  1e-40,
  -3e-39,
  1,
  -1,
  0.5,
  2,
  3.4e38,
  -3.4e38,
  88.7,
  89,
  -104,
  -110,
  708,
  -708,
  710,
  -746,
  20,
  -20,
  19.5,
  -19.5,
  1e-8,
  -1e-8,
];

/** Operand data: mostly random values, some special ones and repeats (so ties and equalities occur). */
const element = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -60, max: 60, noNaN: true }) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 1, arbitrary: fc.constantFrom(-2, -1, 0, 1, 2) },
);

const same = (x: number, y: number): boolean => Object.is(x, y) || (x !== x && y !== y);

/** Asserts `actual` equals `expected` bit for bit (NaN for NaN), naming the first difference. */
function expectSameBits(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!same(actual[i]!, expected[i]!)) expect.fail(`${what}: element ${i} is ${actual[i]}, the JavaScript loop gives ${expected[i]}`);
  }
}

/** Runs `run` into a fresh output with the SIMD kernels on and off and compares the whole outputs. */
function compare(make: () => ArrayLike<number> & { fill(v: number): unknown }, run: (o: never) => void, what: string): void {
  const withWasm = make();
  withWasm.fill(-7);
  setElementwiseWasm(true);
  run(withWasm as never);
  const withJs = make();
  withJs.fill(-7);
  setElementwiseWasm(false);
  run(withJs as never);
  setElementwiseWasm(true);
  expectSameBits(withWasm, withJs, what);
}

/** A row: length (around and far above the SIMD threshold and the chunk), offsets, strides. */
const row = fc.record({
  n: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 2040, max: 4200 })),
  ao: fc.nat(5),
  bo: fc.nat(5),
  co: fc.nat(5),
  oo: fc.nat(5),
  as: fc.constantFrom(0, 1),
  bs: fc.constantFrom(0, 1),
  cs: fc.constantFrom(0, 1),
  seed: fc.array(element, { minLength: 1, maxLength: 64 }),
});

/** `length` values cycled from `seed` with a twist, so that long rows are not periodic in the seed's length. */
function fill(type: FloatType | typeof Int32Array, length: number, seed: readonly number[], twist: number): FloatArray | Int32Array {
  const out = new type(length);
  for (let i = 0; i < length; i++) out[i] = seed[(i * 7 + twist + (i >> 6)) % seed.length]!;
  return out;
}

const BINARY: BinaryCode[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'greater', 'less', 'equal', 'greaterEqual', 'lessEqual', 'notEqual'];
const COMPARISONS = new Set<BinaryCode>(['greater', 'less', 'equal', 'greaterEqual', 'lessEqual', 'notEqual']);
const UNARY: UnaryCode[] = ['neg', 'exp', 'log', 'sqrt', 'abs', 'square', 'tanh', 'sigmoid', 'relu', 'sign', 'leakyRelu', 'floor', 'isFinite'];

describe('SIMD elementwise kernels', () => {
  it('load in this runtime (Node has WebAssembly SIMD)', () => {
    expect(elementwiseWasmAvailable()).toBe(true);
  });

  for (const type of [Float32Array, Float64Array]) {
    it(`binaryRange gives the JavaScript loop's bits for ${type.name} (strides 0/1, offsets, all lengths)`, () => {
      fc.assert(
        fc.property(row, fc.constantFrom(...BINARY), ({ n, ao, bo, oo, as, bs, seed }, code) => {
          const a = fill(type, ao + n + 1, seed, 1) as FloatArray;
          const b = fill(type, bo + n + 1, seed, 5) as FloatArray;
          const out = COMPARISONS.has(code) ? Int32Array : type;
          compare(
            () => new out(oo + n + 3),
            (o: FloatArray) => binaryRange(code, a, ao, as, b, bo, bs, o, oo, n),
            `${code} ${type.name} n=${n} strides ${as}${bs}`,
          );
        }),
        { numRuns: 150 },
      );
    });

    it(`unaryRange gives the JavaScript loop's bits for ${type.name}`, () => {
      fc.assert(
        fc.property(row, fc.constantFrom(...UNARY), fc.constantFrom(0.25, 0.01, -1.5), ({ n, ao, oo, as, seed }, code, p0) => {
          const x = fill(type, ao + n + 1, seed, 3) as FloatArray;
          compare(
            () => new type(oo + n + 3),
            (o: FloatArray) => unaryRange(code, x, ao, as, o, oo, n, p0),
            `${code} ${type.name} n=${n} stride ${as}`,
          );
        }),
        { numRuns: 150 },
      );
    });

    for (const condType of [Int32Array, type]) {
      it(`whereRange gives the JavaScript loop's bits for ${type.name} data and a ${condType.name} condition`, () => {
        fc.assert(
          fc.property(
            row,
            fc.array(fc.constantFrom(0, -0, 1, -3, NaN, 0.5), { minLength: 1, maxLength: 9 }),
            ({ n, ao, bo, co, oo, as, bs, cs, seed }, conds) => {
              const a = fill(type, ao + n + 1, seed, 1) as FloatArray;
              const b = fill(type, bo + n + 1, seed, 2) as FloatArray;
              const c = fill(condType, co + n + 1, conds, 0);
              compare(
                () => new type(oo + n + 3),
                (o: FloatArray) => whereRange(c, co, cs, a, ao, as, b, bo, bs, o, oo, n),
                `where n=${n} strides ${cs}${as}${bs}`,
              );
            },
          ),
          { numRuns: 100 },
        );
      });
    }
  }

  it('covers the hot functions (so the rows above really ran on SIMD) and leaves the rest to JavaScript', () => {
    const n = WASM_MIN_ELEMENTS;
    const f32 = new Float32Array(n);
    const f64 = new Float64Array(n);
    for (const code of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum']) {
      expect(binaryWasm(code, f32, 0, 1, f32, 0, 0, new Float32Array(n), 0, n), code).toBe(true);
      expect(binaryWasm(code, f64, 0, 1, f64, 0, 0, new Float64Array(n), 0, n), code).toBe(true);
    }
    expect(binaryWasm('greater', f32, 0, 1, f32, 0, 1, new Int32Array(n), 0, n)).toBe(true);
    expect(binaryWasm('pow', f32, 0, 1, f32, 0, 1, new Float32Array(n), 0, n)).toBe(false);
    expect(binaryWasm('add', new Int32Array(n), 0, 1, new Int32Array(n), 0, 1, new Int32Array(n), 0, n)).toBe(false);
    for (const code of ['exp', 'tanh', 'sigmoid', 'relu']) expect(unaryWasm(code, f32, 0, 1, new Float32Array(n), 0, n, 0), code).toBe(true);
    // float64 exp keeps Math.exp; a float32 leaky slope that is not a float32 number would round differently
    expect(unaryWasm('exp', f64, 0, 1, new Float64Array(n), 0, n, 0)).toBe(false);
    expect(unaryWasm('leakyRelu', f32, 0, 1, new Float32Array(n), 0, n, 0.01)).toBe(false);
    expect(unaryWasm('leakyRelu', f32, 0, 1, new Float32Array(n), 0, n, 0.25)).toBe(true);
    setElementwiseWasm(false);
    expect(binaryWasm('add', f32, 0, 1, f32, 0, 1, new Float32Array(n), 0, n)).toBe(false);
  });

  it("float32 exp, tanh and sigmoid give fast-math's bits on millions of inputs across every exponent", () => {
    // every 509th float32 bit pattern (8.4 million, both signs, all exponents, ±Infinity and NaNs), then
    // four million uniform in [-25, 25], where tanh and sigmoid do not saturate
    const sweep = new Float32Array(new Uint32Array(Math.ceil(2 ** 32 / 509)).map((_, i) => i * 509).buffer);
    const dense = Float32Array.from({ length: 4_000_000 }, (_, i) => -25 + (50 * i) / 4_000_000);
    const kernels = { exp: expFloat32Range, tanh: tanhFloat32Range, sigmoid: sigmoidFloat32Range } as const;
    for (const [code, reference] of Object.entries(kernels)) {
      for (const x of [sweep, dense]) {
        const expected = new Float32Array(x.length);
        reference(x, 0, 1, expected, 0, x.length);
        const actual = new Float32Array(x.length);
        expect(unaryWasm(code, x, 0, 1, actual, 0, x.length, 0)).toBe(true);
        const e = new Uint32Array(expected.buffer);
        const a = new Uint32Array(actual.buffer);
        let mismatches = 0;
        let first = -1;
        for (let i = 0; i < x.length; i++) {
          if (a[i] !== e[i] && !(actual[i] !== actual[i] && expected[i] !== expected[i])) {
            mismatches++;
            if (first < 0) first = i;
          }
        }
        expect(mismatches, `${code}: ${mismatches} of ${x.length} differ, first at x = ${x[first]}: ${actual[first]} against ${expected[first]}`).toBe(0);
      }
    }
  });

  it('column sums: reduceInto over leading or middle axes gives the JavaScript bits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 700 }),
        fc.nat(3),
        fc.nat(3),
        fc.array(element, { minLength: 1, maxLength: 40 }),
        fc.constantFrom(Float32Array, Float64Array),
        (outer, last, from, span, seed, type) => {
          const shape = [...outer, last];
          const p = Math.min(from, shape.length - 1);
          const axes = Array.from({ length: Math.min(span + 1, shape.length - 1 - p) }, (_, i) => p + i);
          if (axes.length === 0) return;
          const size = shape.reduce((t, d) => t * d, 1);
          const x = fill(type, size, seed, 4) as FloatArray;
          const outSize = size / axes.reduce((t, a) => t * shape[a]!, 1);
          compare(
            () => new type(outSize),
            (o: FloatArray) => reduceInto('sum', x, shape, axes, o),
            `sum of ${shape} over ${axes}`,
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it("rows in registers (the module's memory) are read and written in place, with the same bits", () => {
    fc.assert(
      fc.property(
        row,
        fc.constantFrom<BinaryCode>('add', 'mul', 'maximum', 'less'),
        fc.constantFrom<UnaryCode>('tanh', 'sigmoid', 'relu'),
        ({ n, ao, oo, as, seed }, code, unaryCode) => {
          const len = Math.min(n, 1000);
          const offset = Math.min(oo, 1024 - len);
          // inputs and output in registers 0–2, the output a view shorter than the register (no room to pad)
          const a = wasmRegister('float32', 0, 1024) as Float32Array;
          const b = wasmRegister('float32', 1, 1024) as Float32Array;
          a.set(fill(Float32Array, 1024, seed, 1));
          b.set(fill(Float32Array, 1024, seed, 2));
          const start = Math.min(ao, 1024 - len);
          const viaRegisters = (into: Float32Array | Int32Array) => {
            const reg = wasmRegister(into instanceof Int32Array ? 'int32' : 'float32', 2, 1024)!.subarray(0, offset + len);
            reg.fill(-7);
            binaryRange(code, a, start, as, b, start, 1, reg, offset, len);
            into.set(reg);
          };
          const out = code === 'less' ? Int32Array : Float32Array;
          compare(() => new out(offset + len), viaRegisters, `${code} in registers n=${len}`);
          const unaryInPlace = (into: Float32Array) => {
            const x = wasmRegister('float32', 3, 1024) as Float32Array;
            x.set(a);
            unaryRange(unaryCode, x, start, 1, x, start, len);
            into.set(x);
          };
          compare(() => new Float32Array(1024), unaryInPlace, `${unaryCode} in place in a register n=${len}`);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('addRowsWasm accumulates onto what the output holds, at offsets', () => {
    const x = Float32Array.from({ length: 3 * 70 + 2 }, (_, i) => Math.fround(i * 0.37 - 20));
    const o = new Float32Array(75).fill(1.5);
    expect(addRowsWasm(x, 2, 3, 70, o, 4)).toBe(true);
    for (let j = 0; j < 75; j++) {
      const expected = j < 4 || j >= 74 ? 1.5 : Math.fround(Math.fround(Math.fround(1.5 + x[2 + j - 4]!) + x[72 + j - 4]!) + x[142 + j - 4]!);
      expect(o[j], `column ${j}`).toBe(expected);
    }
  });
});
