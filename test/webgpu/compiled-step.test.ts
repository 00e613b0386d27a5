/**
 * Gradient accumulation on the GPU, and a whole recurrent training step compiled into one program: the
 * engine's in-place adds (dense, a slice's block, a gather's scatter-add) are the CPU's bit for bit (each
 * element gets the same additions in the same order); a compiled char-RNN step (embedding, 2-layer LSTM,
 * linear head, clipByGlobalNorm + Adam, T = 64 as in W7) is one submission with a bounded dispatch count, and
 * what the program does to save dispatches (layout ops as views, producers computed in their readers' kernels,
 * concat parts written in place, batched short sums, the recurrent products summed in the gate kernels of an
 * LSTM, a GRU and a tanh RNN) changes the count, not one bit of the results.
 */
import { describe, expect, it } from 'vitest';
import * as core from '@tapestry/core';
import { deviceGet, devicePut, optimize, reshape, randomKey, splitKey, tensor, trace, treeLeaves, valueAndGrad, Tensor } from '@tapestry/core';
import { crossEntropy, embedding, gru, linear, lstm, rnn as vanillaRnn } from '@tapestry/layers';
import { adam, applyUpdates, chain, clipByGlobalNorm } from '@tapestry/optim';
import { compileGraph, type GpuProgram, type GpuStorage } from '@tapestry/webgpu';
import { backendOrSkip, mismatch, values } from '../../packages/webgpu/test/gpu-harness.js';

const backend = await backendOrSkip('compiled-step');

describe.skipIf(backend === null)('webgpu gradient accumulation', () => {
  const gpu = backend!;

  it('accumulate adds in place, bit for bit the CPU sum', async () => {
    const acc = values([7, 5], 1);
    const ct = values([7, 5], 2);
    const a = gpu.upload(acc.dataSync() as Float32Array);
    const before = { ...gpu.stats };
    expect(gpu.accumulate(a, gpu.upload(ct.dataSync() as Float32Array), 'float32', 35)).toBe(true);
    expect(gpu.stats.dispatches - before.dispatches).toBe(1);
    expect(gpu.stats.reads - before.reads).toBe(0);
    expect(mismatch(await gpu.read(a), core.add(acc, ct), 0, 0)).toBeNull();
  });

  it("accumulateSparse adds a slice's block and scatter-adds gathered rows (repeated indices) in place, exactly", async () => {
    const x = values([4, 6, 3], 3);
    const acc = values([4, 6, 3], 4);
    const ct = values([2, 3, 3], 5);
    const a = gpu.upload(acc.dataSync() as Float32Array);
    const attrs = { begin: [1, 2, 0], size: [2, 3, 3] };
    expect(gpu.accumulateSparse('slice', a, gpu.upload(ct.dataSync() as Float32Array), [x], [], attrs)).toBe(true);
    // the CPU backend's own in-place paths are the reference (the same additions in the same order)
    const cpuSlice = acc.dataSync().slice();
    core.cpu.accumulateSparse!('slice', cpuSlice, ct.dataSync(), [x], [], attrs);
    expect(mismatch(await gpu.read(a), new Tensor(cpuSlice, [4, 6, 3], 'float32'), 0, 0)).toBeNull();
    // the block changed, the rest did not
    expect(Array.from(cpuSlice)).not.toEqual(Array.from(acc.dataSync()));

    const idx = tensor(Int32Array.of(5, 0, 5, 2, 5), { shape: [5] });
    const gct = values([4, 5, 3], 6);
    const b = gpu.upload(acc.dataSync() as Float32Array);
    const xs = { shape: [4, 6, 3], dtype: 'float32' } as const;
    const before = gpu.stats.reads;
    gpu.accumulateSparse('gather', b, gpu.upload(gct.dataSync() as Float32Array), [xs, idx], [null, gpu.upload(idx.dataSync() as Int32Array)], { axis: 1 });
    expect(gpu.stats.reads - before).toBe(0);
    const cpuAcc = acc.dataSync().slice();
    core.cpu.accumulateSparse!('gather', cpuAcc, gct.dataSync(), [xs, idx], [null, idx.dataSync()], { axis: 1 });
    expect(mismatch(await gpu.read(b), new Tensor(cpuAcc, [4, 6, 3], 'float32'), 0, 0)).toBeNull();
  });

  it("grad of an embedding and a time slice on the GPU (the engine's in-place path) matches the CPU", async () => {
    const table = values([9, 4], 7);
    const ids = tensor(Int32Array.of(1, 3, 1, 8, 0, 3), { shape: [6] });
    const f = (w: Tensor, i: Tensor) => {
      const rows = core.gather(w, i, 0);
      return core.sum(core.mul(core.tanh(core.slice(rows, [1, 0], [4, 4])), core.slice(rows, [0, 0], [4, 4])));
    };
    const want = core.grad(f)(table, ids);
    const [gw, gi] = devicePut([table, ids], gpu);
    // the engine takes the in-place path (slices and the gather add into the table's cotangent on the GPU)
    const sparse = gpu.accumulateSparse.bind(gpu);
    let calls = 0;
    gpu.accumulateSparse = ((...a: Parameters<typeof sparse>) => (calls++, sparse(...a))) as typeof sparse;
    const before = gpu.stats.reads;
    const g = core.grad(f)(gw!, gi!);
    gpu.accumulateSparse = sparse;
    expect(calls).toBeGreaterThan(0);
    expect(gpu.stats.reads - before).toBe(0);
    const got = await deviceGet(g);
    expect(mismatch(got.dataSync(), want, 1e-6, 1e-6)).toBeNull();
  });
});

