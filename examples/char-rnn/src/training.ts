/**
 * Training: the step, then the loop. The step is the loss and its gradient on a window of streams (the
 * recurrent state comes in from the last window and goes on to the next, so backpropagation runs through
 * `seqLen` steps only), then clipping and Adam, applied to the parameters. `trainingStep` compiles it with
 * `jit`: on one thread as one function; on N threads as the gradients of each thread's streams, their
 * mean across threads, then the update, which every thread applies alike (see @tapestry/parallel). On a
 * GPU (`device`) the step runs on one thread, as one submission per step, and the loop reads each step's
 * loss one step late, so the GPU works on the next step while the loss comes back.
 */
import { cpu, devicePut, foldIn, keyData, randomKey, slice, valueAndGrad, type Backend, type Tensor } from '@tapestry/core';
import { batchify, countBpttWindows, getBatch } from '@tapestry/data';
import { adam, applyUpdates, chain, clipByGlobalNorm, constant, cosineDecay, joinSchedules, linearWarmup, type GradientTransformation } from '@tapestry/optim';
import { defineReplica, trainingStep, type Thread } from '@tapestry/parallel';
import { dataParallel } from '@tapestry/parallel/node';
import type { Corpus } from './corpus.js';
import { bitsPerCharacter } from './evaluate.js';
import { charModel, type CarriedState, type CellType, type CharModel, type ModelParams } from './model.js';

/** The training step of `model` for `thread`: jit of value-and-grad, then clip + Adam (the optimiser) and apply. */
function makeStep(model: CharModel, optimizer: GradientTransformation<any>, thread?: Thread, useJit = true) {
  const training = model.config.dropout > 0;
  return trainingStep<ModelParams, unknown, [inputs: Tensor, targets: Tensor, carry: CarriedState | undefined, key: Tensor], CarriedState>(
    {
      gradients: valueAndGrad(
        (params: ModelParams, inputs: Tensor, targets: Tensor, carry: CarriedState | undefined, key: Tensor) =>
          model.loss(params, inputs, targets, carry, { training, key }),
        0,
        { hasAux: true },
      ),
      update: (params: ModelParams, optState: unknown, grads: ModelParams) => {
        // clip by global norm, then Adam (see makeOptimizer)
        const { updates, state } = optimizer.update(grads, optState, params);
        return { params: applyUpdates(params, updates), optState: state };
      },
    },
    thread,
    // the parameters and the optimiser state are donated; so is the carried state (argument 2), which the step replaces
    { jit: useJit, donate: [2] },
  );
}

/** Everything that defines a run (saved in checkpoints). */
export interface TrainConfig {
  readonly cell: CellType;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly embeddingDim: number;
  readonly dropout: number;
  readonly seqLen: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly warmupSteps: number;
  /** Steps of a cosine decay after the warm-up, from `lr` to `minLr` (0: keep `lr`; absent in older checkpoints). */
  readonly decaySteps?: number;
  /** The learning rate the cosine decay ends at. */
  readonly minLr?: number;
  readonly clip: number;
  readonly seed: number;
}

/** The defaults of `train`: PyTorch's reference run of the same model on this data reaches 2.2 bits/char in 5 minutes. */
export const DEFAULT_CONFIG: TrainConfig = {
  cell: 'lstm',
  hiddenSize: 256,
  numLayers: 2,
  embeddingDim: 64,
  dropout: 0,
  seqLen: 64,
  batchSize: 32,
  lr: 2e-3,
  warmupSteps: 50,
  clip: 5,
  seed: 0,
};

/** A point of the learning curve. */
interface HistoryPoint {
  readonly chars: number;
  readonly bpc: number;
}

/** Where a run is: everything needed to continue it exactly. */
export interface TrainingState {
  readonly params: ModelParams;
  readonly optState: unknown;
  /** The state carried into the next window (undefined at the start of an epoch). */
  readonly carry: CarriedState | undefined;
  readonly step: number;
  readonly epoch: number;
  /** The next window of the epoch. */
  readonly window: number;
  readonly charsSeen: number;
  /** Training time so far, across resumes. */
  readonly elapsedMs: number;
  readonly history: { readonly train: readonly HistoryPoint[]; readonly valid: readonly HistoryPoint[] };
}

