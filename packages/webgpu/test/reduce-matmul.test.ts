/**
 * Reductions and matmul against core's CPU ops in float32. Tolerances: max, min and argmax pick an element,
 * so they match exactly. Sums and products add in another order than the CPU (which accumulates in double
 * along a row, or in float32 across rows; the GPU in float32 per thread, then in a tree across a workgroup),
 * so each result may differ by rounding of the order: the bound used is n·ε·Σ|terms| for n terms, the
 * standard worst case for recursive summation, which the tests compute from the inputs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@tapestry/core';
import { tensor, type Tensor } from '@tapestry/core';
import type { WebGpuBackend } from '@tapestry/webgpu';
import { backendOrSkip, mismatch, openBackend, runOnGpu, RUNS, shapeArb, values } from './gpu-harness.js';

const backend = await backendOrSkip('reduce-matmul');
const EPS = 2 ** -24;

/** Asserts |gpu − cpu| ≤ n·ε·bound + tiny elementwise, `bound` the sums of |terms|. */
function expectSummedClose(got: ArrayLike<number>, want: Tensor, bound: Tensor, n: number): void {
  const w = want.dataSync();
  const b = bound.dataSync();
  expect(got.length).toBe(w.length);
  for (let i = 0; i < w.length; i++) {
    const tol = 2 * n * EPS * b[i]! + 1e-30;
    if (!(Math.abs(got[i]! - w[i]!) <= tol)) expect.fail(`element ${i}: gpu ${got[i]}, cpu ${w[i]}, tolerance ${tol}`);
  }
}

const axesArb = (rank: number) => fc.subarray(Array.from({ length: rank }, (_, i) => i));

describe.skipIf(backend === null)('webgpu reductions and matmul', () => {
  const gpu = backend!;

  it('sum, max and min over any axes match the CPU', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb(0, 4, 5).chain((s) => fc.tuple(fc.constant(s), axesArb(s.length), fc.boolean())),
        fc.integer({ min: 0, max: 999 }),
        async ([shape, axes, keepDims], seed) => {
          const x = values(shape, seed);
          let n = 1;
          for (const a of axes) n *= shape[a]!;
          const s = core.sum(x, axes, keepDims);
          expectSummedClose(await runOnGpu(gpu, 'sum', [x], s, { axes, keepDims }), s, core.sum(core.abs(x), axes, keepDims), n);
          for (const op of ['max', 'min'] as const) {
            const want = core[op](x, axes, keepDims);
            expect(mismatch(await runOnGpu(gpu, op, [x], want, { axes, keepDims }), want, 0, 0), op).toBeNull();
          }
          const xi = values(shape, seed, -50, 50, 'int32');
          const si = core.sum(xi, axes, keepDims);
          expect(mismatch(await runOnGpu(gpu, 'sum', [xi], si, { axes, keepDims }), si, 0, 0)).toBeNull();
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('long reductions (a workgroup per output) match the CPU, and NaN propagates through max', async () => {
    const x = values([3, 3000], 5);
    const s = core.sum(x, [1]);
    expectSummedClose(await runOnGpu(gpu, 'sum', [x], s, { axes: [1], keepDims: false }), s, core.sum(core.abs(x), [1]), 3000);
    const t = values([2000, 3], 6);
    const m = core.max(t, [0]);
    expect(mismatch(await runOnGpu(gpu, 'max', [t], m, { axes: [0], keepDims: false }), m, 0, 0)).toBeNull();
    const withNaN = core.concat([t, tensor([[NaN, 1, 2]])], 0);
    const mn = core.max(withNaN, [0]);
    expect(mismatch(await runOnGpu(gpu, 'max', [withNaN], mn, { axes: [0], keepDims: false }), mn, 0, 0)).toBeNull();
  });

  it('argmax picks the first maximum along any axis', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb(1, 3, 6).chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length - 1 }))),
        fc.integer({ min: 0, max: 999 }),
        async ([shape, axis], seed) => {
          const x = core.floor(values(shape, seed, -3, 3)); // ties
          const want = core.argmax(x, axis);
          expect(mismatch(await runOnGpu(gpu, 'argmax', [x], want, { axis, keepDims: false }), want, 0, 0)).toBeNull();
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('batched matmul with transposes and broadcast batch axes matches the CPU', async () => {
    const dims = fc.integer({ min: 1, max: 70 });
    const batch = fc.constantFrom<number[][]>([[], []], [[2], [2]], [[3], []], [[2, 1], [3]], [[1], [2]]);
    await fc.assert(
      fc.asyncProperty(
        dims,
        dims,
        dims,
        batch,
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 999 }),
        async (m, k, n, [ba, bb], transA, transB, seed) => {
          const a = values([...ba, ...(transA ? [k, m] : [m, k])], seed);
          const b = values([...bb, ...(transB ? [n, k] : [k, n])], seed + 1);
          const want = core.matmul(a, b, { transposeA: transA, transposeB: transB });
          const bound = core.matmul(core.abs(a), core.abs(b), { transposeA: transA, transposeB: transB });
          expectSummedClose(await runOnGpu(gpu, 'matmul', [a, b], want, { transA, transB }), want, bound, k);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it('a product larger than one tile in every direction (the 8×8-per-thread kernel) matches the CPU', async () => {
    const a = values([1030, 40], 1);
    const b = values([40, 1100], 2);
    const want = core.matmul(a, b);
    expectSummedClose(await runOnGpu(gpu, 'matmul', [a, b], want, { transA: false, transB: false }), want, core.matmul(core.abs(a), core.abs(b)), 40);
  });

  it('the vector and scalar tile layouts sum each element in the same order, at every edge of the tiles', async () => {
    // blocks of 4×4 and 8×8 per thread (64- and 128-wide tiles) with ragged edges in M, N and K, every transpose
    const scalar = (await openBackend(undefined, 'scalar')) as WebGpuBackend;
    expect(scalar.matmulTiles).toBe('scalar');
    for (const [m, k, n] of [
      [70, 45, 66],
      [1027, 19, 130],
      [33, 70, 1030],
    ] as const)
      for (const transA of [false, true])
        for (const transB of [false, true]) {
          const a = values([2, ...(transA ? [k, m] : [m, k])], m + k);
          const b = values(transB ? [n, k] : [k, n], n + k);
          const want = core.matmul(a, b, { transposeA: transA, transposeB: transB });
          const got = await runOnGpu(gpu, 'matmul', [a, b], want, { transA, transB });
          expectSummedClose(got, want, core.matmul(core.abs(a), core.abs(b), { transposeA: transA, transposeB: transB }), k);
          const old = await runOnGpu(scalar, 'matmul', [a, b], want, { transA, transB });
          expect(mismatch(got, tensor(old, { shape: want.shape }), 0, 0), `${m}×${k}×${n} ${transA} ${transB}`).toBeNull();
        }
    scalar.destroy();
  });

  it('the unrolled matmul (what a hardware adapter runs) computes the same as the rolled one', async () => {
    // On llvmpipe the suite runs the compact (rolled) kernels; this compiles the unrolled form once (slowly there).
    const unrolled = (await openBackend(false)) as WebGpuBackend;
    expect(unrolled.compact).toBe(false);
    const a = values([5, 70, 33], 3);
    const b = values([33, 65], 4);
    const want = core.matmul(a, b);
    const got = await runOnGpu(unrolled, 'matmul', [a, b], want, { transA: false, transB: false });
    expectSummedClose(got, want, core.matmul(core.abs(a), core.abs(b)), 33);
    unrolled.destroy();
  });
});
