/**
 * What every CPU thread of a run does (`@tapestry/parallel`'s replica): it takes its equal share of the
 * batch's streams, carries its own recurrent state from window to window, and runs the compiled step, whose
 * gradients are averaged over the threads before the update, so every thread holds the same parameters.
 * On one thread this is the whole step compiled as one `jit` function.
 *
 * Only types come from `@tapestry/parallel` here: the one-thread run must not load it (see cpu-engine.ts).
 */
import { slice, type Tensor } from '@tapestry/core';
import { getBatch } from '@tapestry/data';
import type { ReplicaStep, Thread, TrainingStep, TrainingStepParts } from '@tapestry/parallel';
import type { PlaygroundConfig } from './config.js';
import { playgroundModel, type Carry, type PlaygroundParams } from './model.js';
import { playgroundOptimizer, stepKey, stepParts, type StepArgs } from './step.js';

/** The replica's name in its module. */
export const REPLICA_NAME = 'playground-training';

/** What every thread builds its replica from (each thread gets its own copy). */
export interface ReplicaSetup {
  readonly config: PlaygroundConfig;
  readonly vocabSize: number;
  /** The training text as int32 ids, `batchSize` streams: [batchSize, steps]. */
  readonly source: Tensor;
  /** The parameters to start from. */
  readonly params: PlaygroundParams;
}

/** One step's orders, the same on every thread. */
export interface ReplicaInput {
  /** The optimiser step about to be taken (it picks the dropout key). */
  readonly step: number;
  /** Which truncated-BPTT window of the epoch; window 0 starts from a zero state. */
  readonly window: number;
}

/** What a step gives the coordinating thread. */
export interface ReplicaOutput {
  /** The batch's mean loss in nats (every thread's share averaged). */
  readonly loss: Tensor;
  /** The parameters after the step: valid until the next step, which takes their storage. */
  readonly params: PlaygroundParams;
}

/** This thread's streams: rows [index · n/threads, (index + 1) · n/threads) of the source. */
export function shareOf(source: Tensor, thread: Pick<Thread, 'index' | 'threads'>): Tensor {
  const [streams, steps] = source.shape as [number, number];
  if (streams % thread.threads !== 0) {
    throw new Error(`playground: ${streams} streams do not split evenly over ${thread.threads} threads; choose a thread count that divides the batch`);
  }
  const rows = streams / thread.threads;
  return slice(source, [thread.index * rows, 0], [rows, steps]);
}

/**
 * Compiles the step's two halves for a thread: `@tapestry/parallel`'s `trainingStep` on a pool's thread
 * (replica-entry.ts), or {@link soloStep} on a run of one thread.
 */
export type StepCompiler = (parts: TrainingStepParts<PlaygroundParams, unknown, StepArgs, Carry>) => TrainingStep<PlaygroundParams, unknown, StepArgs, Carry>;

/** Builds a thread's replica (see the module comment); its first step takes the storage of `setup.params`. */
export function buildReplica(setup: ReplicaSetup, thread: Pick<Thread, 'index' | 'threads'>, compile: StepCompiler): ReplicaStep<ReplicaInput, ReplicaOutput> {
  const { config } = setup;
  const model = playgroundModel(config, setup.vocabSize);
  const optimizer = playgroundOptimizer(config);
  const step = compile(stepParts(model, optimizer));
  const share = shareOf(setup.source, thread);
  let params = setup.params;
  let optState = optimizer.init(params);
  let carry: Carry | undefined;
  return ({ step: k, window }) => {
    if (window === 0) carry = undefined;
    const { inputs, targets } = getBatch(share, window * config.seqLen, config.seqLen);
    const result = step(params, optState, inputs, targets, carry, stepKey(config.seed, k, thread));
    ({ params, optState } = result);
    carry = result.aux;
    return { loss: result.loss, params };
  };
}
