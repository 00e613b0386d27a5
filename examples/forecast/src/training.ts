/**
 * Fitting both forecasters with the same gradient code: Adam (after clipping by global norm) on a mean
 * squared one-step error. The latent model early-stops on the multi-step forecast error of a validation
 * window — the thing we actually care about, which the teacher-forced one-step loss only approximates; the
 * linear AR model is fitted to convergence.
 */
import { foldIn, randomKey, tensor, valueAndGrad, type Tensor } from '@tapestry/core';
import { permutation } from '@tapestry/data';
import { adam, applyUpdates, chain, clipByGlobalNorm, type GradientTransformation } from '@tapestry/optim';
import { stepInputs, type ArModel, type ArParams, type LatentModel, type LatentParams } from './models.js';

/** Optimisation settings. */
export interface FitConfig {
  readonly epochs: number;
  readonly lr: number;
  readonly clip: number;
  /** Stop after this many evaluations without a lower validation error (early stopping models only). */
  readonly patience: number;
  readonly evalEvery: number;
  readonly seed: number;
}

/** One evaluation point of the learning curve. */
interface FitRecord {
  readonly epoch: number;
  readonly trainLoss: number;
  /** Validation multi-step MAE in ppm. */
  readonly validMae: number;
}

/** What fitting returns: the parameters with the lowest validation error, and the curve. */
export interface FitResult<P> {
  readonly params: P;
  readonly bestEpoch: number;
  readonly bestValidMae: number;
  readonly history: readonly FitRecord[];
  readonly seconds: number;
}

/** Progress callbacks. */
export interface FitCallbacks {
  readonly onStep?: (step: number, loss: number) => void;
  readonly onEval?: (record: FitRecord) => void;
}

function optimizer(config: FitConfig): GradientTransformation<any> {
  return chain(clipByGlobalNorm(config.clip), adam({ lr: config.lr }));
}

/**
 * The shared loop: `batches(epoch)` yields the loss arguments of each step, `validMae(params)` scores a
 * candidate every `evalEvery` epochs. With `earlyStopping` it keeps the best-scoring parameters and stops
 * after `patience` evaluations without a better one; without, it runs all epochs and keeps the last.
 */
function fit<P>(
  init: P,
  loss: (params: P, ...args: any[]) => Tensor,
  batches: (epoch: number) => unknown[][],
  validMae: (params: P) => number,
  config: FitConfig,
  callbacks: FitCallbacks,
  earlyStopping: boolean,
): FitResult<P> {
  const began = performance.now();
  const opt = optimizer(config);
  const lossAndGrad = valueAndGrad(loss);
  let params = init;
  let state = opt.init(params);
  let best = { params, epoch: 0, mae: Number.POSITIVE_INFINITY };
  const history: FitRecord[] = [];
  let step = 0;
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    let sum = 0;
    const steps = batches(epoch);
    for (const args of steps) {
      const [value, grads] = lossAndGrad(params, ...args) as [Tensor, P];
      const update = opt.update(grads, state, params);
      params = applyUpdates(params, update.updates);
      state = update.state;
      const v = value.item();
      if (!Number.isFinite(v)) throw new Error(`forecast: the loss became ${v} at step ${step}; lower --lr`);
      sum += v;
      callbacks.onStep?.(++step, v);
    }
    if (epoch % config.evalEvery === 0 || epoch === config.epochs) {
      const record = { epoch, trainLoss: sum / steps.length, validMae: validMae(params) };
      history.push(record);
      callbacks.onEval?.(record);
      if (!earlyStopping) best = { params, epoch, mae: record.validMae };
      else if (record.validMae < best.mae) best = { params, epoch, mae: record.validMae };
      else if (epoch - best.epoch >= config.patience * config.evalEvery) break;
    }
  }
  return { params: best.params, bestEpoch: best.epoch, bestValidMae: best.mae, history, seconds: (performance.now() - began) / 1000 };
}

/**
 * Fits AR(τ) by full-batch Adam on every one-step prediction of the training changes `z`, for all
 * `config.epochs` steps and without early stopping: the problem is convex, so this converges to the
 * least-squares fit whatever the seed (`validMae` is only recorded).
 */
export function fitAr(
  model: ArModel,
  z: Float64Array,
  validMae: (p: ArParams) => number,
  config: FitConfig,
  callbacks: FitCallbacks = {},
): FitResult<ArParams> {
  const { x, y } = model.design(z, 0, z.length);
  return fit(model.init(foldIn(randomKey(config.seed), 10)), model.loss, () => [[x, y]], validMae, config, callbacks, false);
}

/** Window settings of the latent model's teacher-forced training. */
export interface WindowConfig {
  /** Steps per training window. */
  readonly window: number;
  /** Leading steps of each window that only warm the state up (not scored). */
  readonly burnIn: number;
  readonly batchSize: number;
}

/** Training windows of the latent model per epoch, for progress bars. */
export function latentStepsPerEpoch(trainChanges: number, windows: WindowConfig): number {
  return Math.ceil((trainChanges - windows.window) / windows.batchSize);
}

/**
 * Fits the latent model with teacher forcing on every window of `window` steps inside the training changes
 * (start positions shuffled each epoch): inputs are the true changes z_s … z_{s+W−1} with their months,
 * targets z_{s+1} … z_{s+W}.
 */
export function fitLatent(
  model: LatentModel,
  z: Float64Array,
  months: readonly string[],
  validMae: (p: LatentParams) => number,
  config: FitConfig,
  windows: WindowConfig,
  callbacks: FitCallbacks = {},
): FitResult<LatentParams> {
  const { window: W, burnIn, batchSize } = windows;
  const count = z.length - W;
  if (count < 1) throw new Error(`forecast: --window ${W} is longer than the ${z.length} training changes`);
  const root = randomKey(config.seed);
  const batches = (epoch: number): unknown[][] => {
    const order = permutation(foldIn(foldIn(root, 1), epoch), count);
    const out: unknown[][] = [];
    for (let b = 0; b < count; b += batchSize) {
      const starts = Array.from(order.subarray(b, Math.min(count, b + batchSize)));
      const targets = new Float64Array(starts.length * W);
      starts.forEach((s, n) => targets.set(z.subarray(s + 1, s + 1 + W), n * W));
      out.push([stepInputs(z, months, starts, W), tensor(targets, { shape: [starts.length, W, 1] }), burnIn]);
    }
    return out;
  };
  return fit(model.init(foldIn(root, 0)), model.loss, batches, validMae, config, callbacks, true);
}
