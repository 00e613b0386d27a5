/**
 * Optimisers on a GPU (Mesa llvmpipe through the `webgpu` package where there is no GPU): `init` puts the
 * counts where the params are, and a jitted step — clipping, Adam's bias corrections, a scheduled learning
 * rate, the finite guard — runs on the device alone, in float32 (WGSL has no f64: the scalars the CPU
 * computes in float64 are float32 there), as one submission per call, tracking the CPU's float32 numbers.
 * Skips where no adapter exists, unless TAPESTRY_REQUIRE_WEBGPU=1.
 */
import { cpu, deviceGet, devicePut, jit, scalar, tensor, treeLeaves, type Tensor } from '@tapestry/core';
import { webgpuDevice, type WebGpuBackend } from '@tapestry/webgpu';
import { create } from 'webgpu';
import { afterAll, describe, expect, it } from 'vitest';
import {
  adagrad,
  adam,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  cosineDecay,
  guardFinite,
  joinSchedules,
  linearWarmup,
  scheduleDtype,
  sgd,
  type GradientTransformation,
} from '@tapestry/optim';

// kept for the whole process: Dawn's instance dies with it
process.env.XDG_RUNTIME_DIR ??= '/tmp';
const gpu = create([]) as GPU;
const adapter = await gpu.requestAdapter();
if (adapter === null) {
  // CI installs a software adapter and sets this: there, a missing adapter is a failure, not a skip
  if (process.env.TAPESTRY_REQUIRE_WEBGPU === '1') throw new Error('optim webgpu: TAPESTRY_REQUIRE_WEBGPU=1 but no WebGPU adapter was found');
  console.warn('optim webgpu: skipping: no WebGPU adapter (.ci/install-gpu-drivers.sh installs Mesa llvmpipe)');
}
const device: WebGpuBackend | null = adapter === null ? null : await webgpuDevice({ gpu });
afterAll(() => device?.destroy());

type Params = { w: Tensor; b: Tensor };
const params = (): Params => ({
  w: tensor([
    [0.5, -1],
    [0.25, 2],
    [-1.5, 0.75],
  ]),
  b: tensor([0.1, -0.2]),
});
/** Gradients of step k: varied signs and magnitudes, a NaN at step `nanAt`. */
function gradsAt(k: number, nanAt = -1): Params {
  const w = [
    [1, -2],
    [0.5, 3],
    [-4, 0.25],
  ].map((row, i) => row.map((v, j) => v * Math.cos(k + i - j) * (k + 1)));
  if (k === nanAt) w[1]![0] = Number.NaN;
  return { w: tensor(w), b: tensor([Math.sin(k), -2 * Math.cos(k)]) };
}

const stepOf = (opt: GradientTransformation<any>) => (p: Params, state: unknown, grads: Params) => {
  const { updates, state: next } = opt.update(grads, state, p);
  return { params: applyUpdates(p, updates), state: next };
};

const warmCosine = () =>
  joinSchedules([linearWarmup({ initValue: 1e-3, peakValue: 5e-2, warmupSteps: 2 }), cosineDecay({ initValue: 5e-2, decaySteps: 4 })], [2]);
/**
 * Each case with the sum of the learning rates its 6 steps use: Adam moves a parameter by about lr per step,
 * and its float32 bias correction 1 − β2^t cancels (float32's 2^-24 over 1 − β2 = 1e-3: ~6e-5 relative), so
 * the GPU may differ from the CPU (float64 scalars) by up to ~6e-5 of the distance travelled.
 */
const optimizers: [string, () => GradientTransformation<any>, number, number][] = [
  ['adam', () => adam({ lr: 1e-2 }), -1, 0.06],
  ['clipByGlobalNorm + adam, warm-up joined to a cosine decay', () => chain(clipByGlobalNorm(1), adam({ lr: warmCosine() })), -1, 0.16],
  ['guardFinite(adam), NaN at step 2', () => guardFinite(adam({ lr: 1e-2 })), 2, 0.05],
  ['sgd with momentum', () => sgd({ lr: 0.05, momentum: 0.9 }), -1, 0.3],
  ['adagrad with lr decay', () => adagrad({ lr: 0.1, lrDecay: 0.05 }), -1, 0.55],
];

describe.skipIf(device === null)('optimisers on WebGPU', () => {
  const gpuDevice = device!;

  it('init puts every state tensor (counts included) on the params device', () => {
    const state = guardFinite(chain(clipByGlobalNorm(1), adam())).init(devicePut(params(), gpuDevice));
    const leaves = treeLeaves(state) as Tensor[];
    expect(leaves.length).toBeGreaterThan(0);
    for (const leaf of leaves) expect(leaf.backend).toBe(gpuDevice);
    for (const leaf of treeLeaves(adam().init(params())) as Tensor[]) expect(leaf.backend).toBe(cpu);
  });

  it('schedules compute in float32 on the GPU, float64 on the CPU', async () => {
    expect(scheduleDtype()).toBe('float64');
    expect(scheduleDtype(gpuDevice)).toBe('float32');
    const lr = warmCosine()(devicePut(scalar(3, 'int32'), gpuDevice));
    expect(lr.dtype).toBe('float32');
    expect(lr.backend).toBe(gpuDevice);
    const want = warmCosine()(scalar(3, 'int32')).item();
    expect(Math.abs((await lr.data())[0]! - want)).toBeLessThanOrEqual(1e-7 * want);
  });

  it.each(optimizers)('%s: 6 jitted steps on the GPU, one submission each, tracking the CPU', async (_name, make, nanAt, lrSum) => {
    const opt = make();
    const gpuStep = jit(stepOf(opt));
    const cpuStep = jit(stepOf(opt));
    let g = devicePut({ params: params(), state: opt.init(params()) as unknown }, gpuDevice);
    let c = { params: params(), state: opt.init(params()) as unknown };
    for (let k = 0; k < 6; k++) {
      const grads = gradsAt(k, nanAt);
      const before = gpuDevice.stats.submissions;
      g = gpuStep(g.params, g.state, devicePut(grads, gpuDevice));
      expect(gpuDevice.stats.submissions - before, `submissions at step ${k}`).toBe(1);
      c = cpuStep(c.params, c.state, grads);
    }
    expect(gpuStep.cacheSize).toBe(1);
    for (const leaf of treeLeaves(g) as Tensor[]) expect(leaf.backend).toBe(gpuDevice);
    const back = await deviceGet(g);
    const want = treeLeaves(c) as Tensor[];
    (treeLeaves(back) as Tensor[]).forEach((leaf, i) => {
      const w = want[i]!;
      expect(leaf.dtype).toBe(w.dtype);
      const got = Array.from(leaf.dataSync());
      const exp = Array.from(w.dataSync());
      // counts exactly; float32 values within the float32 scalars' error over the distance travelled (see above)
      if (w.dtype === 'int32') expect(got).toEqual(exp);
      else
        got.forEach((v, j) =>
          expect(Math.abs(v - exp[j]!), `leaf ${i}[${j}]: gpu ${v}, cpu ${exp[j]}`).toBeLessThanOrEqual(1e-5 * Math.abs(exp[j]!) + 6e-5 * lrSum),
        );
    });
    // the parameters moved
    expect(back.params.w.toArray()).not.toEqual(params().w.toArray());
  });
});
