/**
 * The benchmark's smoke test: every workload runs at tiny sizes and tapestry and TensorFlow.js compute the
 * same numbers. No timing is asserted — CI machines are shared and noisy; only that timings were taken.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { dataParallel } from '@tapestry/parallel/node';
import { initialWeights, makeBatch } from '../src/data.js';
import { modelReplica } from '../src/model-replica.js';
import { isMemoryCase, type TimedCase } from '../src/results.js';
import { runBench } from '../src/run.js';
import { SMOKE_SIZES } from '../src/sizes.js';
import { formatTable } from '../src/table.js';
import { useBackend } from '../src/tfjs-backends.js';
import { tfjsModel } from '../src/tfjs-model.js';
import { tapestryModel } from '../src/tapestry-model.js';
import { pytorchAvailability } from '../src/pytorch.js';
import { LIBRARIES, WORKLOADS } from '../src/workloads.js';

describe('bench smoke', () => {
  it('runs every workload on every library and the libraries agree', async () => {
    // PyTorch, where installed, has its own test below: this one needs nothing but Node
    const libraries = LIBRARIES.filter((l) => l !== 'pytorch');
    const result = await runBench({ mode: 'smoke', sizes: { ...SMOKE_SIZES, memorySteps: [4] }, warmup: 2, steps: 2, libraries });
    expect(result.workloads.map((w) => w.id)).toEqual(WORKLOADS);
    for (const w of result.workloads) {
      expect(w.error, `${w.id} failed`).toBeUndefined();
      expect(w.cases.length, w.id).toBeGreaterThan(0);
      for (const c of w.cases) {
        expect(c.agree, `${w.id} ${c.label}: max difference ${c.maxDifference}`).toBe(true);
        // W7 (the char-RNN) runs tapestry under jit, on one and two threads, and PyTorch only
        expect(c.rows.map((r) => r.library).filter((l) => l.startsWith('tfjs'))).toEqual(w.id === 'W7' ? [] : ['tfjs-cpu', 'tfjs-wasm']);
        // jit runs in the model workloads only, right after eager tapestry
        const jitRows = c.rows.filter((r) => r.library.includes('jit')).map((r) => r.library);
        const expectedJit: Record<string, string[]> = {
          W4: [],
          W6: [],
          W5: ['tapestry (custom cell, jit)'],
          W7: ['tapestry (jit, 1 thread)', 'tapestry (jit, 2 threads)'],
        };
        // W1–W3 run jit on one thread and on two through @tapestry/parallel
        expect(jitRows, w.id).toEqual(expectedJit[w.id] ?? ['tapestry (jit)', 'tapestry (jit, 2 threads)']);
        if (isMemoryCase(c)) {
          for (const r of c.rows) {
            expect(r.isolated).toBe(true);
            expect(r.peakRssMB).toBeGreaterThan(0);
            expect(r.forwardLiveMB).toBeGreaterThan(0);
          }
        } else {
          for (const r of c.rows) {
            expect(r.times).toHaveLength(2);
            expect(r.medianMs).toBeGreaterThan(0);
            expect(r.warmupValues).toHaveLength(2);
            if (r.library.startsWith('tfjs') || w.id === 'W7') expect(r.speedOverTfjs).toBeUndefined();
            else expect(Object.keys(r.speedOverTfjs ?? {})).toEqual(['tfjs-cpu', 'tfjs-wasm']);
            expect(r.timeOverPytorch).toBeUndefined();
          }
        }
      }
    }
    const w5 = result.workloads.find((w) => w.id === 'W5')!.cases[0] as TimedCase;
    expect(w5.rows.map((r) => r.library).slice(0, 3)).toEqual(['tapestry (custom cell)', 'tapestry (built-in lstm)', 'tapestry (custom cell, jit)']);
    // training changes the loss: the warm-up check covers an Adam update, not one loss twice
    const losses = (result.workloads[0]!.cases[0] as TimedCase).rows[0]!.warmupValues.map((v) => v[0]!);
    expect(losses[1]).not.toBe(losses[0]);
    const table = formatTable(result);
    for (const id of WORKLOADS) expect(table).toContain(id);
    expect(table).not.toContain('DIFFERENT');
    expect(table).toContain('tapestry (jit)');
    expect(table).toContain('this ÷ tfjs-wasm (speed)');
    expect(result.pytorch).toBeUndefined();
  });

  it("PyTorch rows: with torch they compute tapestry's numbers at 1 and 2 threads; without it the run says they were skipped", async () => {
    const availability = pytorchAvailability();
    const result = await runBench({ mode: 'smoke', sizes: SMOKE_SIZES, warmup: 2, steps: 1, workloads: ['W1', 'W7'], libraries: ['tapestry-jit', 'pytorch'] });
    expect(result.pytorch).toEqual(availability);
    for (const w of result.workloads) {
      expect(w.error, w.id).toBeUndefined();
      const c = w.cases[0] as TimedCase;
      expect(c.agree, `${w.id}: max difference ${c.maxDifference}`).toBe(true);
      const torchRows = c.rows.filter((r) => r.library.startsWith('pytorch'));
      if ('version' in availability) {
        expect(torchRows.map((r) => r.library)).toEqual(['pytorch (1 thread)', 'pytorch (2 threads)']);
        for (const r of torchRows) expect(r.warmupValues).toHaveLength(2);
        // the tapestry rows give their time over each PyTorch row's
        expect(Object.keys(c.rows[0]!.timeOverPytorch ?? {})).toEqual(['pytorch (1 thread)', 'pytorch (2 threads)']);
      } else {
        expect(torchRows).toEqual([]);
        expect(formatTable(result)).toContain(`PyTorch rows skipped: ${availability.missing}`);
      }
    }
    // each PyTorch row starts a Python process that imports torch: seconds each on a busy machine
  }, 180_000);

  it('without a Python that imports torch, the PyTorch rows are skipped and the table says why', async () => {
    const result = await runBench({
      mode: 'smoke',
      sizes: SMOKE_SIZES,
      warmup: 2,
      steps: 1,
      workloads: ['W3'],
      libraries: ['tapestry', 'pytorch'],
      python: '/nonexistent/python3',
    });
    expect(result.pytorch).toEqual({ missing: expect.stringContaining('/nonexistent/python3 could not run') });
    expect((result.workloads[0]!.cases[0] as TimedCase).rows.map((r) => r.library)).toEqual(['tapestry']);
    expect(formatTable(result)).toContain('PyTorch rows skipped: /nonexistent/python3 could not run');
  });

  it("the jitted tapestry model compiles once and then replays eager tapestry's numbers", () => {
    for (const cell of ['lstm', 'gru', 'custom-lstm'] as const) {
      const weights = initialWeights(cell === 'gru' ? 'gru' : 'lstm', SMOKE_SIZES, 5);
      const batch = makeBatch(SMOKE_SIZES, 6, 7);
      const eager = tapestryModel(cell, weights, batch, SMOKE_SIZES, { steps: 6 });
      const jitted = tapestryModel(cell, weights, batch, SMOKE_SIZES, { steps: 6, jit: true });
      for (let i = 0; i < 4; i++) expect(jitted.train()).toBeCloseTo(eager.train(), 5);
      expect(jitted.forward()).toBeCloseTo(eager.forward(), 5);
      expect(jitted.compiledSignatures()).toBe(1);
      expect(eager.compiledSignatures()).toBe(0);
    }
  });

  it('selecting only tapestry-jit skips the workloads it does not run', async () => {
    const result = await runBench({ mode: 'smoke', sizes: SMOKE_SIZES, warmup: 2, steps: 1, workloads: ['W3', 'W4', 'W6'], libraries: ['tapestry-jit'] });
    expect(result.workloads.map((w) => [w.id, w.cases.length, w.skipped !== undefined])).toEqual([
      ['W3', 1, false],
      ['W4', 0, true],
      ['W6', 0, true],
    ]);
    expect((result.workloads[0]!.cases[0] as TimedCase).rows.map((r) => r.library)).toEqual(['tapestry (jit)', 'tapestry (jit, 2 threads)']);
  });

  it('on two threads the model trains and runs forward as on one: the same losses over several Adam steps', async () => {
    for (const cell of ['lstm', 'gru'] as const) {
      const weights = initialWeights(cell, SMOKE_SIZES, 5);
      const batch = makeBatch(SMOKE_SIZES, SMOKE_SIZES.steps, 7);
      const one = tapestryModel(cell, weights, batch, SMOKE_SIZES, { jit: true });
      const train = await dataParallel(modelReplica, { threads: 2, setup: { cell, mode: 'train', sizes: SMOKE_SIZES, weights, batch } });
      const forward = await dataParallel(modelReplica, { threads: 2, setup: { cell, mode: 'forward', sizes: SMOKE_SIZES, weights, batch } });
      try {
        expect(forward.step(null)).toBeCloseTo(one.forward(), 5);
        const losses = Array.from({ length: 4 }, () => train.step(null));
        for (const loss of losses) expect(loss).toBeCloseTo(one.train(), 5);
        // each step is an Adam update of the shared parameters, not one loss again
        expect(new Set(losses).size).toBe(4);
      } finally {
        train.close();
        forward.close();
      }
    }
  });

  it('a thread count that does not divide the batch fails the pool with an error that says so', async () => {
    const setup = {
      cell: 'lstm' as const,
      mode: 'train' as const,
      sizes: SMOKE_SIZES,
      weights: initialWeights('lstm', SMOKE_SIZES),
      batch: makeBatch(SMOKE_SIZES),
    };
    await expect(dataParallel(modelReplica, { threads: 3, setup })).rejects.toThrow('bench: 3 threads must divide the batch of 4 rows');
  });

  it('a TensorFlow.js step leaks no tensors and matches tapestry over several Adam steps', async () => {
    for (const kind of ['lstm', 'gru'] as const) {
      const weights = initialWeights(kind, SMOKE_SIZES, 3);
      const batch = makeBatch(SMOKE_SIZES, 6, 4);
      for (const backend of ['cpu', 'wasm'] as const) {
        await useBackend(backend);
        const theirs = tfjsModel(weights, batch, SMOKE_SIZES, 6);
        const reference = tapestryModel(kind, weights, batch, SMOKE_SIZES, { steps: 6 });
        theirs.train();
        reference.train();
        const live = theirs.liveTensors();
        for (let i = 0; i < 4; i++) expect(theirs.train()).toBeCloseTo(reference.train(), 4);
        expect(theirs.forward()).toBeCloseTo(reference.forward(), 4);
        expect(theirs.liveTensors()).toBe(live);
        theirs.dispose();
      }
    }
    expect(tf.getBackend()).toBe('wasm');
  });
});
