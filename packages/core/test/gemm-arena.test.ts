/**
 * The WebAssembly GEMM in a compiled plan's own memory (`GemmSpace`): operands that lie in the memory are read
 * where they are and the result is written in place, exactly m × n of it (the ragged edges of the kernel's
 * 4 × 8 tiles touch nothing past C), with the bits of the shared space, where everything is copied.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { add, concat, jit, matmul, mul, reshape, sum, tanh, tensor, type Tensor } from '@tapestry/core';
import { matmulT } from '../src/ops/matmul.js';
import { GemmSpace, gemmScratchBytes, gemmWasm, gemmWasmPackedB, PackedB, packBWasm, wasmGemmCopiedElements } from '../src/kernels/wasm/gemm-wasm.js';
import { TRANSPOSES, values } from './gemm-operands.js';

/** The bits of float32 values, so that results compare exactly (−0 against 0, NaN payloads). */
const bits = (x: Float32Array): Uint32Array => new Uint32Array(x.buffer, x.byteOffset, x.length);

/** A sentinel written around C: a value no product of these operands gives. */
const GUARD = 12345.5;

/**
 * A memory laid out as a plan's: blocks of floats from byte 64 on (each 64-byte aligned), then a GEMM region of
 * `gemmBytes` with its space.
 */
function planMemory(sizes: readonly number[], gemmBytes: number): { blocks: Float32Array[]; space: GemmSpace } {
  const align = (bytes: number): number => Math.ceil(bytes / 64) * 64;
  let at = 64;
  const starts = sizes.map((size) => {
    const start = at;
    at += align(4 * size);
    return start;
  });
  const memory = new WebAssembly.Memory({ initial: Math.ceil((at + gemmBytes) / 65536) });
  const space = GemmSpace.inArena(memory, at, gemmBytes);
  if (space === null) throw new Error('the WebAssembly GEMM does not run here');
  return { blocks: sizes.map((size, i) => new Float32Array(memory.buffer, starts[i]!, size)), space };
}

