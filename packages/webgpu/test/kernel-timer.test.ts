/**
 * GPU time per kernel (`WebGpuBackend.timeKernels`, `GpuProgram.timeKernels`): one time per dispatch, in
 * encoding order, labelled with the program's kinds of kernel; the call computes what `run` computes; a
 * device without timestamps refuses with an error naming the feature.
 */
import { describe, expect, it } from 'vitest';
import * as core from '@tapestry/core';
import { deviceGet, devicePut, optimize, trace, type Tensor } from '@tapestry/core';
import { compileGraph, WebGpuBackend } from '@tapestry/webgpu';
import { backendOrSkip, mismatch, values } from './gpu-harness.js';

const backend = await backendOrSkip('kernel-timer');

describe.skipIf(backend === null)('kernel times from GPU timestamps', () => {
  const gpu = backend!;
  // a product, a fused group, a reduction and a concat: several kinds of kernel
  const f = (a: Tensor, b: Tensor): Tensor[] => {
    const p = core.matmul(a, b);
    const s = core.sum(p, [0]);
    return [core.concat([core.tanh(p), core.exp(a)], 1), s];
  };
  const a = values([6, 5], 1);
  const b = values([5, 7], 2);

  it('a program call: one time per dispatch, labelled by kind, and the results of run', async () => {
    const program = compileGraph(gpu, optimize(trace(f, a, b)));
    const inputs = [a, b].map((t) => gpu.upload(t.dataSync() as Float32Array));
    const want = await Promise.all(program.run(inputs).map((s) => gpu.read(s)));
    const before = { ...gpu.stats };
    const { results, times } = await program.timeKernels(inputs);
    expect(gpu.stats.dispatches - before.dispatches).toBe(program.dispatchesPerCall);
    expect(times).toHaveLength(program.dispatchesPerCall);
    const counts: Record<string, number> = {};
    for (const t of times) {
      expect(Number.isFinite(t.ms) && t.ms >= 0).toBe(true);
      counts[t.kernel] = (counts[t.kernel] ?? 0) + 1;
    }
    expect(counts).toEqual(program.dispatchesByKernel);
    // the timed call computed what run computes
    const got = await Promise.all(results.map((s) => gpu.read(s)));
    got.forEach((g, k) => expect(Array.from(g)).toEqual(Array.from(want[k]!)));
  });

  it('a fused kernel that sums an inlined product is labelled apart from plain fused kernels', async () => {
    const g = (a: Tensor, b: Tensor): Tensor[] => [core.tanh(core.matmul(a, b)), core.exp(a)];
    const program = compileGraph(gpu, optimize(trace(g, a, b)));
    expect(program.dispatchesByKernel).toEqual({ fused: 2 });
    const inputs = [a, b].map((t) => gpu.upload(t.dataSync() as Float32Array));
    const { times } = await program.timeKernels(inputs);
    expect(times.map((t) => t.kernel).sort()).toEqual(['fused', 'fused with product']);
  });

  it('eager ops, labelled as they are encoded', async () => {
    const [ga, gb] = devicePut([a, b], gpu);
    let product: Tensor | undefined;
    const times = await gpu.timeKernels((label) => {
      label('product');
      product = core.matmul(ga!, gb!);
      label('activation');
      product = core.tanh(product);
    });
    expect(times.map((t) => t.kernel)).toEqual(['product', 'activation']);
    expect(mismatch((await deviceGet(product!)).dataSync(), core.tanh(core.matmul(a, b)), 1e-5, 1e-6)).toBeNull();
    expect(await gpu.timeKernels(() => {})).toEqual([]);
  });

  it('a device without timestamps refuses, naming the feature', async () => {
    const adapter = await gpu.gpu.requestAdapter();
    const plain = new WebGpuBackend(await adapter!.requestDevice(), gpu.gpu);
    expect(plain.timestamps).toBe(false);
    await expect(plain.timeKernels(() => {})).rejects.toThrow(/timeKernels needs the adapter feature 'timestamp-query'/);
    plain.destroy();
  });
});
