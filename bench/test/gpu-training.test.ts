/**
 * A small char model (2×16 LSTM) trains 50 steps on the GPU (llvmpipe in CI) with the whole step as one
 * compiled program, one submission per step: its loss falls, and its first 20 losses track the CPU's run of
 * the same step in float32. The tolerance (0.2% of the loss) covers summation order in matmuls and
 * reductions and the GPU's float32 transcendentals, compounded over 20 Adam steps.
 */
import { describe, expect, it } from 'vitest';
import { jit, type Tensor } from '@tapestry/core';
import { create } from 'webgpu';
import { webgpuDevice } from '@tapestry/webgpu';
import { charBatch, charTraining, patternText, type CharSizes } from '../src/gpu/char-step.js';
import { gpuTrainer } from '../src/gpu/gpu-training.js';

// kept for the whole process: Dawn's instance dies with it
process.env.XDG_RUNTIME_DIR ??= '/tmp';
const gpu = create([]) as GPU;
const adapter = await gpu.requestAdapter();
if (adapter === null) {
  // CI installs a software adapter and sets this: there, a missing adapter is a failure, not a skip
  if (process.env.TAPESTRY_REQUIRE_WEBGPU === '1') throw new Error('gpu-training: TAPESTRY_REQUIRE_WEBGPU=1 but no WebGPU adapter was found');
  console.warn('gpu-training: skipping: no WebGPU adapter (.ci/install-gpu-drivers.sh installs Mesa llvmpipe)');
}

const SIZES: CharSizes = { vocab: 10, embeddingDim: 8, hiddenSize: 16, numLayers: 2, batch: 4, steps: 8, lr: 1e-2, clip: 5 };

describe.skipIf(adapter === null)('char model training on the GPU', () => {
  // cold, llvmpipe compiles this program's ~120 pipelines in about a minute on a loaded 2-core machine
  it('trains 50 steps with the loss falling, one submission per step, tracking the CPU', { timeout: 300_000 }, async () => {
    const backend = await webgpuDevice({ gpu });
    const text = patternText(SIZES.vocab, 2000);
    const training = charTraining(SIZES, 3);
    const first = charBatch(SIZES, text, 0);
    const trainer = gpuTrainer(backend, training, first.ids, first.targets);

    const cpuStep = jit(training.step);
    let params = training.params;
    let optState = training.optState;
    const gpuLosses: number[] = [];
    const cpuLosses: number[] = [];
    for (let i = 0; i < 50; i++) {
      const { ids, targets } = charBatch(SIZES, text, i * 13);
      const submissions = backend.stats.submissions;
      const loss = trainer.step(ids, targets);
      expect(backend.stats.submissions - submissions).toBe(1);
      gpuLosses.push((await backend.read(loss))[0]!);
      if (i < 20) {
        const [value, p, s] = cpuStep(params, optState, ids, targets) as [Tensor, unknown, unknown];
        params = p;
        optState = s;
        cpuLosses.push(value.item());
      }
    }
    cpuLosses.forEach((c, i) => expect(Math.abs(gpuLosses[i]! - c), `step ${i}: gpu ${gpuLosses[i]}, cpu ${c}`).toBeLessThanOrEqual(2e-3 * c));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(gpuLosses.slice(-5))).toBeLessThan(0.6 * mean(gpuLosses.slice(0, 5)));
    console.log(`gpu-training: ${trainer.program.dispatchesPerCall} dispatches per step; loss ${gpuLosses[0]!.toFixed(3)} → ${gpuLosses[49]!.toFixed(3)}`);
    backend.destroy();
  });
});