describe('the GEMM in a plan memory', () => {
  it('reads A and B in place and writes C in place, exactly m × n, with the bits of the shared space', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(1, 3, 5, 64, 256, 257, 600),
        fc.constantFrom(...TRANSPOSES),
        fc.nat(1e6),
        (m, n, k, [tA, tB], seed) => {
          const a = values(m * k, seed);
          const b = values(k * n, seed + 1);
          const expected = new Float32Array(m * n);
          gemmWasm(a, 0, b, 0, expected, 0, m, n, k, tA, tB);
          // C between two guard blocks: the kernel's ragged tiles must not spill into its neighbours
          const pad = 40;
          const { blocks, space } = planMemory([m * k, k * n, m * n + 2 * pad], gemmScratchBytes(m, n, k));
          const [aIn, bIn, cBlock] = blocks as [Float32Array, Float32Array, Float32Array];
          aIn.set(a);
          bIn.set(b);
          cBlock.fill(GUARD);
          const c = cBlock.subarray(pad, pad + m * n);
          const copied = wasmGemmCopiedElements();
          gemmWasm(aIn, 0, bIn, 0, c, 0, m, n, k, tA, tB);
          expect(wasmGemmCopiedElements()).toBe(copied);
          expect(bits(c)).toEqual(bits(expected));
          expect(cBlock.subarray(0, pad).every((v) => v === GUARD) && cBlock.subarray(pad + m * n).every((v) => v === GUARD)).toBe(true);
          expect(space.view.buffer).toBe(cBlock.buffer);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('copies in exactly the operands that lie outside the memory, and the result when it does', () => {
    const [m, n, k] = [13, 21, 300];
    const a = values(m * k, 1);
    const b = values(k * n, 2);
    const expected = new Float32Array(m * n);
    gemmWasm(a, 0, b, 0, expected, 0, m, n, k, false, true);
    const { blocks } = planMemory([m * k, k * n, m * n], gemmScratchBytes(m, n, k));
    const [aIn, bIn, cIn] = blocks as [Float32Array, Float32Array, Float32Array];
    aIn.set(a);
    bIn.set(b);
    const cases = [
      { a: aIn, b, c: cIn, copies: k * n },
      { a, b: bIn, c: cIn, copies: m * k },
      { a: aIn, b: bIn, c: new Float32Array(m * n), copies: m * n },
    ];
    for (const { a: left, b: right, c, copies } of cases) {
      c.fill(0);
      const before = wasmGemmCopiedElements();
      gemmWasm(left, 0, right, 0, c, 0, m, n, k, false, true);
      expect(wasmGemmCopiedElements() - before).toBe(copies);
      expect(bits(c)).toEqual(bits(expected));
    }
  });

  it('runs a product in the shared space when the plan memory has no room for it, with the same bits', () => {
    const [m, n, k] = [40, 24, 90];
    const a = values(m * k, 3);
    const b = values(k * n, 4);
    const expected = new Float32Array(m * n);
    gemmWasm(a, 0, b, 0, expected, 0, m, n, k, true, false);
    // room for a much smaller product's scratch only
    const { blocks } = planMemory([m * k, k * n, m * n], gemmScratchBytes(1, 1, 1));
    const [aIn, bIn, cIn] = blocks as [Float32Array, Float32Array, Float32Array];
    aIn.set(a);
    bIn.set(b);
    const before = wasmGemmCopiedElements();
    gemmWasm(aIn, 0, bIn, 0, cIn, 0, m, n, k, true, false);
    expect(wasmGemmCopiedElements() - before).toBe(m * k + k * n + m * n);
    expect(bits(cIn)).toEqual(bits(expected));
  });

  it('packs op(B) into the plan memory and multiplies by it in place, with the bits of gemmWasm', () => {
    for (const [m, n, k] of [
      [6, 19, 37],
      [33, 64, 257],
      [1, 9, 600],
    ] as const) {
      for (const [tA, tB] of TRANSPOSES) {
        const a = values(m * k, m + n);
        const b = values(k * n, k);
        const expected = new Float32Array(m * n);
        gemmWasm(a, 0, b, 0, expected, 0, m, n, k, tA, tB);
        const { blocks, space } = planMemory([m * k, k * n, m * n + 16], gemmScratchBytes(m, n, k) + 4 * k * (n + 8));
        const [aIn, bIn, cBlock] = blocks as [Float32Array, Float32Array, Float32Array];
        aIn.set(a);
        bIn.set(b);
        cBlock.fill(GUARD);
        const c = cBlock.subarray(8, 8 + m * n);
        const packed = PackedB.reserve(k, n, space);
        expect(packed.space).toBe(space);
        const before = wasmGemmCopiedElements();
        packBWasm(packed, bIn, 0, tB);
        gemmWasmPackedB(aIn, 0, packed, c, 0, m, tA);
        expect(wasmGemmCopiedElements()).toBe(before);
        expect(bits(c)).toEqual(bits(expected));
        expect([...cBlock.subarray(0, 8), ...cBlock.subarray(8 + m * n)].every((v) => v === GUARD)).toBe(true);
        // an operand from outside is copied in to be packed: k·n elements, once
        packBWasm(packed, b, 0, tB);
        expect(wasmGemmCopiedElements() - before).toBe(k * n);
      }
    }
  });

  it('puts a packed operand in the shared space when the plan memory is full', () => {
    const { space } = planMemory([16], gemmScratchBytes(4, 4, 4));
    const packed = PackedB.reserve(512, 512, space);
    expect(packed.space).not.toBe(space);
  });
});

describe('compiled plans run their products in their own memory', () => {
  afterEach(() => vi.restoreAllMocks());

  /**
   * Products of intermediate values only, so that every operand and result lies in the plan's memory: all
   * four transpose combinations, ragged shapes (m, n not multiples of the 4 × 8 tile), weights shared by
   * several products (packed once per run) and a batched product. No two products are added directly, so
   * the graph passes leave every product as it is.
   */
  function program(x: Tensor, w: Tensor, v: Tensor): Tensor {
    const a = tanh(x); // [13, 37]
    const wt = tanh(w); // [21, 37]
    const vt = tanh(v); // [37, 21]
    let h = tanh(matmulT(a, wt, false, true)); // [13, 37] · [37, 21] = [13, 21]
    let total = sum(h);
    for (let t = 0; t < 3; t++) {
      const g = tanh(matmulT(h, wt, false, false)); // [13, 21] · [21, 37] = [13, 37]
      const p = tanh(matmulT(g, h, true, false)); // [37, 13] · [13, 21] = [37, 21]
      const q = tanh(matmulT(p, g, true, true)); // [21, 37] · [37, 13] = [21, 13]
      h = tanh(matmulT(g, vt, false, false)); // [13, 37] · [37, 21] = [13, 21]
      total = add(total, add(sum(p), sum(q)));
    }
    const stacked = reshape(concat([a, tanh(mul(a, 0.5)), mul(a, a)], 0), [3, 13, 37]);
    const batched = tanh(matmul(stacked, vt)); // [3, 13, 21], one op(B) for the batch
    return add(add(total, sum(h)), sum(batched));
  }

  const args = (seed: number): [Tensor, Tensor, Tensor] => [
    tensor(values(13 * 37, seed), { shape: [13, 37] }),
    tensor(values(21 * 37, seed + 1), { shape: [21, 37] }),
    tensor(values(37 * 21, seed + 2), { shape: [37, 21] }),
  ];

  it('equal to eager bit for bit, with nothing copied into or out of a GEMM memory, every product in the space of the plan', () => {
    const inArena = vi.spyOn(GemmSpace, 'inArena');
    const fits = vi.spyOn(GemmSpace.prototype, 'fits');
    const f = jit(program);
    for (let run = 0; run < 3; run++) {
      const inputs = args(10 * run + 1);
      const eager = program(...inputs).item();
      fits.mockClear();
      const before = wasmGemmCopiedElements();
      const compiled = f(...inputs).item();
      // the first call traces the function (its ops run eagerly, copying) and compiles; later calls only run the plan
      if (run > 0) {
        expect(wasmGemmCopiedElements()).toBe(before);
        // 16 products (1 + 3 · 4, and a batch of 3) and 2 packings (tanh(w) and tanh(v) as op(B) of several
        // products each) fit their scratch once each, all in the plan's space
        expect(fits).toHaveBeenCalledTimes(18);
        const space = inArena.mock.results[0]!.value as GemmSpace;
        expect(fits.mock.contexts.every((context) => context === space)).toBe(true);
      }
      expect(compiled).toBe(eager);
    }
  });
});
