/**
 * The whole experiment as one function (the CLI and the test both call it): split the series in time, fit
 * both models on the training part (the latent model early-stopping on a validation window), and forecast
 * the last `horizon` months from everything before them.
 *
 *     |—————————— training ——————————|— validation (horizon) —|— test (horizon) —|
 *
 * Validation forecasts start at the validation window and read only training data; the test forecast starts
 * at the test window and reads the training and validation data (no refitting).
 */
import { difference, integrate, mae, seasonalNaive } from './features.js';
import { arModel, latentModel, type CellType } from './models.js';
import { readCo2, type MonthlySeries } from './series.js';
import { fitAr, fitLatent, latentStepsPerEpoch, type FitCallbacks, type FitConfig, type FitResult, type WindowConfig } from './training.js';

/** Everything that defines a run. */
export interface ExperimentConfig {
  /** Months forecast (test window; the validation window has the same length). */
  readonly horizon: number;
  /** AR order τ. */
  readonly order: number;
  readonly cell: CellType;
  readonly hidden: number;
  /** Months of history the latent model reads before forecasting. */
  readonly context: number;
  readonly windows: WindowConfig;
  readonly latent: FitConfig;
  readonly ar: FitConfig;
}

/** The defaults of the CLI. */
export const DEFAULT_CONFIG: ExperimentConfig = {
  horizon: 36,
  order: 24,
  cell: 'lstm',
  hidden: 32,
  context: 60,
  windows: { window: 60, burnIn: 12, batchSize: 32 },
  latent: { epochs: 30, lr: 5e-3, clip: 1, patience: 4, evalEvery: 1, seed: 0 },
  ar: { epochs: 2000, lr: 1e-2, clip: 10, patience: 4, evalEvery: 100, seed: 0 },
};

/** A forecast of the test window and its error. */
interface Forecast {
  readonly values: Float64Array;
  readonly mae: number;
}

/** What a run produces. */
export interface ExperimentResult {
  readonly series: MonthlySeries;
  /** Index of the first validation and the first test month. */
  readonly validStart: number;
  readonly testStart: number;
  readonly truth: Float64Array;
  readonly seasonalNaive: Forecast;
  /** Each month's value a year earlier, using observed values inside the test window too (not a true forecast beyond 12 months; for reference). */
  readonly lastYearObserved: Forecast;
  readonly ar: Forecast & { readonly fit: FitResult<unknown> };
  readonly latent: Forecast & { readonly fit: FitResult<unknown> };
}

/** Progress callbacks per model. */
export interface ExperimentCallbacks {
  readonly ar?: FitCallbacks;
  readonly latent?: FitCallbacks;
  /** Before fitting each model: its name and its number of optimiser steps at most. */
  readonly onStart?: (model: 'ar' | 'latent', totalSteps: number) => void;
  readonly onEnd?: (model: 'ar' | 'latent') => void;
}

/** Runs the experiment; see the module comment. */
export function runExperiment(config: ExperimentConfig, callbacks: ExperimentCallbacks = {}, series: MonthlySeries = readCo2()): ExperimentResult {
  const y = series.values;
  const n = y.length;
  const testStart = n - config.horizon;
  const validStart = testStart - config.horizon;
  const { z, mean, std } = difference(y, validStart);
  const zMonths = series.months.slice(1); // z[k] is the change into month k + 1
  const trainZ = z.subarray(0, validStart - 1);

  const ar = arModel(config.order);
  const latent = latentModel({ cell: config.cell, hiddenSize: config.hidden });
  // A forecast of `horizon` levels from origin o (the first month not read), for each model.
  const arForecast = (params: Parameters<typeof ar.forecast>[0], o: number) =>
    integrate(y[o - 1]!, ar.forecast(params, z.subarray(0, o - 1), config.horizon), mean, std);
  const latentForecast = (params: Parameters<typeof latent.forecast>[0], o: number) => {
    const from = Math.max(0, o - 1 - config.context);
    const zs = latent.forecast(params, z.subarray(from, o - 1), zMonths.slice(from, o - 1), series.months.slice(o, o + config.horizon));
    return integrate(y[o - 1]!, zs, mean, std);
  };
  const validTruth = y.subarray(validStart, testStart);
  const truth = y.slice(testStart);

  callbacks.onStart?.('ar', config.ar.epochs);
  const arFit = fitAr(ar, trainZ, (p) => mae(arForecast(p, validStart), validTruth), config.ar, callbacks.ar);
  callbacks.onEnd?.('ar');
  callbacks.onStart?.('latent', config.latent.epochs * latentStepsPerEpoch(trainZ.length, config.windows));
  const latentFit = fitLatent(latent, trainZ, zMonths, (p) => mae(latentForecast(p, validStart), validTruth), config.latent, config.windows, callbacks.latent);
  callbacks.onEnd?.('latent');

  const arValues = arForecast(arFit.params, testStart);
  const latentValues = latentForecast(latentFit.params, testStart);
  const naive = seasonalNaive(y.subarray(0, testStart), config.horizon);
  const lastYear = y.slice(testStart - 12, n - 12);
  return {
    series,
    validStart,
    testStart,
    truth,
    seasonalNaive: { values: naive, mae: mae(naive, truth) },
    lastYearObserved: { values: lastYear, mae: mae(lastYear, truth) },
    ar: { values: arValues, mae: mae(arValues, truth), fit: arFit },
    latent: { values: latentValues, mae: mae(latentValues, truth), fit: latentFit },
  };
}
