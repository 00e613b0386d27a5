/**
 * What the models see. CO2 rises along a slowly steepening trend with a yearly cycle, so the models work on
 * month-to-month changes d_t = y_t − y_{t−1} rather than levels: differencing removes the trend's level (a
 * network never has to extrapolate to ppm values it has not seen), and what remains — the yearly cycle
 * plus a slowly growing mean rise — is close to stationary. Changes are standardised with the mean and
 * standard deviation of the training part. The recurrent model also gets the calendar month as
 * (sin, cos) of 2π·month/12: future months are known, so this is not a leak, and it spares the network from
 * counting to 12. Forecast levels are rebuilt by adding the predicted changes to the last observed value.
 */

/** Standardised month-to-month changes of a series and how to undo them. */
export interface Differenced {
  /** z_t = (y_t − y_{t−1} − mean) / std for t = 1 … n−1 (index t−1). */
  readonly z: Float64Array;
  readonly mean: number;
  readonly std: number;
}

/** Standardises the changes of `values`, with statistics from the changes up to index `fitUntil` (exclusive) of `values`. */
export function difference(values: Float64Array, fitUntil = values.length): Differenced {
  const d = new Float64Array(values.length - 1);
  for (let t = 1; t < values.length; t++) d[t - 1] = values[t]! - values[t - 1]!;
  const fit = d.subarray(0, fitUntil - 1);
  const mean = fit.reduce((a, b) => a + b, 0) / fit.length;
  const std = Math.sqrt(fit.reduce((a, b) => a + (b - mean) ** 2, 0) / fit.length);
  return { z: d.map((v) => (v - mean) / std), mean, std };
}

/** Levels from a last observed level and standardised changes: y_{T+h} = y_T + Σ_{k ≤ h} (z_k·std + mean). */
export function integrate(last: number, z: ArrayLike<number>, mean: number, std: number): Float64Array {
  const out = new Float64Array(z.length);
  let level = last;
  for (let h = 0; h < z.length; h++) {
    level += z[h]! * std + mean;
    out[h] = level;
  }
  return out;
}

/** The calendar features (sin, cos of 2π·month/12) of a month given as `YYYY-MM`. */
export function monthFeatures(month: string): [number, number] {
  const m = Number(month.slice(5, 7)) - 1;
  return [Math.sin((2 * Math.PI * m) / 12), Math.cos((2 * Math.PI * m) / 12)];
}

/** Mean absolute error. */
export function mae(forecast: ArrayLike<number>, truth: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < truth.length; i++) s += Math.abs(forecast[i]! - truth[i]!);
  return s / truth.length;
}

/**
 * The seasonal-naive forecast of the `horizon` values after `history`: each month gets the value of the same
 * month in the last observed year, y_{T+h} = y_{T+h−12⌈h/12⌉} (as Hyndman & Athanasopoulos define it for
 * multi-step forecasts: it never uses a value after the forecast origin).
 */
export function seasonalNaive(history: Float64Array, horizon: number, period = 12): Float64Array {
  const T = history.length;
  return Float64Array.from({ length: horizon }, (_, i) => history[T - period + (i % period)]!);
}
