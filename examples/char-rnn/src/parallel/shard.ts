/**
 * What one training thread does each step: the loss and gradients of its share of the batch rows (its
 * streams), then, once every thread's gradients are in shared memory, their average and the optimiser
 * update. Every thread applies the same update to the same averaged gradients, so the parameter replicas
 * stay bit-identical without ever being sent around. With one thread there is nothing to share.
 */
import { foldIn, jit, keyData, randomKey, slice, stopGradient, tensor, treeFlatten, treeUnflatten, valueAndGrad, type Key, type Tensor, type TreeDef } from '@tapestry/core';
import { batchify, getBatch } from '@tapestry/data';
import { applyUpdates, type GradientTransformation } from '@tapestry/optim';
import type { CarriedState, CharModel, ModelParams } from '../model.js';
import type { TrainConfig } from '../training.js';
import { Barrier, barrierMemory } from './barrier.js';

/** Memory all threads of a run share. */
export interface SharedTrainingMemory {
  /** The barrier's words (see barrier.ts). */
  readonly barrier: SharedArrayBuffer;
  /** The command of the step about to run: [op, window, fresh carry, step]. */
  readonly command: SharedArrayBuffer;
  /** One float32 region per thread holding its flattened gradients. */
  readonly gradients: SharedArrayBuffer;
  /** One float64 per thread: its loss. */
  readonly losses: SharedArrayBuffer;
  /** The carried state of all streams after the step, `h` then `c`, each [layers, batch, hidden]. */
  readonly carry: SharedArrayBuffer;
}

/** Indices into the command words. */
export const enum Command {
  Op = 0,
  Window = 1,
  Fresh = 2,
  Step = 3,
}

/** The commands. */
export const enum Op {
  Step = 1,
  Stop = 2,
}

/** How a run is split: `threads` shares of `config.batchSize` streams. */
export interface ShardLayout {
  readonly config: TrainConfig;
  readonly threads: number;
  readonly paramCount: number;
  /** Whether the carried state has a `c` (LSTM). */
  readonly hasCell: boolean;
}

/** The shared memory of a run with this layout. */
export function allocateSharedMemory(layout: ShardLayout): SharedTrainingMemory {
  const { config, threads, paramCount } = layout;
  const carrySize = (layout.hasCell ? 2 : 1) * config.numLayers * config.batchSize * config.hiddenSize;
  return {
    barrier: barrierMemory(),
    command: new SharedArrayBuffer(4 * 4),
    gradients: new SharedArrayBuffer(threads * paramCount * 4),
    losses: new SharedArrayBuffer(threads * 8),
    carry: new SharedArrayBuffer(carrySize * 4),
  };
}

/** The rows [start, end) of thread `index`'s streams. */
export function shardRows(config: TrainConfig, threads: number, index: number): [number, number] {
  const rows = config.batchSize / threads;
  return [index * rows, (index + 1) * rows];
}

/**
 * Copies the carried state of `rows` (a [layers, rows, hidden] tensor per field) into or out of the shared
 * full-batch carry ([layers, batch, hidden] per field, `h` first).
 */
function carryRuns(config: TrainConfig, [start, end]: [number, number], field: number, visit: (shared: number, local: number, length: number) => void): void {
  const { numLayers, batchSize, hiddenSize } = config;
  const rows = end - start;
  const fieldSize = numLayers * batchSize * hiddenSize;
  for (let l = 0; l < numLayers; l++) {
    visit(field * fieldSize + (l * batchSize + start) * hiddenSize, l * rows * hiddenSize, rows * hiddenSize);
  }
}

/** Writes a shard's carried state into the shared full-batch carry. */
export function writeCarryRows(config: TrainConfig, rows: [number, number], carry: CarriedState, shared: Float32Array): void {
  [carry.h, carry.c].forEach((t, field) => {
    if (t === undefined) return;
    const data = t.dataSync() as Float32Array;
    carryRuns(config, rows, field, (s, l, n) => shared.set(data.subarray(l, l + n), s));
  });
}

