/**
 * W1 (the bench's LSTM training step: one-hot inputs, one LSTM layer, a linear head, mean cross-entropy,
 * Adam) trained by @tapestry/webgpu inside headless Chromium, on its WebGPU adapter (SwiftShader where there
 * is no GPU): `navigator.gpu` in, the whole step compiled into one submission, the losses the CPU's.
 */
import { describe, expect, it } from 'vitest';
import { oneHot, optimize, randomKey, reshape, splitKey, tensor, trace, treeLeaves, valueAndGrad, Tensor } from '@tapestry/core';
import { crossEntropy, linear, lstm } from '@tapestry/layers';
import { adam, applyUpdates } from '@tapestry/optim';
import { compileGraph, webgpuDevice, type GpuStorage } from '@tapestry/webgpu';

const V = 5;
const H = 8;
const N = 3;
const T = 6;

/** W1's model at small sizes: `step(params, state, x, targets) → [loss, params, state]`. */
function w1() {
  const rnn = lstm({ inputSize: V, hiddenSize: H });
  const head = linear({ inFeatures: H, outFeatures: V });
  const optimizer = adam({ lr: 1e-2 });
  const keys = splitKey(randomKey(0), 2);
  const params = { rnn: rnn.init(keys[0]!), head: head.init(keys[1]!) };
  type P = typeof params;
  const loss = (p: P, x: Tensor, targets: Tensor) => crossEntropy(reshape(head.apply(p.head, rnn.apply(p.rnn, x).output), [N * T, V]), targets);
  const lossAndGrad = valueAndGrad(loss);
  const step = (p: P, s: unknown, x: Tensor, targets: Tensor): [Tensor, P, unknown] => {
    const [value, grads] = lossAndGrad(p, x, targets) as [Tensor, P];
    const { updates, state } = optimizer.update(grads, s as never, p);
    return [value, applyUpdates(p, updates), state];
  };
  // a delayed copy: the target at t is the input at t − 1
  const ids = Int32Array.from({ length: N * T }, (_, i) => (i * 3 + (i >> 2)) % V);
  const targets = ids.map((_, i) => (i % T === 0 ? 0 : ids[i - 1]!));
  return {
    step,
    params,
    optState: optimizer.init(params),
    x: oneHot(tensor(ids, { shape: [N, T] }), V, 'float32'),
    targets: tensor(targets, { shape: [N * T] }),
  };
}

describe('@tapestry/webgpu in Chromium', () => {
  it("trains W1 on navigator.gpu: one submission per step, the CPU's losses", async () => {
    const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
    expect(gpu, 'navigator.gpu (Chromium needs --enable-unsafe-webgpu)').toBeDefined();
    const backend = await webgpuDevice({ gpu: gpu! });
    const m = w1();
    const program = compileGraph(backend, optimize(trace(m.step, m.params, m.optState, m.x, m.targets)), { float64: 'float32' });
    const upload = (t: Tensor) => backend.upload(t.dataSync() as Float32Array | Int32Array);
    let state: GpuStorage[] = treeLeaves([m.params, m.optState])
      .filter((l): l is Tensor => l instanceof Tensor)
      .map(upload);
    const batch = [upload(m.x), upload(m.targets)];
    let p = m.params as unknown;
    let s = m.optState as unknown;
    const losses: number[] = [];
    for (let k = 0; k < 5; k++) {
      const before = backend.stats.submissions;
      const [loss, ...next] = program.run([...state, ...batch]);
      expect(backend.stats.submissions - before).toBe(1);
      state = next;
      const got = (await backend.read(loss!))[0]!;
      const [want, np, ns] = m.step(p as typeof m.params, s, m.x, m.targets);
      // float32 on both sides; sums in another order on the GPU (relative 1e-4: hundreds of ulps of slack)
      expect(Math.abs(got - want.item())).toBeLessThanOrEqual(1e-4 * Math.abs(want.item()));
      losses.push(got);
      p = np;
      s = ns;
    }
    expect(losses[4]!).toBeLessThan(losses[0]!);
    backend.destroy();
  });
});
