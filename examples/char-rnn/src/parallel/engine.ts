/**
 * The training engine: runs steps on `threads` threads, the calling one included. The batch's streams are
 * split between the threads (data parallelism); each computes its share's gradients with the compiled step,
 * the gradients are averaged through shared memory, and every thread applies the same optimiser update. With
 * one thread it is just the (compiled) step. Node-only: it uses worker_threads.
 */
import { Worker } from 'node:worker_threads';
import { slice, treeLeaves, type Tensor } from '@tapestry/core';
import type { GradientTransformation } from '@tapestry/optim';
import type { CarriedState, CharModel, ModelParams } from '../model.js';
import type { TrainConfig } from '../training.js';
import { allocateSharedMemory, Command, Op, readCarryRows, shardRows, ShardTrainer, type ShardLayout } from './shard.js';
import { encodeTree } from './transfer.js';
import type { WorkerSetup } from './worker.js';

/** Where the run starts. */
export interface EngineStart {
  readonly params: ModelParams;
  readonly optState: unknown;
  readonly carry: CarriedState | undefined;
}

/** What a step returns: the mean loss over the batch, and the new parameters, optimiser state and carry. */
export interface EngineStep {
  readonly loss: number;
  readonly params: ModelParams;
  readonly optState: unknown;
  readonly carry: CarriedState;
}

/** Runs training steps; `close` stops its worker threads. */
export interface TrainingEngine {
  /** One step on `window`; `fresh` starts it from a zero state; `step` is the run's step count. */
  step(window: number, fresh: boolean, step: number): EngineStep;
  close(): void;
}

/** Options of {@link createEngine}. */
export interface EngineOptions {
  /** Threads to train on, this one included (must divide the batch size). */
  readonly threads: number;
  /** Compile the step with jit. */
  readonly jit: boolean;
}

/** Builds the engine for a run starting at `start`. */
export function createEngine(
  config: TrainConfig, vocabSize: number, train: Int32Array, model: CharModel, optimizer: GradientTransformation<any>, start: EngineStart,
  options: EngineOptions,
): TrainingEngine {
  const { threads } = options;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`char-rnn: --threads must be a positive integer, got ${threads}`);
  if (config.batchSize % threads !== 0) throw new Error(`char-rnn: --threads ${threads} must divide the batch size ${config.batchSize}`);
  const paramCount = treeLeaves<Tensor>(start.params).reduce((n, t) => n + t.size, 0);
  const layout: ShardLayout = { config, threads, paramCount, hasCell: config.cell === 'lstm' };
  if (threads === 1) {
    const shard = new ShardTrainer(layout, 0, train, model, optimizer, start.params, start.optState, start.carry, undefined, options.jit);
    return {
      step(window, fresh, step) {
        const loss = shard.step(window, fresh, step);
        return { loss, params: shard.params, optState: shard.optState, carry: shard.carry! };
      },
      close() {},
    };
  }
  const shared = allocateSharedMemory(layout);
  const carryOf = (index: number): CarriedState | undefined =>
    start.carry === undefined ? undefined : sliceCarry(start.carry, shardRows(config, threads, index));
  const workers: Worker[] = [];
  for (let index = 1; index < threads; index++) {
    const setup: WorkerSetup = {
      layout, index, vocabSize, train, shared, useJit: options.jit,
      params: encodeTree(start.params), optState: encodeTree(start.optState), carry: encodeTree(carryOf(index)),
    };
    const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: setup, execArgv: [] });
    worker.unref();
    workers.push(worker);
  }
  const main = new ShardTrainer(layout, 0, train, model, optimizer, start.params, start.optState, carryOf(0), shared, options.jit);
  const command = new Int32Array(shared.command);
  const losses = new Float64Array(shared.losses);
  const carry = new Float32Array(shared.carry);
  const allRows: [number, number] = [0, config.batchSize];
  return {
    step(window, fresh, step) {
      Atomics.store(command, Command.Op, Op.Step);
      Atomics.store(command, Command.Window, window);
      Atomics.store(command, Command.Fresh, fresh ? 1 : 0);
      Atomics.store(command, Command.Step, step);
      main.awaitCommand();
      main.runCommandedStep();
      let loss = 0;
      for (let t = 0; t < threads; t++) loss += losses[t]!;
      return { loss: loss / threads, params: main.params, optState: main.optState, carry: readCarryRows(config, allRows, layout.hasCell, carry) };
    },
    close() {
      Atomics.store(command, Command.Op, Op.Stop);
      main.awaitCommand();
      for (const w of workers) void w.terminate();
    },
  };
}

/** The rows [start, end) of a full-batch carried state. */
function sliceCarry(carry: CarriedState, [start, end]: [number, number]): CarriedState {
  const rows = (t: Tensor): Tensor => slice(t, [0, start, 0], [t.shape[0]!, end - start, t.shape[2]!]);
  return carry.c === undefined ? { h: rows(carry.h) } : { h: rows(carry.h), c: rows(carry.c) };
}
