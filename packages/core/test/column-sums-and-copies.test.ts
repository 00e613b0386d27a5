/**
 * The float32 column sums of the WebAssembly module against the TypeScript reduction (bit for bit), and
 * compiled plans' sums, slices, transposes, pads and concats (which take the WebAssembly sums and block
 * copies) against eager.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { add, concat, grad, jit, mul, reshape, slice, sum, tanh, tensor, transpose, type Tensor } from '@tapestry/core';
import { reduceInto } from '../src/kernels/reduce.js';
import { copyRowsWasm, elementwiseWasmAvailable, reduceRowsWasm, WasmArena } from '../src/kernels/wasm/elementwise-wasm.js';
import { sumRowsWasm } from '../src/kernels/wasm/gemm-wasm.js';

/** Deterministic float32 values in [-1, 1), with exact zeros of both signs mixed in (a linear congruential sequence). */
function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s % 17 === 0 ? (s % 2 === 0 ? 0 : -0) : s / 2 ** 31 - 1;
  }
  return out;
}

describe('sumRowsWasm', () => {
  it('gives the bits of the TypeScript reduction over axis 0, at offsets, any width', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 70 }), fc.nat(1e6), (rows, cols, seed) => {
        const pad = 3;
        const x = values(rows * cols + 2 * pad, seed);
        const expected = new Float32Array(cols);
        reduceInto('sum', x.subarray(pad, pad + rows * cols), [rows, cols], [0], expected);
        const got = new Float32Array(cols + 2 * pad).fill(-7);
        sumRowsWasm(x, pad, rows, cols, got, pad);
        expect(Array.from(got.subarray(pad, pad + cols), (v) => (Object.is(v, -0) ? '-0' : v))).toEqual(
          Array.from(expected, (v) => (Object.is(v, -0) ? '-0' : v)),
        );
        expect([...got.subarray(0, pad), ...got.subarray(pad + cols)]).toEqual(new Array(2 * pad).fill(-7));
      }),
      { numRuns: 100 },
    );
  });
});

