/**
 * A training worker thread: rebuilds the model and optimiser from the run's configuration, takes its share
 * of the streams, and runs steps as the coordinating thread commands them until told to stop.
 */
import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { makeModel, makeOptimizer } from '../training.js';
import type { CarriedState, ModelParams } from '../model.js';
import { Barrier } from './barrier.js';
import { Op, ShardTrainer, type ShardLayout, type SharedTrainingMemory } from './shard.js';
import { decodeTree } from './transfer.js';

/** What the coordinating thread hands a worker. */
export interface WorkerSetup {
  readonly layout: ShardLayout;
  readonly index: number;
  readonly vocabSize: number;
  readonly train: Int32Array;
  readonly params: unknown;
  readonly optState: unknown;
  readonly carry: unknown;
  readonly shared: SharedTrainingMemory;
  readonly useJit: boolean;
}

const setup = workerData as WorkerSetup;
try {
  const { layout } = setup;
  const model = makeModel(layout.config, setup.vocabSize);
  const shard = new ShardTrainer(
    layout,
    setup.index,
    setup.train,
    model,
    makeOptimizer(layout.config),
    decodeTree(setup.params) as ModelParams,
    decodeTree(setup.optState),
    decodeTree(setup.carry) as CarriedState | undefined,
    setup.shared,
    setup.useJit,
  );
  while (shard.awaitCommand() === Op.Step) shard.runCommandedStep();
} catch (error) {
  // straight to stderr: the coordinating thread is blocked at the barrier and cannot relay messages
  writeSync(2, `char-rnn worker ${setup.index}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  new Barrier(setup.shared.barrier, setup.layout.threads).fail();
}
