import type { CharRnnSizes } from './char-rnn-replica.js';

/**
 * The sizes every workload runs at. `full` is the benchmark of the performance issue (one-layer H = 128 on
 * one-hot V = 65, batch 32 × 64 steps; W7 the char-RNN's default model on Moby-Dick's 84 characters);
 * `smoke` is small enough for the CI smoke test to run every workload in seconds.
 */
export interface BenchSizes {
  /** Sequences per batch N. */
  readonly batch: number;
  /** Time steps per sequence T. */
  readonly steps: number;
  /** Vocabulary V: the one-hot input width and the number of classes of the head. */
  readonly vocab: number;
  /** Hidden units H of the recurrent layer. */
  readonly hidden: number;
  /** Square sizes of the W4 matrix products. */
  readonly matmul: readonly number[];
  /** Sequence lengths at which W6 measures the memory of a training step. */
  readonly memorySteps: readonly number[];
  /** W7's model and batch. */
  readonly charRnn: CharRnnSizes;
}

/** The sizes. */
export const FULL_SIZES: BenchSizes = {
  batch: 32,
  steps: 64,
  vocab: 65,
  hidden: 128,
  matmul: [256, 1024],
  memorySteps: [64, 512],
  charRnn: { batch: 32, steps: 64, vocab: 84, embedding: 64, hidden: 256, layers: 2 },
};

/** Tiny sizes for the smoke test: every code path, no meaningful timing. */
export const SMOKE_SIZES: BenchSizes = {
  // even, so that two threads can halve it
  batch: 4,
  steps: 5,
  vocab: 7,
  hidden: 8,
  matmul: [8, 16],
  memorySteps: [4, 8],
  charRnn: { batch: 4, steps: 5, vocab: 7, embedding: 3, hidden: 4, layers: 2 },
};
