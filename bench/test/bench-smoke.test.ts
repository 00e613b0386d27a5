/**
 * The benchmark's smoke test: every workload runs at tiny sizes and tapestry and TensorFlow.js compute the
 * same numbers. No timing is asserted — CI machines are shared and noisy; only that timings were taken.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initialWeights, makeBatch } from '../src/data.js';
import { isMemoryCase, type TimedCase } from '../src/results.js';
import { runBench } from '../src/run.js';
import { SMOKE_SIZES } from '../src/sizes.js';
import { formatTable } from '../src/table.js';
import { useBackend } from '../src/tfjs-backends.js';
import { tfjsModel } from '../src/tfjs-model.js';
import { tapestryModel } from '../src/tapestry-model.js';
import { WORKLOADS } from '../src/workloads.js';

describe('bench smoke', () => {
  it('runs every workload on every library and the libraries agree', async () => {
    const result = await runBench({ mode: 'smoke', sizes: { ...SMOKE_SIZES, memorySteps: [4] }, warmup: 2, steps: 2 });
    expect(result.workloads.map((w) => w.id)).toEqual(WORKLOADS);
    for (const w of result.workloads) {
      expect(w.error, `${w.id} failed`).toBeUndefined();
      expect(w.cases.length, w.id).toBeGreaterThan(0);
      for (const c of w.cases) {
        expect(c.agree, `${w.id} ${c.label}: max difference ${c.maxDifference}`).toBe(true);
        expect(c.rows.map((r) => r.library).filter((l) => l.startsWith('tfjs'))).toEqual(['tfjs-cpu', 'tfjs-wasm']);
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
          }
        }
      }
    }
    const w5 = result.workloads.find((w) => w.id === 'W5')!.cases[0] as TimedCase;
    expect(w5.rows.map((r) => r.library).slice(0, 2)).toEqual(['tapestry (custom cell)', 'tapestry (built-in lstm)']);
    // training changes the loss: the warm-up check covers an Adam update, not one loss twice
    const losses = (result.workloads[0]!.cases[0] as TimedCase).rows[0]!.warmupValues.map((v) => v[0]!);
    expect(losses[1]).not.toBe(losses[0]);
    const table = formatTable(result);
    for (const id of WORKLOADS) expect(table).toContain(id);
    expect(table).not.toContain('DIFFERENT');
  });

  it('a TensorFlow.js step leaks no tensors and matches tapestry over several Adam steps', async () => {
    for (const kind of ['lstm', 'gru'] as const) {
      const weights = initialWeights(kind, SMOKE_SIZES, 3);
      const batch = makeBatch(SMOKE_SIZES, 6, 4);
      for (const backend of ['cpu', 'wasm'] as const) {
        await useBackend(backend);
        const theirs = tfjsModel(weights, batch, SMOKE_SIZES, 6);
        const reference = tapestryModel(kind, weights, batch, SMOKE_SIZES, 6);
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
