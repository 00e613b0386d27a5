/**
 * Packed right operands: the WebAssembly kernel with op(B) packed beforehand against the ordinary one (bit for
 * bit), the bookkeeping of the memory packed operands live in, and compiled plans whose products share an
 * operand against eager execution.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { add, jit, matmul, mul, reshape, sum, tanh, tensor, transpose, type DType, type Tensor } from '@tapestry/core';
import { batchedGemmInto, batchedGemmPackedBInto } from '../src/kernels/matmul.js';
import { SharedRightOperand, SharedRightOperands } from '../src/kernels/matmul-shared.js';
import { gemmWasm, gemmWasmPackedB, PackedB, packBWasm } from '../src/kernels/wasm/gemm-wasm.js';
import { ResidentRegion } from '../src/kernels/wasm/resident-region.js';
import { matmulT } from '../src/ops/matmul.js';
import { TRANSPOSES, values } from './gemm-operands.js';

describe('gemmWasmPackedB', () => {
  it('equals gemmWasm bit for bit: tile and chunk edges, all transposes, operands at offsets', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(1, 3, 4, 5, 64, 255, 256, 257, 600),
        fc.constantFrom(...TRANSPOSES),
        fc.nat(1e6),
        (m, n, k, [tA, tB], seed) => {
          const pad = 5;
          const a = values(m * k + 2 * pad, seed);
          const b = values(k * n + 2 * pad, seed + 1);
          const expected = new Float32Array(m * n + 2 * pad).fill(-7);
          gemmWasm(a, pad, b, pad, expected, pad, m, n, k, tA, tB);
          const packed = PackedB.reserve(k, n);
          packBWasm(packed, b, pad, tB);
          const got = new Float32Array(m * n + 2 * pad).fill(-7);
          gemmWasmPackedB(a, pad, packed, got, pad, m, tA);
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('several packed operands stay intact while other products use the scratch above them', () => {
    const shapes = [
      [300, 33],
      [64, 1024],
      [7, 9],
    ] as const;
    const bs = shapes.map(([k, n], i) => values(k * n, 100 + i));
    const packs = shapes.map(([k, n], i) => {
      const p = PackedB.reserve(k, n);
      packBWasm(p, bs[i]!, 0, i % 2 === 1);
      return p;
    });
    // a large ordinary product in between: its scratch (operands, result, packing buffers) lies above them
    const big = values(512 * 512, 7);
    gemmWasm(big, 0, big, 0, new Float32Array(512 * 512), 0, 512, 512, 512, false, true);
    shapes.forEach(([k, n], i) => {
      const m = 13;
      const a = values(m * k, 200 + i);
      const expected = new Float32Array(m * n);
      gemmWasm(a, 0, bs[i]!, 0, expected, 0, m, n, k, false, i % 2 === 1);
      const got = new Float32Array(m * n);
      gemmWasmPackedB(a, 0, packs[i]!, got, 0, m, false);
      expect(got).toEqual(expected);
    });
  });

  it('refuses a packed operand that was never filled', () => {
    expect(() => gemmWasmPackedB(new Float32Array(4), 0, PackedB.reserve(2, 2), new Float32Array(4), 0, 2, false)).toThrow(/never filled/);
  });

  it('batchedGemmPackedBInto equals batchedGemmInto with one op(B) for every batch entry', () => {
    const [m, n, k] = [6, 19, 37];
    const aIndex = Int32Array.from([1, 0, 2, 1]);
    const bIndex = new Int32Array(4);
    for (const [tA, tB] of TRANSPOSES) {
      const a = values(3 * m * k, 3);
      const b = values(k * n, 4);
      const expected = new Float32Array(4 * m * n);
      batchedGemmInto(a, b, expected, 4, aIndex, bIndex, m, n, k, tA, tB, 'float32');
      const packed = PackedB.reserve(k, n);
      packBWasm(packed, b, 0, tB);
      const got = new Float32Array(4 * m * n);
      batchedGemmPackedBInto(a, packed, got, 4, aIndex, m, tA);
      expect(got).toEqual(expected);
    }
  });
});

describe('ResidentRegion', () => {
  it('reuses released blocks first-fit, merges neighbours and shrinks from the top', () => {
    const region = new ResidentRegion();
    const a = region.reserve(64);
    const b = region.reserve(128);
    const c = region.reserve(64);
    expect([a, b, c, region.top]).toEqual([0, 64, 192, 256]);
    region.release(b, 128);
    expect(region.reserve(64)).toBe(64); // the front of b's block
    expect(region.freeBytes).toBe(64);
    region.release(a, 64);
    region.release(64, 64); // merges with a's block and the rest of b's
    expect(region.freeBytes).toBe(192);
    expect(region.reserve(192)).toBe(0);
    region.release(0, 192);
    region.release(c, 64); // the top block: the region shrinks past every free block below it
    expect([region.top, region.freeBytes]).toEqual([0, 0]);
  });

  it('live blocks never overlap, whatever the order of reserves and releases', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 8 }), fc.nat()), { maxLength: 60 }), (ops) => {
        const region = new ResidentRegion();
        const live: { at: number; bytes: number }[] = [];
        for (const [reserve, size, pick] of ops) {
          if (reserve || live.length === 0) {
            const bytes = 64 * size;
            live.push({ at: region.reserve(bytes), bytes });
          } else {
            const [block] = live.splice(pick % live.length, 1);
            region.release(block!.at, block!.bytes);
          }
          const sorted = [...live].sort((x, y) => x.at - y.at);
          sorted.forEach((x, i) => {
            expect(x.at + x.bytes).toBeLessThanOrEqual(i + 1 < sorted.length ? sorted[i + 1]!.at : region.top);
          });
        }
        for (const block of live) region.release(block.at, block.bytes);
        expect([region.top, region.freeBytes]).toEqual([0, 0]);
      }),
      { numRuns: 200 },
    );
  });
});

describe('SharedRightOperands', () => {
  it('one operand per value, shape and transpose flag; the first product registered packs', () => {
    const shared = new SharedRightOperands();
    const w = shared.operand(3, 40, 24, true);
    expect(shared.operand(3, 40, 24, true)).toBe(w);
    expect(shared.operand(3, 40, 24, false)).not.toBe(w);
    expect(shared.operand(3, 24, 40, true)).not.toBe(w);
    expect(shared.operand(4, 40, 24, true)).not.toBe(w);
    expect(w.addUser()).toBe(true);
    expect(w.shared).toBe(false);
    expect(w.addUser()).toBe(false);
    expect(w.shared).toBe(true);
  });

  it('a product reading the panels before the packing product ran is an internal error', () => {
    expect(() => new SharedRightOperand(4, 4, false).panels()).toThrow(/ran before the product that packs it/);
  });
});

describe('compiled plans whose products share a right operand', () => {
  afterEach(() => vi.restoreAllMocks());

  /**
   * An unrolled recurrence reading w as op(B) both ways (h·wᵀ and g·w), a batched product over one w, w's
   * storage read as another matrix (a reshape), an intermediate value (tanh(w)) shared by several products,
   * and one product whose operand nobody else reads. No two products are added directly, so the graph passes
   * leave every product as it is and the plan must reproduce eager execution exactly.
   */
  function program(w: Tensor, x: Tensor, xs: Tensor): Tensor {
    const v = tanh(w);
    let h = x;
    let total = sum(tanh(matmulT(xs, w, false, true)));
    for (let t = 0; t < 5; t++) {
      const g = mul(tanh(matmulT(h, w, false, true)), tanh(matmulT(h, v, false, true))); // [6, 24]
      h = tanh(matmul(g, w)); // [6, 40]
      total = add(total, sum(tanh(matmul(h, reshape(w, [40, 24])))));
    }
    total = add(total, sum(tanh(matmul(transpose(w, [1, 0]), tanh(v)))));
    return add(total, sum(h));
  }

  const operands = (dtype: DType, seed: number): [Tensor, Tensor, Tensor] => {
    const make = (shape: number[], s: number): Tensor => {
      const data = values(
        shape.reduce((p, q) => p * q, 1),
        s,
      ).map((z) => z * 0.3);
      return tensor(dtype === 'float32' ? data : Float64Array.from(data), { shape, dtype });
    };
    return [make([24, 40], seed), make([6, 40], seed + 1), make([3, 6, 40], seed + 2)];
  };

  it('float32: equal to eager bit for bit, run after run with new values, packing each shared operand once per run', () => {
    const reserve = vi.spyOn(PackedB, 'reserve');
    const f = jit(program);
    for (let run = 0; run < 3; run++) {
      const args = operands('float32', 10 * run + 1);
      expect(f(...args).item()).toBe(program(...args).item());
      // the four shared operands (wᵀ, which the batched product reads too; w; w's storage read as [40, 24];
      // tanh(w)ᵀ) reserve their blocks in the first run and keep them; the last product's operand is not shared
      expect(reserve).toHaveBeenCalledTimes(4);
    }
  });

  it('float64 (no packing): equal to eager exactly', () => {
    const f = jit(program);
    for (let run = 0; run < 2; run++) {
      const args = operands('float64', 10 * run + 5);
      expect(f(...args).item()).toBe(program(...args).item());
    }
  });
});
