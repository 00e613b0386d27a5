/**
 * core's `jit` on this backend runs the graph through the package's own compiler (`GpuProgram`, through
 * `Backend.compileGraph`): the dispatches of a call are the program's (layout ops folded into kernels, not
 * core's one kernel per node), every call is one submission, results are storage the caller keeps (a later
 * call does not overwrite them), and donated arguments are recycled as results.
 */
import { describe, expect, it } from 'vitest';
import * as core from '@tapestry/core';
import { deviceGet, devicePut, type Tensor } from '@tapestry/core';
import { compileGraph } from '@tapestry/webgpu';
import { backendOrSkip, mismatch, values } from './gpu-harness.js';

const backend = await backendOrSkip('jit-program');

describe.skipIf(backend === null)('jit on webgpu runs the package compiler', () => {
  const gpu = backend!;
  // a step whose slices and transposes core would dispatch one by one: the program reads them through views
  const step = (w: Tensor, x: Tensor) => {
    const h = core.matmul(x, w);
    const gates = [0, 1, 2].map((k) => core.slice(h, [0, 4 * k], [6, 4]));
    const c = core.mul(core.sigmoid(gates[0]!), core.tanh(gates[1]!));
    const out = core.add(c, core.transpose(core.slice(h, [2, 6], [4, 6]), [1, 0]));
    return { w: core.sub(w, core.mul(core.sum(out), 1e-3)), out };
  };
  const w = values([5, 12], 1);
  const x = values([6, 5], 2);

  it('a call dispatches what GpuProgram plans, in one submission, and matches the CPU', async () => {
    const jitted = core.jit(step);
    const [gw, gx] = devicePut([w, x], gpu);
    jitted(gw!, gx!); // compiles
    const program = compileGraph(gpu, jitted.lower(gw!, gx!));
    const unfolded = compileGraph(gpu, jitted.lower(gw!, gx!), { foldLayout: false });
    expect(program.dispatchesPerCall).toBeLessThan(unfolded.dispatchesPerCall);
    const before = { ...gpu.stats };
    const result = jitted(gw!, gx!);
    expect(gpu.stats.submissions - before.submissions).toBe(1);
    expect(gpu.stats.dispatches - before.dispatches).toBe(program.dispatchesPerCall);
    const want = step(w, x);
    const got = await deviceGet(result);
    expect(mismatch(got.out.dataSync(), want.out, 1e-5, 1e-6)).toBeNull();
    expect(mismatch(got.w.dataSync(), want.w, 1e-5, 1e-6)).toBeNull();
  });

  it("results are the caller's: a later call leaves them as they were", async () => {
    const jitted = core.jit(step);
    const [gw, gx] = devicePut([w, x], gpu);
    const first = jitted(gw!, gx!);
    const firstOut = Float32Array.from(await first.out.data());
    const second = jitted(first.w, gx!);
    const third = jitted(second.w, gx!);
    await third.out.data();
    expect(Array.from(await first.out.data())).toEqual(Array.from(firstOut));
    expect(first.out.storage).not.toBe(second.out.storage);
  });

  it('donated arguments are recycled as results, and the values stay those of a run without donation', async () => {
    const plain = core.jit(step);
    const donating = core.jit(step, { donate: [0] });
    const [gx] = devicePut([x], gpu);
    let a = devicePut(w, gpu);
    let b = devicePut(w, gpu);
    const seen = new Set<unknown>();
    for (let i = 0; i < 4; i++) {
      a = plain(a, gx!).w;
      b = donating(b, gx!).w;
      seen.add(b.storage);
    }
    // two buffers take turns: the argument's and the result's
    expect(seen.size).toBeLessThanOrEqual(2);
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
  });
});
