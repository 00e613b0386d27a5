import { describe, expect, it } from 'vitest';
import { difference, integrate, mae, seasonalNaive } from '../src/features.js';
import { DEFAULT_CONFIG, runExperiment, type ExperimentConfig } from '../src/experiment.js';
import { arModel } from '../src/models.js';
import { readCo2 } from '../src/series.js';
import { fitAr } from '../src/training.js';

const series = readCo2();

/** Least squares by the normal equations (with an intercept), solved by Gaussian elimination in float64. */
function leastSquares(x: Float64Array, y: Float64Array, m: number, k: number): number {
  const p = k + 1;
  const a = Array.from({ length: p }, () => new Float64Array(p + 1));
  for (let i = 0; i < m; i++) {
    const row = [...x.subarray(i * k, (i + 1) * k), 1];
    for (let r = 0; r < p; r++) {
      for (let c = 0; c < p; c++) a[r]![c]! += row[r]! * row[c]!;
      a[r]![p]! += row[r]! * y[i]!;
    }
  }
  for (let c = 0; c < p; c++) {
    const pivot = a.slice(c).reduce((best, r, i) => (Math.abs(r[c]!) > Math.abs(a[best]![c]!) ? c + i : best), c);
    [a[c], a[pivot]] = [a[pivot]!, a[c]!];
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let j = c; j <= p; j++) a[r]![j]! -= f * a[c]![j]!;
    }
  }
  const w = a.map((r, i) => r[p]! / r[i]!);
  let sse = 0;
  for (let i = 0; i < m; i++) {
    let pred = w[k]!;
    for (let j = 0; j < k; j++) pred += w[j]! * x[i * k + j]!;
    sse += (pred - y[i]!) ** 2;
  }
  return sse / m;
}

describe('forecast data', () => {
  it('reads monthly CO2 from node_modules as a gap-free series, interpolating the missing months', () => {
    expect(series.months[0]).toBe('1958-03');
    expect(series.months[series.months.length - 1]).toBe('2020-04');
    expect(series.values.length).toBe(62 * 12 + 2);
    expect(series.filled).toEqual(['1958-06', '1958-10', '1964-02', '1964-03', '1964-04']);
    const i = series.months.indexOf('1958-06');
    expect(series.values[i]).toBeCloseTo((series.values[i - 1]! + series.values[i + 1]!) / 2, 10);
    expect(series.values.every((v) => v > 300 && v < 420)).toBe(true);
  });

  it('differences, standardises and integrates back exactly; seasonal naive repeats the last observed year', () => {
    const y = series.values.subarray(0, 100);
    const { z, mean, std } = difference(y, 80);
    const rebuilt = integrate(y[49]!, z.subarray(49, 99), mean, std);
    expect(Math.max(...rebuilt.map((v, k) => Math.abs(v - y[50 + k]!)))).toBeLessThan(1e-9);
    expect(Math.abs(z.subarray(0, 79).reduce((a, b) => a + b, 0))).toBeLessThan(1e-9); // standardised on the fitted part
    const history = Float64Array.from({ length: 24 }, (_, i) => i);
    expect(Array.from(seasonalNaive(history, 30))).toEqual([
      ...Array.from({ length: 12 }, (_, i) => 12 + i),
      ...Array.from({ length: 12 }, (_, i) => 12 + i),
      12,
      13,
      14,
      15,
      16,
      17,
    ]);
    expect(mae([1, 2, 3], [2, 2, 5])).toBe(1);
  });
});

describe('forecast models', () => {
  it('AR(τ) fitted by the gradient code reaches the least-squares optimum', () => {
    const { z } = difference(series.values, 674);
    const train = z.subarray(0, 673);
    const model = arModel(12);
    const { x, y } = model.design(train, 0, train.length);
    const optimum = leastSquares(x.dataSync() as Float64Array, y.dataSync() as Float64Array, y.shape[0]!, 12);
    const fitted = fitAr(model, train, (p) => model.loss(p, x, y).item(), { ...DEFAULT_CONFIG.ar, epochs: 1500, evalEvery: 100 });
    expect(fitted.bestValidMae).toBeGreaterThanOrEqual(optimum - 1e-12);
    expect(fitted.bestValidMae).toBeLessThan(optimum * 1.002);
  }, 30_000);

  it('a briefly trained latent LSTM beats seasonal naive on the last 36 months', () => {
    const config: ExperimentConfig = {
      ...DEFAULT_CONFIG,
      hidden: 16,
      windows: { window: 48, burnIn: 12, batchSize: 64 },
      latent: { ...DEFAULT_CONFIG.latent, epochs: 3, lr: 1e-2 },
      ar: { ...DEFAULT_CONFIG.ar, epochs: 300 },
    };
    const r = runExperiment(config, {}, series);
    expect(r.truth.length).toBe(36);
    expect(r.seasonalNaive.mae).toBeGreaterThan(3);
    expect(r.latent.mae).toBeLessThan(r.seasonalNaive.mae);
    const losses = r.latent.fit.history.map((h) => h.trainLoss);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! / 2);
  }, 30_000);
});
