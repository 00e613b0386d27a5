/** What the page's controls set: the model, the windows and the optimiser. */

/** The recurrent cells the playground trains: the three built-ins, or the one written in the editor. */
export type PlaygroundCell = 'lstm' | 'gru' | 'rnn' | 'custom';

/** Everything that defines a run. Stored in downloaded weights, so an upload rebuilds the same model. */
export interface PlaygroundConfig {
  readonly cell: PlaygroundCell;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly embeddingDim: number;
  /** Characters per truncated-BPTT window. */
  readonly seqLen: number;
  /** Parallel streams per batch. */
  readonly batchSize: number;
  readonly lr: number;
  /** Dropout on the embeddings, between layers and before the head (training only). */
  readonly dropout: number;
  /** Largest global gradient norm (clipByGlobalNorm). */
  readonly clip: number;
  readonly seed: number;
  /** The custom cell's source (used when `cell` is 'custom'). */
  readonly cellSource?: string;
}

/** Small enough to train visibly within seconds on one core. */
export const DEFAULT_CONFIG: PlaygroundConfig = {
  cell: 'lstm',
  hiddenSize: 128,
  numLayers: 1,
  embeddingDim: 32,
  seqLen: 32,
  batchSize: 16,
  lr: 5e-3,
  dropout: 0,
  clip: 5,
  seed: 0,
};

/** Checks a configuration's numbers, naming the control at fault. */
export function validateConfig(config: PlaygroundConfig): void {
  const positiveInts: (keyof PlaygroundConfig)[] = ['hiddenSize', 'numLayers', 'embeddingDim', 'seqLen', 'batchSize'];
  for (const name of positiveInts) {
    const v = config[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`playground: ${name} must be a positive integer, got ${String(v)}`);
  }
  if (!(config.lr > 0)) throw new Error(`playground: the learning rate must be > 0, got ${config.lr}`);
  if (!(config.dropout >= 0 && config.dropout < 1)) throw new Error(`playground: dropout must be in [0, 1), got ${config.dropout}`);
  if (!(config.clip > 0)) throw new Error(`playground: clip must be > 0, got ${config.clip}`);
  if (config.cell === 'custom' && !config.cellSource) throw new Error('playground: the custom cell needs its source');
}

/** Where a run computes: the CPU on some threads, or the GPU. Not part of the model, so not in weights files. */
export interface ComputeSettings {
  readonly device: 'cpu' | 'webgpu';
  /** CPU threads, the training worker included (ignored on WebGPU). */
  readonly threads: number;
}

/** The most threads the page offers by default: past this, a small model waits on the threads' meetings more than it computes. */
const MAX_DEFAULT_THREADS = 8;

/**
 * The default thread count: 1 without shared memory (a page that is not cross-origin isolated), else the
 * largest power of two up to the logical cores and {@link MAX_DEFAULT_THREADS}, so the default batch splits
 * into equal shares.
 */
export function defaultThreads(cores: number, crossOriginIsolated: boolean): number {
  if (!crossOriginIsolated || !(cores >= 2)) return 1;
  let threads = 1;
  while (threads * 2 <= Math.min(cores, MAX_DEFAULT_THREADS)) threads *= 2;
  return threads;
}

/** Checks compute settings against a run's configuration: every thread takes an equal share of the streams. */
export function validateCompute(compute: ComputeSettings, config: PlaygroundConfig): void {
  if (compute.device !== 'cpu' && compute.device !== 'webgpu')
    throw new Error(`playground: the device must be 'cpu' or 'webgpu', got ${String(compute.device)}`);
  if (compute.device === 'webgpu') return;
  const { threads } = compute;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`playground: threads must be a positive integer, got ${String(threads)}`);
  if (config.batchSize % threads !== 0) {
    throw new Error(
      `playground: a batch of ${config.batchSize} streams does not split evenly over ${threads} threads; choose a thread count that divides the batch`,
    );
  }
}