/** The char-RNN step of W7 at small widths (T = 64 and two layers, so the same kernels per step as W7); `cell` swaps the LSTM. */
function charStep(vocab: number, dim: number, hidden: number, batch: number, steps: number, cell: 'lstm' | 'gru' | 'rnn' = 'lstm') {
  const embed = embedding({ numEmbeddings: vocab, embeddingDim: dim });
  const layer = { inputSize: dim, hiddenSize: hidden, numLayers: 2 };
  const rnn = cell === 'lstm' ? lstm(layer) : cell === 'gru' ? gru(layer) : vanillaRnn({ ...layer, nonlinearity: 'tanh' });
  const head = linear({ inFeatures: hidden, outFeatures: vocab });
  const optimizer = chain(clipByGlobalNorm(5), adam({ lr: 2e-3 }));
  const keys = splitKey(randomKey(0), 3);
  const params = { embed: embed.init(keys[0]!), rnn: rnn.init(keys[1]!), head: head.init(keys[2]!) };
  type P = typeof params;
  const loss = (p: P, ids: Tensor, targets: Tensor) => {
    const { output } = rnn.apply(p.rnn, embed.apply(p.embed, ids));
    return crossEntropy(reshape(head.apply(p.head, output), [batch * steps, vocab]), reshape(targets, [batch * steps]));
  };
  const lossAndGrad = valueAndGrad(loss);
  const step = (p: P, s: unknown, ids: Tensor, targets: Tensor): [Tensor, P, unknown] => {
    const [value, grads] = lossAndGrad(p, ids, targets) as [Tensor, P];
    const { updates, state } = optimizer.update(grads, s as never, p);
    return [value, applyUpdates(p, updates), state];
  };
  const ids = tensor(
    Int32Array.from({ length: batch * steps }, (_, i) => (i * 7 + (i >> 3)) % vocab),
    { shape: [batch, steps] },
  );
  const targets = tensor(
    Int32Array.from({ length: batch * steps }, (_, i) => (i * 7 + 3) % vocab),
    { shape: [batch, steps] },
  );
  return { step, params, optState: optimizer.init(params), ids, targets };
}

/**
 * The bound the compiled W7 step must meet: per layer and time step two kernels (forward: one kernel summing
 * the product by W_hh and doing the gate math; backward: one kernel for the gate gradients, written straight
 * into their concat, that also sums the next step's product back through W_hh), 2 · 64 · 2 = 256; plus at
 * most 188 for the rest of the step (embedding, head, loss, the weight-gradient products, the time-major
 * concats, the batched bias-gradient sums, clipping, Adam). On llvmpipe (8 bindings a kernel) it is 394.
 */
const W7_DISPATCH_BOUND = 2 * 64 * 2 + 188;

