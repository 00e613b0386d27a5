/**
 * How a compiled plan runs elementwise work on the CPU: its pooled buffers and registers live in a WebAssembly
 * memory of its own (the SIMD kernels read and write them in place), and rows over which every operand is
 * contiguous or repeated (a bias add) are batched into chunks of whole rows. Both are invisible in the
 * values: a jitted function gives eager execution's bits.
 */
import { describe, expect, it } from 'vitest';
import {
  abs,
  add,
  concat,
  div,
  exp,
  floor,
  grad,
  greater,
  jit,
  leakyRelu,
  matmul,
  reshape,
  trace,
  transpose,
  less,
  maximum,
  minimum,
  mul,
  neg,
  relu,
  sigmoid,
  sign,
  slice,
  sqrt,
  square,
  sub,
  sum,
  tanh,
  where,
  type DType,
  type Tensor,
} from '@tapestry/core';
import { cpu } from '../../src/backend/cpu.js';
import { compileGraph } from '../../src/graph/compile.js';
import { optimize } from '../../src/graph/optimize.js';
import { setElementwiseWasm } from '../../src/kernels/wasm/elementwise-wasm.js';
import { valuesFor } from './programs.js';

// each its own plan (one fused group takes every elementwise node of a shape): a fused chain over a bias
// (a repeated row) and a scalar, a lone bias add (a group of one), a comparison and a select (int32
// registers), a column [N, 1] broadcast along the rows (expanded per chunk where rows have 16 elements or
// more), column sums; and groups whose inputs and values are all in the plan's own buffers (copies made by
// concat and slice), which run as one generated loop (float32) or call their members' SIMD kernels directly,
// the one with a leakyRelu slope that is no float32 (which keeps the JavaScript row) member by member
/** A copy of `x` in the plan's memory: concatenated with itself and sliced back. */
const pooled = (x: Tensor): Tensor => {
  const last = x.rank - 1;
  const start = x.shape.map((_, i) => (i === last ? 1 : 0));
  return slice(concat([x, x], last), start, x.shape);
};
const programs = {
  chain: (x: Tensor, b: Tensor) => tanh(sub(sigmoid(add(mul(x, 0.75), b)), b)),
  lone: (x: Tensor, b: Tensor) => sum(add(x, b), [1]),
  select: (x: Tensor, b: Tensor) => where(greater(x, b), exp(x), b),
  column: (x: Tensor, _b: Tensor, c: Tensor) => mul(exp(x), c),
  // column sums of a pooled value into a pooled value (a bias gradient), both in the plan's memory
  columnSums: (x: Tensor, b: Tensor) => mul(sum(tanh(x), [0]), b),
  generated: (x0: Tensor, b0: Tensor, c0: Tensor) => {
    const [x, b, c] = [pooled(x0), pooled(b0), pooled(c0)];
    const u = add(mul(x, b), 0.5);
    const v = where(greater(u, c), leakyRelu(u, 0.25), sigmoid(u));
    const w = div(sub(maximum(v, c), minimum(tanh(v), 0.125)), add(abs(v), 1));
    const s = where(less(neg(w), x), sign(floor(mul(w, 4))), relu(w));
    return pooled(mul(exp(neg(w)), add(sqrt(square(w)), s)));
  },
  direct: (x0: Tensor, b0: Tensor, c0: Tensor) => {
    const [x, b, c] = [pooled(x0), pooled(b0), pooled(c0)];
    const u = add(mul(x, b), 0.5);
    const v = where(greater(u, c), leakyRelu(u, 0.25), sigmoid(u));
    const w = div(sub(maximum(v, c), minimum(tanh(v), 0.125)), add(abs(v), 1));
    const s = where(less(neg(w), x), sign(floor(mul(w, 4))), leakyRelu(relu(w), 0.1));
    // copied out again, so that the group's value is stored in the plan's memory too
    return pooled(mul(exp(neg(w)), add(sqrt(square(w)), s)));
  },
};
const names = Object.keys(programs) as (keyof typeof programs)[];

// rows shorter than the SIMD minimum, odd lengths, rows longer than a register, batches that do not divide
const shapes: [number, number][] = [
  [1, 5],
  [2, 3],
  [3, 65],
  [33, 64],
  [70, 65],
  [7, 130],
  [9, 512],
  [5, 2049],
  [3, 5000],
];

