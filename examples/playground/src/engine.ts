/** What the trainer asks of whatever computes its steps: the CPU's threads, or the GPU. */
import type { PlaygroundParams } from './model.js';
import type { ReplicaInput } from './replica.js';

/** A run's compute: it owns the parameters and optimiser state while training. */
export interface TrainingEngine {
  /** Where it computes, for the page: "CPU, 2 threads", "WebGPU (…)". */
  readonly description: string;
  /**
   * How many steps may be submitted before the oldest one's loss is awaited: 1 where a step finishes before
   * it returns (the CPU), 2 where the device runs one step while the next is encoded (the GPU).
   */
  readonly depth: number;
  /** Submits one step; resolves to the batch's mean loss in nats once it is known. */
  step(input: ReplicaInput): Promise<number>;
  /** The parameters after the last submitted step, as CPU tensors. */
  params(): Promise<PlaygroundParams>;
  /** Stops its threads or lets go of its buffers; the engine cannot step afterwards. */
  close(): void;
}