/** The optimiser of a configuration: clip by global norm, then Adam with a linear warm-up and an optional cosine decay. */
export function makeOptimizer(config: TrainConfig): GradientTransformation<any> {
  const warmup = Math.max(1, config.warmupSteps);
  const decaySteps = config.decaySteps ?? 0;
  const after = decaySteps > 0 ? cosineDecay({ initValue: config.lr, decaySteps, minValue: config.minLr ?? config.lr / 10 }) : constant(config.lr);
  const lr = joinSchedules([linearWarmup({ initValue: config.lr / warmup, peakValue: config.lr, warmupSteps: warmup }), after], [warmup]);
  return chain(clipByGlobalNorm(config.clip), adam({ lr }));
}

/** The model of a configuration over a vocabulary. */
export function makeModel(config: TrainConfig, vocabSize: number): CharModel {
  return charModel({
    vocabSize,
    embeddingDim: config.embeddingDim,
    hiddenSize: config.hiddenSize,
    numLayers: config.numLayers,
    cell: config.cell,
    dropout: config.dropout,
    dtype: 'float32',
  });
}

/**
 * A fresh run: parameters from the seed (drawn on the CPU, so every device starts from the same bits) placed
 * on `device`, the optimiser's initial state beside them, nothing seen yet.
 */
export function initialTrainingState(config: TrainConfig, model: CharModel, optimizer: GradientTransformation<any>, device: Backend = cpu): TrainingState {
  const params = devicePut(model.init(foldIn(randomKey(config.seed), 0)), device);
  return {
    params,
    optState: optimizer.init(params),
    carry: undefined,
    step: 0,
    epoch: 0,
    window: 0,
    charsSeen: 0,
    elapsedMs: 0,
    history: { train: [], valid: [] },
  };
}

/** What every training thread builds its replica from (each gets its own copy). */
interface ReplicaSetup {
  readonly config: TrainConfig;
  readonly vocabSize: number;
  readonly train: Int32Array;
  readonly params: ModelParams;
  readonly optState: unknown;
  /** The carried state of all streams, or undefined at the start of an epoch. */
  readonly carry: CarriedState | undefined;
  readonly jit: boolean;
}

/** A step's input: its window, whether it starts from a zero state, and the run's step count (it picks dropout's masks). */
interface StepInput {
  readonly window: number;
  readonly fresh: boolean;
  readonly step: number;
}

/** What a step gives the loop: the batch's mean loss, the new parameters and optimiser state, and every stream's carried state. */
interface StepOutput {
  readonly loss: number;
  readonly params: ModelParams;
  readonly optState: unknown;
  readonly carry: CarriedState;
}

/** A step of one thread on `device`: its loss still on the device, and the carried state of this thread's streams. */
interface DeviceStepOutput extends Omit<StepOutput, 'loss'> {
  readonly loss: Tensor;
}

/**
 * One thread's steps on `device`: its share of the streams (rows of the batch) and their carried state, and
 * a replica of the parameters and optimiser state, which stays identical on every thread. Each step's batch
 * and dropout key are made on the CPU and placed on the device (a no-op on the CPU).
 */
function windowSteps(setup: ReplicaSetup, thread: Thread | undefined, device: Backend): (input: StepInput) => DeviceStepOutput {
  const { config } = setup;
  const threads = thread?.threads ?? 1;
  const index = thread?.index ?? 0;
  const step = makeStep(makeModel(config, setup.vocabSize), makeOptimizer(config), thread, setup.jit);
  const rows = config.batchSize / threads;
  const first = index * rows;
  const full = batchify(setup.train, config.batchSize);
  const source = threads === 1 ? full : slice(full, [first, 0], [rows, full.shape[1]!]);
  const dropoutKey = foldIn(randomKey(config.seed), 1);
  let { params, optState } = devicePut({ params: setup.params, optState: setup.optState }, device);
  let carry = setup.carry === undefined || threads === 1 ? setup.carry : carryRows(setup.carry, first, rows);
  carry = carry === undefined ? undefined : devicePut(carry, device);
  return ({ window, fresh, step: count }) => {
    const { inputs, targets } = devicePut(getBatch(source, window * config.seqLen, config.seqLen), device);
    // each step's masks (and each thread's, for its own streams) from the run's seed: resuming draws the same ones
    const key = devicePut(keyData(threads === 1 ? foldIn(dropoutKey, count) : foldIn(foldIn(dropoutKey, count), index)), device);
    const result = step(params, optState, inputs, targets, fresh ? undefined : carry, key);
    ({ params, optState, aux: carry } = result);
    return { loss: result.loss, params, optState, carry: result.aux };
  };
}

