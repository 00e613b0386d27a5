import { describe, expect, it } from 'vitest';
import { foldIn, grad, randomKey, type Tensor } from '@tapestry/core';
import { decades, DEFAULT_CONFIG, runExperiment, type ExperimentConfig } from '../src/experiment.js';
import { lastStepLoss, makeModel, makeReadout, randomInputs, type ModelKind } from '../src/models.js';
import { gradientFlowSvg } from '../src/plot.js';
import { frobenius, stateGradients } from '../src/probe.js';
import { summaryText } from '../src/summary.js';
import { trainOnTask } from '../src/training.js';

// The CLI's model sizes, measured over 100 steps, without the training (tested on its own below).
const config: ExperimentConfig = { ...DEFAULT_CONFIG, length: 100, clipLengths: [1, 10, 100], train: { ...DEFAULT_CONFIG.train, steps: 0 } };
const result = runExperiment(config);

describe('gradient flow at initialisation', () => {
  it('every curve starts at ‖∂L/∂h_T‖ = ‖r‖/√N, the readout the loss applies to h_T', () => {
    // the experiment draws its readout from stream 2 of the seed's key
    const r = makeReadout(foldIn(randomKey(config.seed), 2), config.hiddenSize);
    const h0 = frobenius(r) / Math.sqrt(config.batch);
    expect(h0).toBeGreaterThan(0.1);
    for (const c of [...Object.values(result.init), result.exploding]) expect(c.h[0]).toBeCloseTo(h0, 14);
    expect(result.init.lstm!.c![0]).toBe(0); // c_T is not used after the last step
  });

  it("the tanh RNN's gradient decays by at least 100× over 100 steps", () => {
    expect(decades(result.init.tanh!.h, 100)).toBeLessThan(-2);
  });

  it('the LSTM with forget bias 1 loses fewer than half as many orders of magnitude as the tanh RNN', () => {
    const lstm = decades(result.init.lstm!.h, 100);
    const tanh = decades(result.init.tanh!.h, 100);
    expect(lstm).toBeGreaterThan(tanh / 2);
    expect(result.init.lstm!.h[100]!).toBeGreaterThan(1e6 * result.init.tanh!.h[100]!);
  });

  it('the RNN with W_hh = 3·orthogonal explodes, and clipGradNorm caps the parameter gradient at maxNorm', () => {
    expect(decades(result.exploding.h, 100)).toBeGreaterThan(6);
    const [first, , last] = result.exploding.clipping;
    expect(last!.before).toBeGreaterThan(1e6 * first!.before);
    for (const row of result.exploding.clipping) {
      // PyTorch's coefficient maxNorm / (total + 1e-6) leaves the norm just under maxNorm; a few ulps of
      // rounding in the product and the re-measured norm can land on either side of it
      expect(row.after).toBeLessThanOrEqual(config.maxNorm * (1 + 1e-12));
      if (row.before > config.maxNorm) expect(row.after).toBeCloseTo(config.maxNorm, 5);
    }
    for (const row of result.exploding.reference) expect(row.before).toBeLessThan(10);
  });
});

describe('the probe trick', () => {
  // ∂L/∂s_t computed directly: restart the loop from the state at t, differentiate with respect to it
  function direct(kind: ModelKind, t: number): Record<string, Tensor> {
    const model = makeModel(kind, config, randomKey(5));
    const xs = randomInputs(randomKey(6), 12, 3, config.inputSize);
    const readout = makeReadout(randomKey(7), config.hiddenSize);
    let state = model.cell.initialState(3, 'float64');
    for (let s = 0; s < t; s++) state = model.cell.step(model.params, state, xs[s]!).state;
    const rest = (st: typeof state): Tensor => {
      let carry = st;
      for (let s = t; s < xs.length; s++) carry = model.cell.step(model.params, carry, xs[s]!).state;
      return lastStepLoss(carry.h!, readout);
    };
    return grad(rest)(state) as Record<string, Tensor>;
  }

  for (const kind of ['tanh', 'lstm', 'gru'] as const) {
    it(`gives exactly ∂L/∂s_t for every t in one pass (${kind})`, () => {
      const model = makeModel(kind, config, randomKey(5));
      const probed = stateGradients(
        model.cell,
        model.params,
        randomInputs(randomKey(6), 12, 3, config.inputSize),
        makeReadout(randomKey(7), config.hiddenSize),
      );
      expect(probed.length).toBe(13);
      for (const t of [0, 5, 11, 12]) {
        const want = direct(kind, t);
        for (const name of Object.keys(want)) {
          const a = probed[t]![name]!.dataSync();
          const b = want[name]!.dataSync();
          for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(b[i]!)));
        }
      }
    });
  }
});

describe('the brief training and the outputs', () => {
  it('an LSTM learns to remember its first input (accuracy ≥ 0.8, loss halves) in 60 Adam steps', () => {
    const model = makeModel('lstm', { ...config, hiddenSize: 16 }, randomKey(0));
    const run = trainOnTask(model, config.inputSize, { steps: 60, length: 5, batch: 32, lr: 2e-2, clip: 1 }, randomKey(9));
    expect(run.accuracyBefore).toBeLessThan(0.65);
    expect(run.accuracyAfter).toBeGreaterThanOrEqual(0.8);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(run.losses.slice(-5))).toBeLessThan(mean(run.losses.slice(0, 5)) / 2);
  });

  it('writes an SVG with the three panels and a summary table with a row per model', async () => {
    const svg = await gradientFlowSvg(result);
    expect(svg.startsWith('<svg')).toBe(true);
    for (const title of ['(a) at initialisation', '(b) after', '(c) exploding']) expect(svg).toContain(title);
    const text = summaryText(result);
    for (const label of ['tanh RNN', 'ReLU RNN', 'LSTM (forget bias 1)', 'GRU', 'W_hh = 3·orthogonal']) expect(text).toContain(label);
    expect(text).toMatch(/d=100/);
    expect(text).not.toMatch(/d=200/);
  });
});
