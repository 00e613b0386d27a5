/**
 * The backend through core: tensors placed with `devicePut` compute on the GPU eagerly, under `grad` and under
 * `jit` (one submission per call), and read back asynchronously; results match the CPU in float32 within the
 * summation-order and transcendental tolerances of the kernel suites.
 */
import { describe, expect, it } from 'vitest';
import * as core from '@tapestry/core';
import { deviceGet, devicePut, type Tensor } from '@tapestry/core';
import { compileGraph } from '@tapestry/webgpu';
import { backendOrSkip, mismatch, values } from './gpu-harness.js';

const backend = await backendOrSkip('core-backend');

describe.skipIf(backend === null)('webgpu as a core backend', () => {
  const gpu = backend!;
  const loss = (p: { w: Tensor; b: Tensor }, x: Tensor, y: Tensor) => core.mean(core.square(core.sub(core.tanh(core.add(core.matmul(x, p.w), p.b)), y)));
  const params = { w: values([5, 3], 1), b: values([3], 2) };
  const x = values([8, 5], 3);
  const y = values([8, 3], 4, -1, 1);

  it('eager ops on placed tensors run on the GPU and read back with await data()', async () => {
    const p = devicePut(params, gpu);
    expect(p.w.backend).toBe(gpu);
    const [gx, gy] = devicePut([x, y], gpu);
    const h = core.tanh(core.add(core.matmul(gx!, p.w), p.b));
    expect(h.backend).toBe(gpu);
    const want = core.tanh(core.add(core.matmul(x, params.w), params.b));
    expect(mismatch(await h.data(), want, 2e-6, 2e-6)).toBeNull();
    const back = await deviceGet({ h, s: core.sum(core.mul(h, gy!), [1]) });
    expect(back.h.backend).toBe(core.cpu);
    expect(mismatch(back.s.dataSync(), core.sum(core.mul(want, y), [1]), 1e-5, 1e-6)).toBeNull();
  });

  it('reading a GPU tensor synchronously throws, naming the async form; float64 cannot be placed', () => {
    const t = devicePut(values([2], 5), gpu);
    expect(() => t.toArray()).toThrow(/data\(\)/);
    expect(() => devicePut(core.tensor([1, 2], { dtype: 'float64' }), gpu)).toThrow(/float64/);
    expect(() => core.add(t, values([2], 6))).toThrow(/two backends/);
  });

  it('grad on the GPU matches the CPU', async () => {
    const gp = devicePut(params, gpu);
    const [gx, gy] = devicePut([x, y], gpu);
    const g = core.grad(loss)(gp, gx!, gy!);
    const want = core.grad(loss)(params, x, y);
    const got = await deviceGet(g);
    expect(mismatch(got.w.dataSync(), want.w, 1e-4, 1e-6)).toBeNull();
    expect(mismatch(got.b.dataSync(), want.b, 1e-4, 1e-6)).toBeNull();
  });

  it('jit on the GPU: one submission per call, results matching the CPU', async () => {
    const step = core.jit((p: { w: Tensor; b: Tensor }, xs: Tensor, ys: Tensor) => {
      const [value, g] = core.valueAndGrad(loss)(p, xs, ys);
      return { value, p: { w: core.sub(p.w, core.mul(g.w, 0.1)), b: core.sub(p.b, core.mul(g.b, 0.1)) } };
    });
    let gp = devicePut(params, gpu);
    const [gx, gy] = devicePut([x, y], gpu);
    let cp = params;
    const cpuStep = core.jit((p: { w: Tensor; b: Tensor }, xs: Tensor, ys: Tensor) => {
      const [value, g] = core.valueAndGrad(loss)(p, xs, ys);
      return { value, p: { w: core.sub(p.w, core.mul(g.w, 0.1)), b: core.sub(p.b, core.mul(g.b, 0.1)) } };
    });
    for (let i = 0; i < 3; i++) {
      const before = gpu.stats.submissions;
      const out = step(gp, gx!, gy!);
      expect(gpu.stats.submissions - before).toBe(1);
      gp = out.p;
      const c = cpuStep(cp, x, y);
      cp = c.p;
      expect(mismatch(await out.value.data(), c.value, 1e-4, 1e-7)).toBeNull();
    }
    expect(mismatch(await gp.w.data(), cp.w, 1e-4, 1e-6)).toBeNull();
  });

  it('jit and compileGraph keep the parameters of leakyRelu, elu and softplus, fused and alone', async () => {
    // a fused chain (elementwise after elementwise) and the same ops alone after a matmul (one kernel each)
    const f = (a: Tensor, w: Tensor) => {
      const fused = core.softplus(core.elu(core.leakyRelu(core.mul(a, 2), 0.3), 0.7), 2, 1.5);
      const m = core.matmul(a, w);
      return [fused, core.leakyRelu(m, 0.05), core.elu(m, 1.3), core.softplus(m, 0.5, 4)];
    };
    const a = values([4, 5], 7);
    const w = values([5, 3], 8);
    const want = f(a, w);
    const [ga, gw] = devicePut([a, w], gpu);
    const jitted = await deviceGet(core.jit(f)(ga!, gw!));
    const program = compileGraph(gpu, core.trace(f, a, w));
    const compiled = program.run([gpu.upload(a.dataSync() as Float32Array), gpu.upload(w.dataSync() as Float32Array)]);
    for (let i = 0; i < want.length; i++) {
      expect(mismatch(jitted[i]!.dataSync(), want[i]!, 1e-5, 1e-6)).toBeNull();
      expect(mismatch(await gpu.read(compiled[i]!), want[i]!, 1e-5, 1e-6)).toBeNull();
    }
  });

  it('a fused group over more inputs than a kernel may bind runs member by member, matching the CPU', async () => {
    // x0 + x1·x2 + x3·x4 + … over an odd number of inputs: one kernel would bind more buffers than the device allows
    const n = Math.max(21, gpu.maxBindings + 1) | 1;
    const xs = Array.from({ length: n }, (_, i) => values([3, 4], 100 + i));
    const instructions: core.FusedInstruction[] = [];
    let acc = 0; // operand of the running sum: input 0 first, then the last member
    for (let k = 1; k + 1 < n; k += 2) {
      instructions.push({ op: 'mul', attrs: undefined, dtype: 'float32', operands: [k, k + 1], stored: false });
      instructions.push({ op: 'add', attrs: undefined, dtype: 'float32', operands: [acc, -instructions.length], stored: k + 3 >= n });
      acc = -instructions.length;
    }
    const run = gpu.planFused({ instructions, inputs: xs.map((x) => ({ shape: x.shape, dtype: x.dtype })), shape: [3, 4] });
    const out = gpu.allocate('float32', 12);
    run(
      xs.map((x) => gpu.fromHost(x.dataSync())),
      [out],
    );
    let want = xs[0]!;
    for (let k = 1; k + 1 < n; k += 2) want = core.add(want, core.mul(xs[k]!, xs[k + 1]!));
    expect(mismatch(await gpu.read(out), want, 1e-6, 1e-6)).toBeNull();
  });
});
