/**
 * char-rnn on WebGPU (Mesa's llvmpipe through the `webgpu` package where there is no GPU): a small LSTM
 * trains 50 steps with the whole step as one submission and its loss falls; a checkpoint written from the
 * GPU resumes on the CPU and one written on the CPU resumes on the GPU, with the saved parameters bit for
 * bit and the next steps' losses tracking each other; dropout draws the CPU's masks; and the GPU evaluates
 * and samples as the CPU does. Skips where no adapter exists, unless TAPESTRY_REQUIRE_WEBGPU=1 (CI installs
 * llvmpipe and sets it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpu, deviceGet, randomKey, treeLeaves, type Backend, type Tensor } from '@tapestry/core';
import { webgpuDevice, type WebGpuBackend } from '@tapestry/webgpu';
import { create } from 'webgpu';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint.js';
import { prepareCorpus, readText } from '../src/corpus.js';
import { bitsPerCharacter } from '../src/evaluate.js';
import { placeState, stateOnHost, threadsFor } from '../src/device.js';
import { sampleText } from '../src/generate-text.js';
import { DEFAULT_CONFIG, initialTrainingState, makeModel, makeOptimizer, trainLoop, type TrainConfig, type TrainingState } from '../src/training.js';

// kept for the whole process: Dawn's instance dies with it
process.env.XDG_RUNTIME_DIR ??= '/tmp';
const gpu = create([]) as GPU;
const adapter = await gpu.requestAdapter();
if (adapter === null) {
  if (process.env.TAPESTRY_REQUIRE_WEBGPU === '1') throw new Error('char-rnn webgpu: TAPESTRY_REQUIRE_WEBGPU=1 but no WebGPU adapter was found');
  console.warn('char-rnn webgpu: skipping: no WebGPU adapter (.ci/install-gpu-drivers.sh installs Mesa llvmpipe)');
}
const device: WebGpuBackend | null = adapter === null ? null : await webgpuDevice({ gpu });

const { text, source } = readText(undefined, 30_000);
const corpus = prepareCorpus(text, source);
const config: TrainConfig = { ...DEFAULT_CONFIG, hiddenSize: 32, numLayers: 1, embeddingDim: 16, batchSize: 8, seqLen: 16, lr: 1e-2, warmupSteps: 5 };
const model = makeModel(config, corpus.vocab.size);
const optimizer = makeOptimizer(config);
const dirs: string[] = [];
afterAll(() => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  device?.destroy();
});

async function train(start: TrainingState, steps: number, on: Backend = device!) {
  const seen: number[] = [];
  const end = await trainLoop(config, corpus, model, start, { maxSteps: start.step + steps, device: on, onStep: (_s, l) => seen.push(l) });
  return { seen, end };
}

/** Every parameter and optimiser-state value, read back to the host. */
async function values(state: TrainingState): Promise<number[][]> {
  return treeLeaves<Tensor>(await deviceGet([state.params, state.optState])).map((t) => Array.from(t.dataSync()));
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('--threads with --device', () => {
  it('defaults to 2 on the CPU and 1 on the GPU, and refuses several threads with the GPU', () => {
    expect(threadsFor('cpu', undefined)).toBe(2);
    expect(threadsFor('cpu', 3)).toBe(3);
    expect(threadsFor('webgpu', undefined)).toBe(1);
    expect(threadsFor('webgpu', 1)).toBe(1);
    expect(() => threadsFor('webgpu', 2)).toThrow(/--threads 2 applies to --device cpu only/);
  });
});

describe.skipIf(device === null)('char-rnn on WebGPU', () => {
  let trained: TrainingState;

  // cold, llvmpipe compiles the step's pipelines first (tens of seconds on a loaded 2-core machine)
  it('trains 50 steps on the GPU, one submission per step, with the loss falling', { timeout: 300_000 }, async () => {
    const start = initialTrainingState(config, model, optimizer, device!);
    for (const leaf of treeLeaves<Tensor>([start.params, start.optState])) expect(leaf.backend).toBe(device);
    const before = device!.stats.submissions;
    const { seen, end } = await train(start, 50);
    expect(device!.stats.submissions - before).toBe(50);
    expect(seen).toHaveLength(50);
    expect(end.step).toBe(50);
    expect(end.history.train).toHaveLength(5);
    // the first steps sit near the uniform model's loss, ln(vocabulary); 50 steps learn the character frequencies and more
    expect(mean(seen.slice(0, 5))).toBeGreaterThan(Math.log(corpus.vocab.size) - 0.5);
    expect(mean(seen.slice(-5))).toBeLessThan(mean(seen.slice(0, 5)) - 0.8);
    for (const leaf of treeLeaves<Tensor>([end.params, end.optState, end.carry])) expect(leaf.backend).toBe(device);
    console.log(`char-rnn webgpu: mean loss of the first 5 steps ${mean(seen.slice(0, 5)).toFixed(3)}, of the last 5 ${mean(seen.slice(-5)).toFixed(3)} nats`);
    trained = end;
  });

  it('a checkpoint written from the GPU resumes on the CPU, and the reverse, with the same parameters', { timeout: 300_000 }, async () => {
    const fromGpu = mkdtempSync(join(tmpdir(), 'char-rnn-gpu-'));
    dirs.push(fromGpu);
    const host = await stateOnHost(trained);
    saveCheckpoint(fromGpu, config, corpus.vocab, model, host);
    const onCpu = loadCheckpoint(fromGpu, model, optimizer);
    for (const leaf of treeLeaves<Tensor>([onCpu.params, onCpu.optState, onCpu.carry])) expect(leaf.backend).toBe(cpu);
    expect(await values(onCpu)).toEqual(await values(trained));
    expect(onCpu.step).toBe(50);
    // 3 more steps on each device from the checkpoint: the same run, within float32's summation order
    const cpuNext = await train(onCpu, 3, cpu);
    const gpuNext = await train(placeState(loadCheckpoint(fromGpu, model, optimizer), device!), 3);
    gpuNext.seen.forEach((l, i) =>
      expect(Math.abs(l - cpuNext.seen[i]!), `step ${50 + i}: gpu ${l}, cpu ${cpuNext.seen[i]}`).toBeLessThan(1e-4 * cpuNext.seen[i]!),
    );

    const fromCpu = mkdtempSync(join(tmpdir(), 'char-rnn-cpu-'));
    dirs.push(fromCpu);
    saveCheckpoint(fromCpu, config, corpus.vocab, model, cpuNext.end);
    const onGpu = placeState(loadCheckpoint(fromCpu, model, optimizer), device!);
    for (const leaf of treeLeaves<Tensor>([onGpu.params, onGpu.optState, onGpu.carry])) expect(leaf.backend).toBe(device);
    expect(await values(onGpu)).toEqual(await values(cpuNext.end));
    const resumed = await train(onGpu, 2);
    expect(resumed.end.step).toBe(55);
    const cpuThen = await train(cpuNext.end, 2, cpu);
    resumed.seen.forEach((l, i) => expect(Math.abs(l - cpuThen.seen[i]!)).toBeLessThan(1e-4 * cpuThen.seen[i]!));
  });

  it("with dropout between two layers, the GPU draws the CPU's masks: the losses track the CPU's", { timeout: 300_000 }, async () => {
    const dropped: TrainConfig = { ...config, numLayers: 2, dropout: 0.3 };
    const droppedModel = makeModel(dropped, corpus.vocab.size);
    const droppedOptimizer = makeOptimizer(dropped);
    const run = async (on: Backend) => {
      const seen: number[] = [];
      const start = initialTrainingState(dropped, droppedModel, droppedOptimizer, on);
      await trainLoop(dropped, corpus, droppedModel, start, { maxSteps: 4, device: on, onStep: (_s, l) => seen.push(l) });
      return seen;
    };
    const [onGpu, onCpu] = [await run(device!), await run(cpu)];
    onGpu.forEach((l, i) => expect(Math.abs(l - onCpu[i]!), `step ${i}: gpu ${l}, cpu ${onCpu[i]}`).toBeLessThan(1e-4 * onCpu[i]!));
    // dropout is on: the first loss differs from the same parameters' loss without it
    const plain = makeModel({ ...dropped, dropout: 0 }, corpus.vocab.size);
    const fresh = initialTrainingState(dropped, plain, droppedOptimizer);
    const withoutDropout: number[] = [];
    await trainLoop({ ...dropped, dropout: 0 }, corpus, plain, fresh, { maxSteps: 1, onStep: (_s, l) => withoutDropout.push(l) });
    expect(Math.abs(onCpu[0]! - withoutDropout[0]!)).toBeGreaterThan(1e-3);
  });

  it("evaluates eagerly on the GPU, giving the CPU's bits per character", { timeout: 120_000 }, async () => {
    const host = await stateOnHost(trained);
    const options = { batchSize: 4, seqLen: 16, maxChars: 400 };
    const [onGpu, onCpu] = [
      await bitsPerCharacter(model, trained.params, corpus.valid, options),
      await bitsPerCharacter(model, host.params, corpus.valid, options),
    ];
    expect(Math.abs(onGpu - onCpu)).toBeLessThan(1e-5 * onCpu);
    expect(onCpu).toBeLessThan(Math.log2(corpus.vocab.size));
  });

  it('samples on the GPU the text the CPU samples from the same parameters and key', { timeout: 120_000 }, async () => {
    const options = { prompt: 'Call me ', length: 40, temperature: 0.8, key: randomKey(5) };
    const host = await stateOnHost(trained);
    const [onGpu, onCpu] = [await sampleText(model, trained.params, corpus.vocab, options), await sampleText(model, host.params, corpus.vocab, options)];
    expect(onGpu.startsWith('Call me ')).toBe(true);
    expect(Array.from(onGpu)).toHaveLength(48);
    expect(onGpu).toBe(onCpu);
  });
});