/**
 * One CPU training thread (see {@link windowSteps}); the loss is read at once and the carried state gathered
 * from every thread.
 * @public worker threads import this module and find the replica among its exports: it stays exported
 */
export const trainingReplica = defineReplica(import.meta.url, 'char-rnn', (setup: ReplicaSetup, thread: Thread) => {
  const step = windowSteps(setup, thread, cpu);
  return (input: StepInput): StepOutput => {
    const result = step(input);
    return { ...result, loss: result.loss.item(), carry: thread.gather(result.carry, 1) };
  };
});

/** The steps of a run: on the CPU a pool of threads (one or more), elsewhere the device on this thread. */
interface Stepper {
  /** Runs a step; its loss is a number, or (on a device) a promise of it, already on its way back. */
  step(input: StepInput): Omit<StepOutput, 'loss'> & { readonly loss: number | Promise<number> };
  close(): void;
}

async function stepper(setup: ReplicaSetup, threads: number, device: Backend): Promise<Stepper> {
  if (device === cpu) return dataParallel(trainingReplica, { threads, setup });
  if (threads !== 1) throw new Error(`char-rnn: ${device.name} trains on one thread, got --threads ${threads}; threads apply to --device cpu only`);
  const step = windowSteps(setup, undefined, device);
  return {
    step: (input) => {
      const result = step(input);
      // the read is queued right behind this step's work, before the next step is encoded
      return { ...result, loss: result.loss.data().then((d) => d[0]!) };
    },
    close: () => {},
  };
}

/** Rows [first, first + rows) of a carried state ([layers, batch, hidden] per field). */
function carryRows(carry: CarriedState, first: number, rows: number): CarriedState {
  const take = (t: Tensor): Tensor => slice(t, [0, first, 0], [t.shape[0]!, rows, t.shape[2]!]);
  return carry.c === undefined ? { h: take(carry.h) } : { h: take(carry.h), c: take(carry.c) };
}

/** When to stop and what to report. */
export interface LoopOptions {
  /** Stop once training time (across resumes) reaches this. */
  readonly budgetMs?: number;
  /** Stop after this many optimiser steps in total. */
  readonly maxSteps?: number;
  /** Stop after this many epochs in total. */
  readonly maxEpochs?: number;
  /** Validate every this many ms of training time (0: never during training). */
  readonly evalEveryMs?: number;
  /** Validation characters used by the periodic evaluation. */
  readonly evalChars?: number;
  /** Average the training loss over this many steps for the curve. */
  readonly logEvery?: number;
  readonly onStep?: (state: TrainingState, loss: number) => void;
  readonly onEval?: (state: TrainingState, validBpc: number) => void | Promise<void>;
  /** Compile the training step with `jit` (default true). */
  readonly jit?: boolean;
  /** Threads to train on, this one included; must divide the batch size (default 1; the CPU only). */
  readonly threads?: number;
  /** Where the step runs (default the CPU); `start`'s tensors may live there or on the CPU. */
  readonly device?: Backend;
}

/** A step whose loss is still on its way back from the device. */
interface PendingLoss {
  readonly loss: number | Promise<number>;
  /** The step it belongs to and the characters seen after it (for messages and the curve). */
  readonly step: number;
  readonly charsSeen: number;
}

