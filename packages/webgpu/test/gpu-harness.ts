/**
 * The conformance harness: opens one device for a test file (in Node through the `webgpu` package, on Mesa's
 * llvmpipe where there is no GPU), runs one planned kernel over uploaded inputs, and compares with core's
 * CPU result. Where no adapter exists the GPU suites skip and print why.
 */
import { create } from 'webgpu';
import fc from 'fast-check';
import { cast, floor, randomKey, Tensor, uniform, type AttrsOf, type KernelName } from '@tapestry/core';
import { webgpuDevice, type MatmulTiles, type WebGpuBackend } from '@tapestry/webgpu';

/** The `GPU` object: kept in a module variable for the whole process, as Dawn's instance dies with it. */
let gpu: GPU | null = null;

/** A backend on the first adapter, or the reason there is none. */
export async function openBackend(compact?: boolean, matmulTiles?: MatmulTiles): Promise<WebGpuBackend | string> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  gpu ??= create([]) as GPU;
  const adapter = await gpu.requestAdapter();
  if (adapter === null) {
    return 'no WebGPU adapter (no GPU and no software Vulkan driver; .ci/install-gpu-drivers.sh installs Mesa llvmpipe)';
  }
  return webgpuDevice({ gpu, ...(compact === undefined ? {} : { compact }), ...(matmulTiles === undefined ? {} : { matmulTiles }) });
}

/** Opens the device once for a test file: a backend, or null after printing why the suite skips. */
export async function backendOrSkip(file: string): Promise<WebGpuBackend | null> {
  const b = await openBackend();
  if (typeof b === 'string') {
    // CI installs a software adapter and sets this: there, a missing adapter is a failure, not a skip
    if (process.env.TAPESTRY_REQUIRE_WEBGPU === '1') throw new Error(`${file}: TAPESTRY_REQUIRE_WEBGPU=1 but ${b}`);
    console.warn(`${file}: skipping the WebGPU suite: ${b}`);
    return null;
  }
  return b;
}

/** Runs primitive `op` on the GPU over CPU tensors `inputs`; `like` is the CPU result whose shape/dtype it must have. */
export async function runOnGpu<P extends KernelName>(
  backend: WebGpuBackend,
  op: P,
  inputs: readonly Tensor[],
  like: Tensor,
  attrs: AttrsOf<P>,
): Promise<Float32Array | Int32Array> {
  const storages = inputs.map((t) => backend.upload(t.dataSync()));
  const t0 = performance.now();
  const run = backend.plan(
    op,
    inputs.map((t) => ({ shape: t.shape, dtype: t.dtype })),
    { shape: like.shape, dtype: like.dtype },
    attrs,
  );
  const out = backend.allocate(like.dtype, like.size);
  run(storages, out);
  const t1 = performance.now();
  const data = await backend.read(out);
  if (process.env.GPU_TIMING) console.log(op, like.shape, (t1 - t0).toFixed(0), (performance.now() - t1).toFixed(0));
  for (const s of [...storages, out]) backend.release(s);
  return data;
}

/**
 * Asserts |gpu − cpu| ≤ atol + rtol·|cpu| elementwise, NaN where the CPU has NaN and equal infinities.
 * Returns a message naming the first failing element, or null.
 */
export function mismatch(gpuData: ArrayLike<number>, cpu: Tensor, rtol: number, atol: number): string | null {
  const want = cpu.dataSync();
  if (gpuData.length !== want.length) return `length ${gpuData.length} vs ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const g = gpuData[i]!;
    const c = want[i]!;
    if (Number.isNaN(c) ? !Number.isNaN(g) : !Number.isFinite(c) ? g !== c : !(Math.abs(g - c) <= atol + rtol * Math.abs(c))) {
      return `element ${i}: gpu ${g}, cpu ${c} (shape [${cpu.shape.join(', ')}])`;
    }
  }
  return null;
}

/** Runs per fast-check property: each new shape compiles new pipelines, which costs on a software rasteriser. */
export const RUNS = 6;

/** A tensor of `shape` with values uniform in [low, high) from `seed` (int32: their floor). */
export function values(shape: readonly number[], seed: number, low = -2, high = 2, dtype: 'float32' | 'int32' = 'float32'): Tensor {
  const u = uniform(randomKey(seed), [...shape], { low, high });
  return dtype === 'int32' ? cast(floor(u), 'int32') : u;
}

/** A shape of rank `minRank`…`maxRank` with sizes 1–`maxDim`. */
export function shapeArb(minRank = 0, maxRank = 3, maxDim = 5): fc.Arbitrary<number[]> {
  return fc.integer({ min: minRank, max: maxRank }).chain((rank) => fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: rank, maxLength: rank }));
}

/** A shape broadcast-compatible with `out`: some leading axes dropped and some of the rest set to 1. */
export function broadcastableTo(out: readonly number[]): fc.Arbitrary<number[]> {
  return fc
    .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
    .map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
}
