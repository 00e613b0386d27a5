/**
 * Matrix products inlined into the elementwise kernel that reads them (`CompileGraphOptions.inlineMatmul`):
 * the product is no dispatch of its own, each element is the sum the matmul kernel would compute (the same
 * bits), and a product that cannot be summed in place — read by two kernels, read broadcast, batched, too
 * deep — keeps its kernel.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as core from '@tapestry/core';
import { optimize, trace, type Tensor } from '@tapestry/core';
import { compileGraph, type CompileGraphOptions, type WebGpuBackend } from '@tapestry/webgpu';
import { backendOrSkip, mismatch, openBackend, RUNS, values } from './gpu-harness.js';

const backend = await backendOrSkip('inline-matmul');

/** Compiles `f` at `args` with `options`, runs it once, and reads back every result. */
async function compiledRun(
  gpu: WebGpuBackend,
  f: (...args: Tensor[]) => Tensor[],
  args: readonly Tensor[],
  options: CompileGraphOptions,
): Promise<{ results: Float32Array[]; products: number; transposes: number; dispatches: number }> {
  const program = compileGraph(gpu, optimize(trace(f, ...args)), options);
  const inputs = args.map((t) => gpu.upload(t.dataSync() as Float32Array));
  const outputs = program.run(inputs);
  const results = await Promise.all(outputs.map(async (s) => Float32Array.from(await gpu.read(s))));
  for (const s of inputs) gpu.release(s);
  const by = program.dispatchesByKernel;
  return { results, products: by.matmul ?? 0, transposes: by.transpose ?? 0, dispatches: program.dispatchesPerCall };
}