/** Reads the carried state of `rows` from the shared full-batch carry. */
export function readCarryRows(config: TrainConfig, rows: [number, number], hasCell: boolean, shared: Float32Array): CarriedState {
  const shape = [config.numLayers, rows[1] - rows[0], config.hiddenSize];
  const field = (f: number): Tensor => {
    const out = new Float32Array(shape[0]! * shape[1]! * shape[2]!);
    carryRuns(config, rows, f, (s, l, n) => out.set(shared.subarray(s, s + n), l));
    return tensor(out, { shape });
  };
  return hasCell ? { h: field(0), c: field(1) } : { h: field(0) };
}

/** What the compiled whole step returns. */
interface WholeStepResult {
  readonly params: ModelParams;
  readonly optState: unknown;
  readonly loss: Tensor;
  readonly carry: CarriedState;
}

/** One thread's part of a run. */
export class ShardTrainer {
  private readonly source: Tensor;
  private readonly rows: [number, number];
  private readonly gradients: (params: ModelParams, inputs: Tensor, targets: Tensor, carry: CarriedState | undefined, key: Tensor) => [[Tensor, CarriedState], ModelParams];
  private readonly update: (params: ModelParams, optState: unknown, grads: ModelParams) => { params: ModelParams; optState: unknown };
  /** With one thread and jit: the whole step (forward, backward, clipping, Adam) as one compiled function. */
  private readonly wholeStep:
    | ((params: ModelParams, optState: unknown, inputs: Tensor, targets: Tensor, carry: CarriedState | undefined, key: Tensor) => WholeStepResult)
    | undefined;
  private readonly barrier: Barrier | undefined;
  private readonly command: Int32Array | undefined;
  private readonly dropoutKey: Key;

  /**
   * @param params - the parameters (every thread starts from the same ones)
   * @param optState - the optimiser state (likewise)
   * @param carry - this shard's carried state, or undefined at the start of an epoch
   */
  constructor(
    private readonly layout: ShardLayout,
    private readonly index: number,
    train: Int32Array,
    model: CharModel,
    optimizer: GradientTransformation<any>,
    public params: ModelParams,
    public optState: unknown,
    public carry: CarriedState | undefined,
    private readonly shared: SharedTrainingMemory | undefined,
    useJit: boolean,
  ) {
    const { config, threads } = layout;
    this.rows = shardRows(config, threads, index);
    const full = batchify(train, config.batchSize);
    this.source = threads === 1 ? full : slice(full, [this.rows[0], 0], [this.rows[1] - this.rows[0], full.shape[1]!]);
    this.dropoutKey = foldIn(randomKey(config.seed), 1);
    // dropout's masks come from a key tensor argument, so a compiled step draws new ones at every call
    const training = config.dropout > 0;
    const lossAndGrad = valueAndGrad(
      (params: ModelParams, inputs: Tensor, targets: Tensor, carry: CarriedState | undefined, key: Tensor) =>
        model.loss(params, inputs, targets, carry, { training, key }),
      0,
      { hasAux: true },
    ) as (params: ModelParams, inputs: Tensor, targets: Tensor, carry: CarriedState | undefined, key: Tensor) => [[Tensor, CarriedState], ModelParams];
    const applyOptimizer = (params: ModelParams, optState: unknown, grads: ModelParams) => {
      const { updates, state } = optimizer.update(grads, optState, params);
      return { params: applyUpdates(params, updates), optState: state };
    };
    if (useJit) {
      // each call replaces the carried state, the parameters, the optimiser state and the gradients: donate them
      this.gradients = jit(lossAndGrad, { donate: [3] });
      this.update = jit(applyOptimizer, { donate: [0, 1, 2] });
      if (threads === 1) {
        this.wholeStep = jit(
          (params: ModelParams, optState: unknown, inputs: Tensor, targets: Tensor, carry: CarriedState | undefined, key: Tensor): WholeStepResult => {
            const [[loss, next], grads] = lossAndGrad(params, inputs, targets, carry, key);
            return { ...applyOptimizer(params, optState, grads), loss, carry: next };
          },
          { donate: [0, 1, 4] },
        );
      }
    } else {
      this.gradients = lossAndGrad;
      this.update = applyOptimizer;
    }
    if (shared !== undefined) {
      this.barrier = new Barrier(shared.barrier, threads);
      this.command = new Int32Array(shared.command);
    }
  }