describe('compiled elementwise rows', () => {
  for (const dtype of ['float32', 'float64'] as DType[]) {
    it(`give eager's bits for broadcast rows, batched or not (${dtype})`, () => {
      for (const name of names) {
        const f = jit(programs[name]);
        for (const [n, h] of shapes) {
          const x = valuesFor([n, h], n + h, dtype);
          const b = valuesFor([h], 2 * h + 1, dtype);
          const c = valuesFor([n, 1], 3 * n + 2, dtype);
          expect(f(x, b, c).toArray(), `${name} for [${n}, ${h}]`).toEqual(programs[name](x, b, c).toArray());
        }
      }
    });
  }

  it('gives the same bits with the SIMD kernels turned off (plain arrays, JavaScript loops)', () => {
    const x = valuesFor([9, 512], 4, 'float32');
    const b = valuesFor([512], 5, 'float32');
    const c = valuesFor([9, 1], 6, 'float32');
    const on = names.map((name) => jit(programs[name])(x, b, c).toArray());
    setElementwiseWasm(false);
    try {
      expect(names.map((name) => jit(programs[name])(x, b, c).toArray())).toEqual(on);
    } finally {
      setElementwiseWasm(true);
    }
  });

  it("copies slices, concatenations and a slice's gradient (pad) within the plan's memory with eager's values", () => {
    // runs of 40 and 24 elements (long enough for the bulk copy) from [5, 64], concatenated row by row
    const layout = (x: Tensor) => {
      const n = x.shape[0]!;
      return concat([tanh(slice(x, [0, 16], [n, 40])), exp(slice(x, [0, 0], [n, 24]))], 1);
    };
    const loss = (x: Tensor) => sum(mul(layout(x), layout(x)));
    for (const dtype of ['float32', 'float64'] as DType[]) {
      const x = valuesFor([5, 64], 7, dtype);
      expect(jit(layout)(x).toArray()).toEqual(layout(x).toArray());
      expect(jit(grad(loss))(x).toArray()).toEqual(grad(loss)(x).toArray());
    }
  });

  it('copies an argument that a copy kernel reads into the plan first, afresh each call, leaving the argument as it was', () => {
    // a batch transposed into time-major order (and read whole too), then a product of each step
    const f = (x: Tensor, w: Tensor) => {
      const steps = transpose(x, [1, 0, 2]);
      return add(matmul(reshape(steps, [-1, 5]), w), sum(x));
    };
    const jitted = jit(f);
    for (const seed of [1, 2, 3]) {
      const x = valuesFor([4, 3, 5], seed, 'float32');
      const w = valuesFor([5, 2], seed + 10, 'float32');
      const before = x.toArray();
      expect(jitted(x, w).toArray(), `call with seed ${seed}`).toEqual(f(x, w).toArray());
      expect(x.toArray()).toEqual(before);
    }
    expect(jitted.cacheSize).toBe(1);
  });

  it("places a plan's buffers in one WebAssembly memory: typed, disjoint and aligned to cache lines", () => {
    const blocks = [
      { dtype: 'float32', size: 5 },
      { dtype: 'float64', size: 3 },
      { dtype: 'int32', size: 7 },
      { dtype: 'float32', size: 0 },
    ] as const;
    const buffers = cpu.allocatePlan!(blocks, cpu.planContext()) as (Float32Array | Float64Array | Int32Array)[];
    expect(buffers.map((b) => b.constructor)).toEqual([Float32Array, Float64Array, Int32Array, Float32Array]);
    expect(buffers.map((b) => b.length)).toEqual([5, 3, 7, 0]);
    expect(new Set(buffers.map((b) => b.buffer)).size).toBe(1);
    // the plan's own (unshared) memory; by tag, since a page that is not cross-origin isolated has no SharedArrayBuffer
    expect(Object.prototype.toString.call(buffers[0]!.buffer)).toBe('[object ArrayBuffer]');
    for (let i = 0; i < buffers.length; i++) {
      expect(buffers[i]!.byteOffset % 64).toBe(0);
      if (i > 0) expect(buffers[i]!.byteOffset).toBeGreaterThanOrEqual(buffers[i - 1]!.byteOffset + buffers[i - 1]!.byteLength);
    }
  });

  it("adds a bias (or a whole addend) to a product inside the GEMM, with eager's bits, where the product sums in one chunk", () => {
    // a projection plus a bias row, a batched left operand plus a whole addend, a transposed left operand,
    // and products of more than 256 terms (two chunks: added apart, as a GEMM that adds per chunk would round
    // differently); each returned through a slice, so that the add is no fused group's
    const cases: [number[], number[], number[], boolean, boolean][] = [
      [[70, 65], [33, 65], [33], false, true],
      [[2, 9, 40], [40, 24], [2, 9, 24], false, false],
      [[40, 7], [40, 12], [12], true, false],
      [[5, 300], [300, 16], [16], false, false],
    ];
    for (const dtype of ['float32', 'float64'] as DType[]) {
      for (const [aShape, bShape, cShape, transposeA, transposeB] of cases) {
        const f = (a: Tensor, b: Tensor, c: Tensor) => {
          const y = add(matmul(a, b, { transposeA, transposeB }), c);
          return slice(
            y,
            y.shape.map(() => 0),
            y.shape.map((d, i) => (i === 0 ? Math.max(1, d - 1) : d)),
          );
        };
        const args = [valuesFor(aShape, 1, dtype), valuesFor(bShape, 2, dtype), valuesFor(cShape, 3, dtype)] as const;
        expect(jit(f)(...args).toArray(), `${aShape} · ${bShape} + ${cShape} (${dtype})`).toEqual(f(...args).toArray());
        const fused = compileGraph(optimize(trace(f, ...args))).schedule.productSums.size;
        const oneChunk = (transposeA ? aShape[0]! : aShape[aShape.length - 1]!) <= 256;
        expect(fused, `${aShape} · ${bShape} (${dtype})`).toBe(dtype === 'float32' && oneChunk ? 1 : 0);
      }
    }
  });
});
