/**
 * The whole experiment: ‖∂L/∂h_t‖ against T − t for each model at initialisation and after a little
 * training, and the exploding RNN's parameter-gradient norm with and without clipping. Pure computation;
 * the CLI prints, plots and saves what this returns.
 */
import { ArgumentError, foldIn, randomKey } from '@tapestry/core';
import { clippingTable, type ClipRow } from './exploding.js';
import { MAIN_KINDS, makeModel, makeReadout, randomInputs } from './models.js';
import { stateGradientNorms, type GradientNorms } from './probe.js';
import { trainOnTask, type TrainOptions } from './training.js';

/** Everything that defines a run. */
export interface ExperimentConfig {
  /** Steps T of the measurement: distances 0 … T. */
  readonly length: number;
  /** Sequences in the measurement batch. */
  readonly batch: number;
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** The LSTM's forget-gate bias b_if + b_hf. */
  readonly forgetBias: number;
  /** Gain of the exploding RNN's orthogonal W_hh. */
  readonly explodingScale: number;
  /** `maxNorm` of clipGradNorm in the exploding case. */
  readonly maxNorm: number;
  /** Sequence lengths T at which the exploding case's parameter gradient is measured. */
  readonly clipLengths: readonly number[];
  /** The brief training; `steps: 0` skips it. */
  readonly train: TrainOptions;
  readonly seed: number;
}

/** The defaults of the CLI. */
export const DEFAULT_CONFIG: ExperimentConfig = {
  length: 200,
  batch: 8,
  inputSize: 8,
  hiddenSize: 32,
  forgetBias: 1,
  explodingScale: 3,
  maxNorm: 1,
  clipLengths: [1, 2, 5, 10, 20, 50, 100, 150, 200],
  train: { steps: 300, length: 10, batch: 32, lr: 1e-2, clip: 1 },
  seed: 0,
};

/** One model's curves. */
export interface ModelCurves {
  readonly label: string;
  /** ‖∂L/∂h_t‖ at distance d = T − t (index d). */
  readonly h: number[];
  /** ‖∂L/∂c_t‖ at distance d (LSTM only). */
  readonly c?: number[];
}

/** A trained model's curves and how its training went. */
interface TrainedCurves extends ModelCurves {
  readonly training: {
    /** Mean training loss over the first and the last 20 steps (BCE, chance = ln 2 ≈ 0.693). */
    readonly lossStart: number;
    readonly lossEnd: number;
    /** Accuracy on 256 held-out sequences of the task before and after training. */
    readonly accuracyBefore: number;
    readonly accuracyAfter: number;
  };
}

/** What a run measures. */
export interface ExperimentResult {
  readonly config: ExperimentConfig;
  readonly init: Record<string, ModelCurves>;
  readonly trained: Record<string, TrainedCurves>;
  readonly exploding: ModelCurves & {
    /** The exploding RNN's ‖∂L_T/∂θ‖ before and after clipping. */
    readonly clipping: ClipRow[];
    /** The same measurement for the default-initialised tanh RNN, for contrast. */
    readonly reference: ClipRow[];
  };
}

/** Progress: a label and how many units of {@link workUnits} are done. */
export type Progress = (label: string, done: number) => void;

/** How many progress units a run has: one per measurement, per training step and per clipping row. */
export function workUnits(config: ExperimentConfig): number {
  return MAIN_KINDS.length * (2 + config.train.steps) + 1 + 2 * config.clipLengths.length;
}

function curves(label: string, norms: GradientNorms): ModelCurves {
  return norms.c ? { label, h: norms.h!, c: norms.c } : { label, h: norms.h! };
}

const meanOf = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Runs the experiment. Every model, the inputs and the readout come from `config.seed`. */
export function runExperiment(config: ExperimentConfig, onProgress: Progress = () => {}): ExperimentResult {
  for (const T of config.clipLengths) {
    if (!(Number.isInteger(T) && T >= 1 && T <= config.length))
      throw new ArgumentError(`runExperiment: clipLengths must be integers in 1 … length = ${config.length}, got ${T}`);
  }
  const key = randomKey(config.seed);
  const xs = randomInputs(foldIn(key, 1), config.length, config.batch, config.inputSize);
  const readout = makeReadout(foldIn(key, 2), config.hiddenSize);
  const models = foldIn(key, 3);
  let done = 0;
  const tick = (label: string): void => onProgress(label, ++done);

  const init: Record<string, ModelCurves> = {};
  const trained: Record<string, TrainedCurves> = {};
  for (const kind of MAIN_KINDS) {
    const model = makeModel(kind, config, models);
    init[kind] = curves(model.label, stateGradientNorms(model.cell, model.params, xs, readout));
    tick(`${model.label}: at init`);
    const run = trainOnTask(model, config.inputSize, config.train, foldIn(key, 10 + MAIN_KINDS.indexOf(kind)), (s) =>
      tick(`${model.label}: training ${s + 1}/${config.train.steps}`),
    );
    const window = Math.min(20, run.losses.length);
    trained[kind] = {
      ...curves(model.label, stateGradientNorms(model.cell, run.params, xs, readout)),
      training: {
        lossStart: window > 0 ? meanOf(run.losses.slice(0, window)) : NaN,
        lossEnd: window > 0 ? meanOf(run.losses.slice(-window)) : NaN,
        accuracyBefore: run.accuracyBefore,
        accuracyAfter: run.accuracyAfter,
      },
    };
    tick(`${model.label}: trained`);
  }

  const exploding = makeModel('exploding', config, models);
  const explodingCurves = curves(exploding.label, stateGradientNorms(exploding.cell, exploding.params, xs, readout));
  tick(`${exploding.label}: at init`);
  const clipping = clippingTable(exploding, xs, readout, config.clipLengths, config.maxNorm);
  done += config.clipLengths.length;
  onProgress('clipping', done);
  const reference = clippingTable(makeModel('tanh', config, models), xs, readout, config.clipLengths, config.maxNorm);
  done += config.clipLengths.length;
  onProgress('clipping (reference)', done);
  return { config, init, trained, exploding: { ...explodingCurves, clipping, reference } };
}

/** log10 of how much ‖∂L/∂h_t‖ shrinks from distance 0 to distance d (negative: it decays). */
export function decades(h: readonly number[], d: number): number {
  return Math.log10(h[d]! / h[0]!);
}