describe.skipIf(backend === null)('a compiled char-RNN training step on the GPU', () => {
  const gpu = backend!;
  const upload = (t: Tensor) => gpu.upload(t.dataSync() as Float32Array | Int32Array);

  /** Runs `program` for three steps from the model's start; returns the losses and the final state, read back. */
  const train = async (program: GpuProgram, m: ReturnType<typeof charStep>): Promise<(Float32Array | Int32Array)[]> => {
    let state: GpuStorage[] = treeLeaves([m.params, m.optState])
      .filter((l): l is Tensor => l instanceof Tensor)
      .map(upload);
    const losses: number[] = [];
    for (let s = 0; s < 3; s++) {
      const before = { ...gpu.stats };
      const [loss, ...next] = program.run([...state, upload(m.ids), upload(m.targets)]);
      // one submission, exactly the planned dispatches, nothing read back
      expect(gpu.stats.submissions - before.submissions).toBe(1);
      expect(gpu.stats.dispatches - before.dispatches).toBe(program.dispatchesPerCall);
      expect(gpu.stats.reads - before.reads).toBe(0);
      state = next;
      losses.push((await gpu.read(loss!))[0]!);
    }
    return [Float32Array.from(losses), ...(await Promise.all(state.map((s) => gpu.read(s))))];
  };

  it("folding layout ops into kernels changes the dispatch count, not one bit of three steps' results", async () => {
    const m = charStep(7, 4, 8, 2, 6);
    const graph = optimize(trace(m.step, m.params, m.optState, m.ids, m.targets));
    const folded = compileGraph(gpu, graph, { float64: 'float32' });
    const plain = compileGraph(gpu, graph, { float64: 'float32', foldLayout: false });
    expect(folded.dispatchesPerCall).toBeLessThan(plain.dispatchesPerCall);
    const a = await train(folded, m);
    const b = await train(plain, m);
    expect(a.length).toBe(b.length);
    a.forEach((x, k) => expect(Array.from(x)).toEqual(Array.from(b[k]!)));
  });

  it.each(['lstm', 'gru', 'rnn'] as const)(
    "%s: summing the recurrent products in the gate kernels saves their dispatches, and not one bit of three steps' results",
    async (cell) => {
      const steps = 6;
      const m = charStep(7, 4, 8, 2, steps, cell);
      const graph = optimize(trace(m.step, m.params, m.optState, m.ids, m.targets));
      const inlined = compileGraph(gpu, graph, { float64: 'float32' });
      const kernels = compileGraph(gpu, graph, { float64: 'float32', inlineMatmul: false });
      // per layer: the forward products h·W_hhᵀ of all T steps and the backward ones dG·W_hh of the last T − 1
      // (the first step's would be the gradient of the zero initial state, which nothing reads)
      expect(kernels.dispatchesByKernel.matmul! - (inlined.dispatchesByKernel.matmul ?? 0)).toBe(2 * (2 * steps - 1));
      // fewer dispatches in all (a gate kernel that now binds W_hh and h too may split where a device allows
      // few buffers a kernel: llvmpipe's 8 split some of the GRU's)
      expect(inlined.dispatchesPerCall).toBeLessThan(kernels.dispatchesPerCall);
      const a = await train(inlined, m);
      const b = await train(kernels, m);
      a.forEach((x, k) => expect(Array.from(x)).toEqual(Array.from(b[k]!)));
    },
    120_000,
  );

  it("at W7's length (T = 64, two layers) is one submission per step within the dispatch bound, and trains as on the CPU", async () => {
    const m = charStep(7, 4, 8, 2, 64);
    const program = compileGraph(gpu, optimize(trace(m.step, m.params, m.optState, m.ids, m.targets)), { float64: 'float32' });
    expect(program.dispatchesPerCall).toBeLessThanOrEqual(W7_DISPATCH_BOUND);
    // no layout op is a kernel; the 128 per-step bias-gradient sums are batched; the 256 recurrent products
    // are summed in the gate kernels, leaving the embedding's, the head's and the weight gradients' products
    const by = program.dispatchesByKernel;
    expect([by.slice, by.reshape, by.broadcastTo]).toEqual([undefined, undefined, undefined]);
    expect(by.matmul!).toBeLessThan(16);
    expect(by.sum!).toBeLessThan((2 * 64) / 2);
    const [losses] = await train(program, m);
    // against the CPU (float32, with Adam's bookkeeping in float64 there): the loss of three steps, within
    // float32 summation-order error (relative 1e-4 is hundreds of ulps of slack for sums of 128 terms)
    let p = m.params as unknown;
    let s = m.optState as unknown;
    for (let k = 0; k < 3; k++) {
      const [loss, np, ns] = m.step(p as typeof m.params, s, m.ids, m.targets);
      expect(Math.abs(losses![k]! - loss.item())).toBeLessThanOrEqual(1e-4 * Math.abs(loss.item()));
      p = np;
      s = ns;
    }
    // the losses fall: three steps of Adam on a fixed batch
    expect(losses![2]!).toBeLessThan(losses![0]!);
  }, 300_000);
});
