/**
 * W1–W3 on several threads: every thread of a @tapestry/parallel pool builds the bench's tapestry model
 * (`tapestry-model.ts`) on its own rows of the batch. Training averages the loss and gradients across the
 * threads and applies the same Adam update on each; the forward workload averages the loss. With equal
 * rows per thread, the mean of the rows' mean losses is the batch's mean loss, so a pool computes the
 * one-thread numbers up to float rounding (the warm-up check holds it to that).
 */
import { defineReplica, type Thread } from '@tapestry/parallel';
import type { Batch, CellKind, InitialWeights } from './data.js';
import type { BenchSizes } from './sizes.js';
import { tapestryModel } from './tapestry-model.js';

/** What every thread builds its replica from: the whole batch and the initial weights (each thread takes its rows). */
export interface ModelReplicaSetup {
  readonly cell: CellKind;
  readonly mode: 'train' | 'forward';
  readonly sizes: BenchSizes;
  readonly weights: InitialWeights;
  readonly batch: Batch;
}

/** Rows [first, first + rows) of a batch of `steps` time steps over `vocab` classes. */
export function batchRows(batch: Batch, steps: number, vocab: number, first: number, rows: number): Batch {
  return {
    x: batch.x.subarray(first * steps * vocab, (first + rows) * steps * vocab),
    targets: batch.targets.subarray(first * steps, (first + rows) * steps),
  };
}

/**
 * One thread of W1–W3: the model on `sizes.batch / threads` rows. Each step returns the whole batch's loss
 * (the mean over the threads); it throws if `jit` compiled a second signature, so timed steps are replays.
 */
export const modelReplica = defineReplica(import.meta.url, 'bench-model', (setup: ModelReplicaSetup, thread: Thread) => {
  const { sizes } = setup;
  if (sizes.batch % thread.threads !== 0) {
    throw new Error(`bench: ${thread.threads} threads must divide the batch of ${sizes.batch} rows, so every thread's rows weigh the same in the mean`);
  }
  const rows = sizes.batch / thread.threads;
  const shard = batchRows(setup.batch, sizes.steps, sizes.vocab, thread.index * rows, rows);
  const model = tapestryModel(setup.cell, setup.weights, shard, { ...sizes, batch: rows }, { thread });
  const run = setup.mode === 'train' ? model.train : model.forward;
  return (): number => {
    const loss = run();
    if (model.compiledSignatures() > 1) {
      throw new Error(`bench: thread ${thread.index} traced again (${model.compiledSignatures()} signatures), so it measures tracing, not replay`);
    }
    return loss;
  };
});