describe.skipIf(backend === null)('matrix products inlined into elementwise kernels', () => {
  const gpu = backend!;

  it('a product read by one elementwise kernel (through slices, a transpose, a broadcast bias) is summed there, to the bits of its kernel', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 1000 }),
        async (m, k, quarter, transposeA, transposeB, seed) => {
          const n = 4 * quarter;
          const a = values(transposeA ? [k, m] : [m, k], seed);
          const b = values(transposeB ? [n, k] : [k, n], seed + 1);
          const bias = values([n], seed + 2);
          // an LSTM-like read: the product plus a bias, cut into four column blocks that one kernel combines,
          // and a transposed block beside them
          const f = (a: Tensor, b: Tensor, bias: Tensor): Tensor[] => {
            const z = core.add(core.matmul(a, b, { transposeA, transposeB }), bias);
            const [i, g, o, c] = core.split(z, 4, 1) as [Tensor, Tensor, Tensor, Tensor];
            const h = core.mul(core.sigmoid(o), core.tanh(core.add(core.mul(core.sigmoid(i), core.tanh(g)), c)));
            return [h, core.transpose(core.exp(core.neg(core.square(i))), [1, 0])];
          };
          const inlined = await compiledRun(gpu, f, [a, b, bias], {});
          const kernels = await compiledRun(gpu, f, [a, b, bias], { inlineMatmul: false });
          expect(inlined.products).toBe(0);
          expect(kernels.products).toBe(1);
          expect(inlined.dispatches).toBe(kernels.dispatches - 1);
          inlined.results.forEach((r, j) => expect(Array.from(r)).toEqual(Array.from(kernels.results[j]!)));
          // and the CPU's float32 numbers, within summation-order and transcendental error
          const want = f(a, b, bias);
          inlined.results.forEach((r, j) => expect(mismatch(r, want[j]!, 2e-5, 2e-6)).toBeNull());
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('an LSTM step chain: the recurrent product of each step is summed in the next gate kernel, from W_hh transposed once', async () => {
    const [batch, hidden, steps] = [3, 4, 5];
    const w = values([4 * hidden, hidden], 11, -0.5, 0.5);
    const x = values([steps, batch, 4 * hidden], 12);
    const f = (w: Tensor, x: Tensor): Tensor[] => {
      let h = core.zeros([batch, hidden]);
      let c = core.zeros([batch, hidden]);
      for (let t = 0; t < steps; t++) {
        const z = core.add(core.reshape(core.slice(x, [t, 0, 0], [1, batch, 4 * hidden]), [batch, 4 * hidden]), core.matmul(h, w, { transposeB: true }));
        const [i, fg, g, o] = core.split(z, 4, 1) as [Tensor, Tensor, Tensor, Tensor];
        c = core.add(core.mul(core.sigmoid(fg), c), core.mul(core.sigmoid(i), core.tanh(g)));
        h = core.mul(core.sigmoid(o), core.tanh(c));
      }
      return [h, c];
    };
    const inlined = await compiledRun(gpu, f, [w, x], {});
    const kernels = await compiledRun(gpu, f, [w, x], { inlineMatmul: false });
    // the first step's product is of zeros, a constant the optimiser may fold; every later one is inlined,
    // reading W_hhᵀ from one transposed copy per call (coalesced), made by the only transpose kernel
    expect(inlined.products).toBe(0);
    expect(kernels.products).toBeGreaterThanOrEqual(steps - 1);
    expect([inlined.transposes, kernels.transposes]).toEqual([1, 0]);
    expect(inlined.dispatches).toBe(kernels.dispatches - kernels.products + 1);
    inlined.results.forEach((r, j) => expect(Array.from(r)).toEqual(Array.from(kernels.results[j]!)));
    const want = f(w, x);
    inlined.results.forEach((r, j) => expect(mismatch(r, want[j]!, 2e-5, 2e-6)).toBeNull());
  }, 60_000);

  it('unrolled (as on a hardware adapter), the product loops sum the same bits, remainders included', async () => {
    const unrolled = (await openBackend(false)) as WebGpuBackend;
    expect(unrolled.compact).toBe(false);
    // four slices of depth 5 share a loop (4 steps of p a body, then 1 more); a lone product of depth 19 takes
    // 8 a body, twice, then 3
    const [batch, hidden] = [3, 5];
    const f = (h: Tensor, w: Tensor, a: Tensor, b: Tensor): Tensor[] => {
      const z = core.matmul(h, w, { transposeB: true });
      const [i, fg, g, o] = core.split(z, 4, 1) as [Tensor, Tensor, Tensor, Tensor];
      return [core.mul(core.sigmoid(o), core.tanh(core.add(core.mul(core.sigmoid(i), core.tanh(g)), fg))), core.tanh(core.matmul(a, b))];
    };
    const args = [values([batch, hidden], 21), values([4 * hidden, hidden], 22), values([6, 19], 23), values([19, 7], 24)];
    const rolled = await compiledRun(gpu, f, args, {});
    const fast = await compiledRun(unrolled, f, args, {});
    expect(fast.products).toBe(0);
    fast.results.forEach((r, j) => expect(Array.from(r)).toEqual(Array.from(rolled.results[j]!)));
    unrolled.destroy();
  }, 60_000);

  it('a product two kernels read, one read broadcast, a batched product and one deeper than 4096 keep their kernels', async () => {
    // read by an elementwise kernel and by a reduction: summing it twice would cost K per element again
    const shared = (a: Tensor, b: Tensor): Tensor[] => {
      const p = core.matmul(a, b);
      return [core.tanh(p), core.sum(p, [1])];
    };
    const twice = await compiledRun(gpu, shared, [values([3, 5], 1), values([5, 4], 2)], {});
    expect(twice.products).toBe(1);
    // read broadcast (a column against a matrix): each element would be summed once per column it meets
    const broadcast = (a: Tensor, b: Tensor, x: Tensor): Tensor[] => [core.sub(x, core.matmul(a, b))];
    const column = await compiledRun(gpu, broadcast, [values([3, 5], 7), values([5, 1], 8), values([3, 6], 9)], {});
    expect(column.products).toBe(1);
    expect(mismatch(column.results[0]!, broadcast(values([3, 5], 7), values([5, 1], 8), values([3, 6], 9))[0]!, 1e-5, 1e-6)).toBeNull();
    const batched = (a: Tensor, b: Tensor): Tensor[] => [core.tanh(core.matmul(a, b))];
    expect((await compiledRun(gpu, batched, [values([2, 3, 5], 3), values([2, 5, 4], 4)], {})).products).toBe(1);
    const deep = await compiledRun(gpu, batched, [values([1, 4097], 5), values([4097, 2], 6)], {});
    expect(deep.products).toBe(1);
    expect(mismatch(deep.results[0]!, core.tanh(core.matmul(values([1, 4097], 5), values([4097, 2], 6))), 1e-4, 1e-5)).toBeNull();
  }, 60_000);
});