/**
 * Runs training from `state` until a stopping condition; returns the state to continue from, its tensors
 * on `options.device`. Every thread builds the step from `config` (`makeModel`, `makeOptimizer`); `model`
 * evaluates the validation split. On a device other than the CPU, `start`'s tensors there are donated to
 * the first step (continue from the returned state), and losses are read one step late: `onStep` then sees
 * step k's loss with the state after step k + 1 (the last loss comes before the loop returns).
 */
export async function trainLoop(config: TrainConfig, corpus: Corpus, model: CharModel, start: TrainingState, options: LoopOptions): Promise<TrainingState> {
  const source = batchify(corpus.train, config.batchSize);
  const windows = countBpttWindows(source.shape[1]!, config.seqLen);
  const threads = options.threads ?? 1;
  const device = options.device ?? cpu;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`char-rnn: --threads must be a positive integer, got ${threads}`);
  if (config.batchSize % threads !== 0) throw new Error(`char-rnn: --threads ${threads} must divide the batch size ${config.batchSize}`);
  const steps = await stepper(
    {
      config,
      vocabSize: corpus.vocab.size,
      train: corpus.train,
      params: start.params,
      optState: start.optState,
      carry: start.carry,
      jit: options.jit !== false,
    },
    threads,
    device,
  );
  const logEvery = options.logEvery ?? 10;
  // how many steps a loss may be read late: none on the CPU (it is a number already), one on a device
  const lag = device === cpu ? 0 : 1;
  let s = start;
  let lossSum = 0;
  let lossCount = 0;
  let lastEval = s.elapsedMs;
  const pending: PendingLoss[] = [];
  const done = (): boolean =>
    (options.budgetMs !== undefined && s.elapsedMs >= options.budgetMs) ||
    (options.maxSteps !== undefined && s.step >= options.maxSteps) ||
    (options.maxEpochs !== undefined && s.epoch >= options.maxEpochs);
  /** Takes in the oldest pending loss: the divergence check, the curve, the progress callback. */
  const settle = async (): Promise<void> => {
    const { loss, step, charsSeen } = pending.shift()!;
    const began = performance.now();
    const value = await loss;
    s = { ...s, elapsedMs: s.elapsedMs + (performance.now() - began) };
    if (!Number.isFinite(value)) throw new Error(`char-rnn: the loss became ${value} at step ${step}; lower --lr or --clip`);
    lossSum += value;
    lossCount++;
    if (lossCount === logEvery) {
      s = { ...s, history: { ...s.history, train: [...s.history.train, { chars: charsSeen, bpc: lossSum / lossCount / Math.LN2 }] } };
      lossSum = 0;
      lossCount = 0;
    }
    options.onStep?.(s, value);
  };

  try {
    while (!done()) {
      const began = performance.now();
      const { loss, params, optState, carry: next } = steps.step({ window: s.window, fresh: s.carry === undefined, step: s.step });
      const lastWindow = s.window + 1 >= windows;
      const charsSeen = s.charsSeen + config.batchSize * Math.min(config.seqLen, source.shape[1]! - 1 - s.window * config.seqLen);
      pending.push({ loss, step: s.step, charsSeen });
      s = {
        params,
        optState,
        // a new epoch starts from a zero state, as PyTorch's word_language_model does
        carry: lastWindow ? undefined : next,
        step: s.step + 1,
        epoch: lastWindow ? s.epoch + 1 : s.epoch,
        window: lastWindow ? 0 : s.window + 1,
        charsSeen,
        elapsedMs: s.elapsedMs + (performance.now() - began),
        history: s.history,
      };
      while (pending.length > lag) await settle();
      if (options.evalEveryMs && s.elapsedMs - lastEval >= options.evalEveryMs && !done()) {
        while (pending.length > 0) await settle();
        lastEval = s.elapsedMs;
        const bpc = await bitsPerCharacter(model, s.params, corpus.valid, { batchSize: config.batchSize, seqLen: config.seqLen, maxChars: options.evalChars });
        s = { ...s, history: { ...s.history, valid: [...s.history.valid, { chars: s.charsSeen, bpc }] } };
        await options.onEval?.(s, bpc);
      }
    }
    while (pending.length > 0) await settle();
  } finally {
    steps.close();
  }
  return s;
}
