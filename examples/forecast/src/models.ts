/**
 * The two forecasters, both predicting the next standardised change z_{t+1}:
 *
 * - `ar`: a linear AR(τ) model, z_{t+1} = w · (z_{t−τ+1}, …, z_t) + b — a linear layer over the last τ changes.
 * - `latent`: a latent autoregressive model. An LSTM or GRU reads the changes (with calendar features) one
 *   month at a time; its hidden state h_t summarises the whole history, and a linear head maps h_t to
 *   z_{t+1}. Trained with teacher forcing (it always reads true values); forecasting feeds its own
 *   predictions back in, one month at a time, carrying the state.
 */
import { concat, reshape, slice, splitKey, tensor, type Key, type Tensor } from '@tapestry/core';
import { gru, linear, lstm, mse, type GatedCellParams, type RecurrentParams } from '@tapestry/layers';
import { monthFeatures } from './features.js';

/** The AR(τ) model's parameters: weight [1, τ] and bias [1]. */
export interface ArParams {
  readonly weight: Tensor;
  readonly bias?: Tensor;
}

/** A linear AR(τ) model over standardised changes. */
export function arModel(order: number) {
  const head = linear({ inFeatures: order, outFeatures: 1, dtype: 'float64' });
  /** Lag matrix [M, τ] and targets [M, 1] for every t in [from, to) with t ≥ τ: rows z_{t−τ…t−1}, target z_t. */
  const design = (z: Float64Array, from: number, to: number): { x: Tensor; y: Tensor } => {
    const start = Math.max(from, order);
    const m = to - start;
    const x = new Float64Array(m * order);
    const y = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      x.set(z.subarray(start + i - order, start + i), i * order);
      y[i] = z[start + i]!;
    }
    return { x: tensor(x, { shape: [m, order] }), y: tensor(y, { shape: [m, 1] }) };
  };
  return {
    order,
    init: (key: Key): ArParams => head.init(key),
    design,
    /** Mean squared one-step error on a design. */
    loss: (params: ArParams, x: Tensor, y: Tensor): Tensor => mse(head.apply(params, x), y),
    /** The next `horizon` changes after `history`, each prediction fed back as the newest lag. */
    forecast: (params: ArParams, history: Float64Array, horizon: number): Float64Array => {
      const lags = Array.from(history.subarray(history.length - order));
      const out = new Float64Array(horizon);
      for (let h = 0; h < horizon; h++) {
        const next = head.apply(params, tensor(Float64Array.from(lags), { shape: [1, order] })).item();
        out[h] = next;
        lags.shift();
        lags.push(next);
      }
      return out;
    },
  };
}

/** The AR model functions' type. */
export type ArModel = ReturnType<typeof arModel>;

/** Recurrent cells the latent model can use. */
export type CellType = 'lstm' | 'gru';

/** The latent model's parameters. */
export interface LatentParams {
  readonly rnn: RecurrentParams<GatedCellParams>;
  readonly head: { readonly weight: Tensor; readonly bias?: Tensor };
}

/** Features of one step: the standardised change, then sin and cos of the calendar month. */
const STEP_FEATURES = 3;

/**
 * Steps [N, T, 3] for windows of the series: row n holds, for t = starts[n] … starts[n]+T−1, the change
 * z_t and the features of month `months[t]` (the month z_t ends in).
 */
export function stepInputs(z: Float64Array, months: readonly string[], starts: readonly number[], steps: number): Tensor {
  const out = new Float64Array(starts.length * steps * STEP_FEATURES);
  starts.forEach((s, n) => {
    for (let t = 0; t < steps; t++) {
      const [sin, cos] = monthFeatures(months[s + t]!);
      out.set([z[s + t]!, sin, cos], (n * steps + t) * STEP_FEATURES);
    }
  });
  return tensor(out, { shape: [starts.length, steps, STEP_FEATURES] });
}

/** The latent autoregressive model; see the module comment. */
export function latentModel(config: { readonly cell: CellType; readonly hiddenSize: number }) {
  const layerOptions = { inputSize: STEP_FEATURES, hiddenSize: config.hiddenSize, dtype: 'float64' as const };
  const layer = config.cell === 'lstm' ? lstm(layerOptions) : gru(layerOptions);
  const head = linear({ inFeatures: config.hiddenSize, outFeatures: 1, dtype: 'float64' });
  type State = { h: Tensor; c?: Tensor };
  const run = (params: LatentParams, x: Tensor, state?: State): { prediction: Tensor; state: State } => {
    const result = layer.apply(params.rnn, x, state === undefined ? {} : ({ initialState: state } as any)) as { output: Tensor; state: State };
    return { prediction: head.apply(params.head, result.output), state: result.state };
  };
  return {
    init: (key: Key): LatentParams => {
      const [k1, k2] = splitKey(key, 2) as [Key, Key];
      return { rnn: layer.init(k1), head: head.init(k2) };
    },
    /**
     * Teacher-forced loss on windows: reads x [N, T, 3] (true changes), predicts every next change, and
     * scores the predictions against targets [N, T, 1] after the first `burnIn` steps, which only warm the
     * state up (the state starts at zero, unlike at forecast time).
     */
    loss: (params: LatentParams, x: Tensor, targets: Tensor, burnIn: number): Tensor => {
      const { prediction } = run(params, x);
      const [n, steps] = [x.shape[0]!, x.shape[1]!];
      const scored = (t: Tensor) => slice(t, [0, burnIn, 0], [n, steps - burnIn, 1]);
      return mse(scored(prediction), scored(targets));
    },
    /**
     * The next `horizon` changes after reading `context` (the last months of history, as z and month names),
     * each prediction fed back as the next input with its month's calendar features.
     */
    forecast: (params: LatentParams, z: Float64Array, months: readonly string[], futureMonths: readonly string[]): Float64Array => {
      let { prediction, state } = run(params, stepInputs(z, months, [0], z.length));
      let next = slice(prediction, [0, z.length - 1, 0], [1, 1, 1]);
      const out = new Float64Array(futureMonths.length);
      for (let h = 0; h < futureMonths.length; h++) {
        out[h] = next.item();
        if (h === futureMonths.length - 1) break;
        const [sin, cos] = monthFeatures(futureMonths[h]!);
        const x = concat([next, tensor(Float64Array.of(sin, cos), { shape: [1, 1, 2] })], 2);
        ({ prediction, state } = run(params, x, state));
        next = reshape(prediction, [1, 1, 1]);
      }
      return out;
    },
  };
}

/** The latent model functions' type. */
export type LatentModel = ReturnType<typeof latentModel>;