  /** Waits for the next command (every thread, the coordinating one after writing it). */
  awaitCommand(): Op {
    this.barrier!.arrive();
    return Atomics.load(this.command!, Command.Op) as Op;
  }

  /** Runs the step the shared command describes. Returns this shard's loss. */
  runCommandedStep(): number {
    const c = this.command!;
    return this.step(Atomics.load(c, Command.Window), Atomics.load(c, Command.Fresh) === 1, Atomics.load(c, Command.Step));
  }

  /**
   * One step on window `window` (starting from a zero state when `fresh`), `step` being the run's step count
   * (it picks the dropout masks). Returns this shard's loss.
   */
  step(window: number, fresh: boolean, step: number): number {
    const { config, threads } = this.layout;
    const { inputs, targets } = getBatch(this.source, window * config.seqLen, config.seqLen);
    // each step's masks (and each thread's, for its own streams) from the run's seed: resuming draws the same ones
    const key = keyData(threads === 1 ? foldIn(this.dropoutKey, step) : foldIn(foldIn(this.dropoutKey, step), this.index));
    if (this.wholeStep !== undefined) {
      const result = this.wholeStep(this.params, this.optState, inputs, targets, fresh ? undefined : this.carry, key);
      ({ params: this.params, optState: this.optState, carry: this.carry } = result);
      return result.loss.item();
    }
    const [[loss, next], grads] = this.gradients(this.params, inputs, targets, fresh ? undefined : this.carry, key);
    this.carry = stopGradient(next);
    const value = loss.item();
    const averaged = threads === 1 ? grads : this.averageAcrossThreads(grads, value);
    ({ params: this.params, optState: this.optState } = this.update(this.params, this.optState, averaged));
    return value;
  }

  /** Publishes this shard's gradients, loss and carry, waits for the others, and returns the mean gradients. */
  private averageAcrossThreads(grads: ModelParams, loss: number): ModelParams {
    const { config, threads, paramCount } = this.layout;
    const shared = this.shared!;
    const [leaves, def] = treeFlatten<Tensor>(grads);
    const all = new Float32Array(shared.gradients);
    let offset = this.index * paramCount;
    for (const leaf of leaves) {
      all.set(leaf.dataSync(), offset);
      offset += leaf.size;
    }
    new Float64Array(shared.losses)[this.index] = loss;
    writeCarryRows(config, this.rows, this.carry!, new Float32Array(shared.carry));
    this.barrier!.arrive();
    return meanGradients(all, leaves, def, threads, paramCount);
  }
}

/** The mean of every thread's region, summed in thread order (so every thread gets the same bits), as a tree like `leaves`. */
function meanGradients(all: Float32Array, leaves: readonly Tensor[], def: TreeDef, threads: number, paramCount: number): ModelParams {
  let offset = 0;
  const means = leaves.map((leaf) => {
    const out = new Float32Array(leaf.size);
    for (let i = 0; i < leaf.size; i++) {
      let s = 0;
      for (let t = 0; t < threads; t++) s += all[t * paramCount + offset + i]!;
      out[i] = s / threads;
    }
    offset += leaf.size;
    return tensor(out, { shape: leaf.shape });
  });
  return treeUnflatten(def, means) as ModelParams;
}