describe('copyRowsWasm', () => {
  // a browser's main thread compiles the module asynchronously (it is over Chrome's 4 KB synchronous limit)
  beforeAll(() => vi.waitUntil(elementwiseWasmAvailable, { timeout: 10_000 }));

  it('copies strided rows between two buffers of one arena, whole vectors or not, and nothing around them', () => {
    // one arena for every run (a browser runs out of memories if each run makes its own): a source and a
    // destination block per dtype, each as large as the largest case needs
    const dtypes = ['float32', 'float64', 'int32'] as const;
    const largest = 9 * (40 + 6) + 3;
    const arena = WasmArena.create(
      dtypes.flatMap((dtype) => [
        { dtype, size: largest },
        { dtype, size: largest },
      ]),
    );
    expect(arena).not.toBeNull();
    const blocks = new Map(dtypes.map((dtype) => [dtype, [arena!.allocate(dtype, largest), arena!.allocate(dtype, largest)] as const]));
    fc.assert(
      fc.property(
        fc.constantFrom(...dtypes),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 40 }),
        fc.nat(6),
        fc.nat(6),
        (dtype, rows, length, xGap, oGap) => {
          const xStride = length + xGap;
          const oStride = length + oGap;
          const [xBlock, oBlock] = blocks.get(dtype)!;
          const x = xBlock.subarray(0, rows * xStride + 3);
          const o = oBlock.subarray(0, rows * oStride + 3);
          x.forEach((_, i) => (x[i] = i + 1));
          o.fill(-7);
          expect(copyRowsWasm(x, 2, xStride, o, 1, oStride, rows, length)).toBe(true);
          const expected = new Array<number>(o.length).fill(-7);
          for (let r = 0; r < rows; r++) for (let j = 0; j < length; j++) expected[1 + r * oStride + j] = x[2 + r * xStride + j]!;
          expect(Array.from(o)).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('declines (copying nothing) arrays outside one memory and overlapping ones', () => {
    const arena = WasmArena.create([{ dtype: 'float32', size: 64 }])!;
    const inArena = arena.allocate('float32', 64) as Float32Array;
    const outside = new Float32Array(64).fill(-7);
    expect(copyRowsWasm(inArena, 0, 8, outside, 0, 8, 4, 8)).toBe(false);
    expect(outside.every((v) => v === -7)).toBe(true);
    inArena.fill(3);
    expect(copyRowsWasm(inArena.subarray(0, 40), 0, 8, inArena.subarray(8), 0, 8, 4, 8)).toBe(false);
    expect(inArena.every((v) => v === 3)).toBe(true);
  });
});

describe('reduceRowsWasm', () => {
  beforeAll(() => vi.waitUntil(elementwiseWasmAvailable, { timeout: 10_000 }));

  it('folds rows as the TypeScript reduction does (sums in a double; NaN, ±0 and ±∞ in max and min), any row count', () => {
    const largest = 11 * 70;
    const arena = WasmArena.create([
      { dtype: 'float32', size: largest },
      { dtype: 'float32', size: 11 },
    ])!;
    const [xBlock, oBlock] = [arena.allocate('float32', largest) as Float32Array, arena.allocate('float32', 11) as Float32Array];
    const specials = [NaN, 0, -0, Infinity, -Infinity, 3e38, -3e38, 1e-45];
    fc.assert(
      fc.property(
        fc.constantFrom('sum', 'max', 'min'),
        fc.integer({ min: 1, max: 11 }),
        fc.integer({ min: 1, max: 70 }),
        fc.nat(1e6),
        fc.boolean(),
        (code, rows, inner, seed, special) => {
          const x = xBlock.subarray(0, rows * inner);
          x.set(values(rows * inner, seed));
          // a few specials among ordinary values (NaN and infinities turn whole sums, so not too many)
          if (special) for (let i = seed % 7; i < x.length; i += 13) x[i] = specials[(i + seed) % specials.length]!;
          const o = oBlock.subarray(0, rows);
          expect(reduceRowsWasm(code, x, rows, inner, o)).toBe(true);
          const expected = new Float32Array(rows);
          reduceInto(code, x.slice(), [rows, inner], [1], expected);
          // every value as it is, -0 apart from 0 (a NaN is a NaN: the processor's default NaN has the sign bit set)
          const shown = (a: Float32Array) => Array.from(a, (v) => (Object.is(v, -0) ? '-0' : String(v)));
          expect(shown(o)).toEqual(shown(expected));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('declines arrays outside one memory, and float64', () => {
    const arena = WasmArena.create([{ dtype: 'float32', size: 64 }])!;
    const x = arena.allocate('float32', 64);
    expect(reduceRowsWasm('sum', x, 8, 8, new Float32Array(8))).toBe(false);
    expect(reduceRowsWasm('max', new Float64Array(64), 8, 8, new Float64Array(8))).toBe(false);
  });
});

describe('compiled sums and concats', () => {
  const f32 = (shape: number[], seed: number): Tensor =>
    tensor(
      values(
        shape.reduce((p, q) => p * q, 1),
        seed,
      ),
      { shape },
    );

  it('sums over leading axes (WebAssembly) and over other axes equal eager bit for bit', () => {
    const program = (x: Tensor, y: Tensor) => ({
      bias: sum(tanh(x), [0]), // [5, 7, 33] over axis 0
      both: sum(mul(x, 2), [0, 1], true),
      inner: sum(x, [2]),
      middle: sum(x, [1]),
      matrix: sum(y, [0]), // [64, 1024]: an LSTM step's bias gradient
    });
    const f = jit(program);
    for (let run = 0; run < 2; run++) {
      const args = [f32([5, 7, 33], run), f32([64, 1024], run + 10)] as const;
      const got = f(...args);
      const expected = program(...args);
      for (const key of Object.keys(expected) as (keyof typeof expected)[]) {
        expect(got[key].shape).toEqual(expected[key].shape);
        expect(got[key].dataSync()).toEqual(expected[key].dataSync());
      }
    }
  });

  it('slices and transposes with long runs (copied whole) and short ones, and their gradients, equal eager', () => {
    const program = (x: Tensor) => ({
      step: slice(x, [0, 3, 0], [4, 1, 40]), // a time step of [N, T, D]: runs of 40
      narrow: slice(x, [1, 0, 5], [2, 6, 3]), // runs of 3
      swapped: transpose(x, [1, 0, 2]), // runs of 40
      // the gradient of slices: pads of long and short runs (some summed into one concat by the passes)
      grad: grad((y: Tensor) => add(sum(tanh(slice(y, [0, 2, 0], [4, 1, 40]))), sum(tanh(slice(y, [2, 0, 1], [1, 6, 2])))))(x),
    });
    const f = jit(program);
    const x = f32([4, 6, 40], 4);
    const got = f(x);
    const expected = program(x);
    for (const key of Object.keys(expected) as (keyof typeof expected)[]) {
      expect(got[key].shape).toEqual(expected[key].shape);
      expect(got[key].dataSync()).toEqual(expected[key].dataSync());
    }
  });

  it('concats of wide blocks (copied whole) and of narrow runs equal eager', () => {
    const program = (a: Tensor, b: Tensor, c: Tensor) => ({
      rows: concat([tanh(a), b], 0), // [4 + 6, 40]: whole blocks
      wide: concat([tanh(a), c], 1), // [4, 40 + 20]: runs of 40 and 20 per row
      tiny: concat([reshape(tanh(a), [80, 2]), reshape(a, [80, 2])], 1), // runs of 2, element by element
    });
    const f = jit(program);
    const args = [f32([4, 40], 1), f32([6, 40], 2), f32([4, 20], 3)] as const;
    const got = f(...args);
    const expected = program(...args);
    for (const key of Object.keys(expected) as (keyof typeof expected)[]) {
      expect(got[key].shape).toEqual(expected[key].shape);
      expect(got[key].dataSync()).toEqual(expected[key].dataSync());
    }
  });
});
