/**
 * A training run: truncated BPTT over parallel streams of the text, the whole step (forward, backward,
 * clipping, Adam; step.ts) compiled once per signature and run by an engine: `@tapestry/parallel`'s pool
 * of CPU threads, or the GPU. The worker drives it one step at a time, so the page can pause, resume, sample
 * and download between any two steps.
 */
import { foldIn, randomKey, reshape, type Tensor } from '@tapestry/core';
import { batchify, countBpttWindows, decodeSafetensors, encodeSafetensors, generate, getBatch, splitByPosition, Vocabulary } from '@tapestry/data';
import { validateCompute, validateConfig, type PlaygroundConfig } from './config.js';
import { cpuEngine, type CpuCompute } from './cpu-engine.js';
import type { TrainingEngine } from './engine.js';
import { gpuEngine, type GpuCompute } from './gpu-engine.js';
import { playgroundModel, type Carry, type PlaygroundModel, type PlaygroundParams } from './model.js';

/** The `format` metadata of the playground's weights files. */
const WEIGHTS_FORMAT = 'tapestry-playground/1';

/** What one step reports. */
export interface StepReport {
  /** Optimiser steps so far. */
  readonly step: number;
  /** This step's mean training loss in bits per character. */
  readonly bitsPerChar: number;
  /** Characters trained on so far. */
  readonly chars: number;
  /** Training characters per second of training time so far. */
  readonly charsPerSecond: number;
}

/** Options of {@link Trainer.sample}. */
export interface SampleOptions {
  readonly length: number;
  readonly temperature: number;
  /** Keep only the k most likely characters at each step (0: all). */
  readonly topK: number;
  readonly prompt?: string;
  readonly seed?: number;
}

/** Where a run computes: the CPU's threads or the GPU, with what each needs. */
export type Compute = CpuCompute | GpuCompute;

/** A run: the model, the engine that holds its parameters and optimiser state, and the position in the text. */
export class Trainer {
  readonly model: PlaygroundModel;
  private readonly windows: number;
  private window = 0;
  /** Optimiser steps submitted so far. */
  step = 0;
  /** Characters trained on so far. */
  chars = 0;
  private elapsedMs = 0;
  /** When the last step resolved: steps in flight overlap, so each counts only its own new time. */
  private lastDone = 0;
  /** The CPU parameters as of {@link paramsStep} (a cache: reading them from a device is asynchronous). */
  private hostParams: PlaygroundParams;
  private paramsStep: number;

  private constructor(
    readonly config: PlaygroundConfig,
    readonly vocab: Vocabulary,
    private readonly engine: TrainingEngine,
    params: PlaygroundParams,
    /** The held-out ids. */
    private readonly valid: Int32Array,
    /** Steps per training stream. */
    private readonly streamLength: number,
    startStep: number,
  ) {
    this.model = playgroundModel(config, vocab.size);
    this.hostParams = params;
    this.windows = countBpttWindows(streamLength, config.seqLen);
    this.step = startStep;
    this.paramsStep = startStep;
  }

  /**
   * Starts a run on `text` (90% trains, the last 10% validates) computing as `compute` says.
   * @param config - the run's settings
   * @param vocab - the characters the model reads (from the training text, or from uploaded weights)
   * @param options.params - parameters to start from (uploaded weights); fresh ones from the seed when absent
   * @param options.step - the step count they were saved at
   */
  static async create(
    config: PlaygroundConfig,
    vocab: Vocabulary,
    text: string,
    compute: Compute,
    options: { params?: PlaygroundParams; step?: number } = {},
  ): Promise<Trainer> {
    validateConfig(config);
    validateCompute(compute.device === 'cpu' ? compute : { device: 'webgpu', threads: 1 }, config);
    const chars = Array.from(text);
    const [train, valid] = splitByPosition(chars, [0.9, 0.1]) as [string[], string[]];
    const minChars = config.batchSize * (config.seqLen + 1);
    if (train.length < minChars) {
      throw new Error(
        `playground: the text is too short: ${chars.length} characters; ${config.batchSize} streams of ${config.seqLen + 1} need ${Math.ceil(minChars / 0.9)}`,
      );
    }
    const model = playgroundModel(config, vocab.size);
    const params = options.params ?? model.init(foldIn(randomKey(config.seed), 0));
    const source = batchify(vocab.encode(train), config.batchSize);
    const setup = { config, vocabSize: vocab.size, source, params };
    const engine = compute.device === 'cpu' ? await cpuEngine(compute, setup) : gpuEngine(compute, setup);
    return new Trainer(config, vocab, engine, params, vocab.encode(valid), source.shape[1]!, options.step ?? 0);
  }

  /** A fresh run on `text` with a vocabulary built from its training part. */
  static fromText(config: PlaygroundConfig, text: string, compute: Compute): Promise<Trainer> {
    const [train] = splitByPosition(Array.from(text), [0.9, 0.1]) as [string[], string[]];
    return Trainer.create(config, Vocabulary.fromCharacters(train.join('')), text, compute);
  }

  /** Where the run computes, in words. */
  get device(): string {
    return this.engine.description;
  }

  /** How many steps may be in flight before the oldest's report is awaited (see {@link TrainingEngine.depth}). */
  get depth(): number {
    return this.engine.depth;
  }

  /**
   * Submits one optimiser step on the next window (the state carries over, gradient stopped, until the
   * epoch ends); resolves to its report once its loss is known.
   */
  trainStep(): Promise<StepReport> {
    const { seqLen, batchSize } = this.config;
    const submitted = performance.now();
    const step = this.step;
    const window = this.window;
    this.window = window + 1 >= this.windows ? 0 : window + 1;
    this.step++;
    // the epoch's last window may be shorter: a stream of T steps has T − 1 targets
    const chars = batchSize * Math.min(seqLen, this.streamLength - 1 - window * seqLen);
    return this.engine.step({ step, window }).then((loss) => {
      if (!Number.isFinite(loss)) throw new Error(`playground: the loss became ${loss} at step ${step}; lower the learning rate or the clip`);
      const now = performance.now();
      this.elapsedMs += now - Math.max(submitted, this.lastDone);
      this.lastDone = now;
      this.chars += chars;
      return { step: step + 1, bitsPerChar: loss / Math.LN2, chars: this.chars, charsPerSecond: this.chars / (this.elapsedMs / 1000) };
    });
  }

  /** The parameters after the last submitted step, as CPU tensors. */
  async params(): Promise<PlaygroundParams> {
    if (this.paramsStep !== this.step) {
      const step = this.step;
      this.hostParams = await this.engine.params();
      this.paramsStep = step;
    }
    return this.hostParams;
  }

  /** Stops the engine's threads; the run cannot step afterwards. */
  close(): void {
    this.engine.close();
  }

  /** Validation bits per character over at most `maxChars` of the held-out text (no dropout), on the CPU. */
  async validate(maxChars = 4096): Promise<number> {
    const params = await this.params();
    const ids = this.valid.subarray(0, Math.min(this.valid.length, maxChars + 1));
    if (ids.length < 2) return NaN;
    const streams = Math.max(1, Math.min(this.config.batchSize, Math.floor((ids.length - 1) / 2)));
    const source = batchify(ids, streams);
    let carry: Carry | undefined;
    let nats = 0;
    let count = 0;
    for (let i = 0; i < source.shape[1]! - 1; i += this.config.seqLen) {
      const { inputs, targets } = getBatch(source, i, this.config.seqLen);
      const [loss, next] = this.model.loss(params, inputs, targets, carry);
      nats += loss.item() * targets.size;
      count += targets.size;
      carry = next;
    }
    return nats / count / Math.LN2;
  }

  /** Text from the model, on the CPU: the prompt (default a newline) fed in, then `length` characters drawn one by one. */
  async sample(options: SampleOptions): Promise<string> {
    const params = await this.params();
    const prompt = options.prompt && options.prompt.length > 0 ? options.prompt : '\n';
    const V = this.vocab.size;
    const ids = generate<Carry | undefined>({
      step: (last: Tensor, state) => {
        const { logits, state: next } = this.model.apply(params, reshape(last, [1, 1]), state);
        return { logits: reshape(logits, [1, V]), state: next };
      },
      initialState: undefined,
      prompt: this.vocab.encode(prompt),
      maxLength: options.length,
      key: foldIn(randomKey(options.seed ?? 0), this.step),
      sampling: { temperature: options.temperature, ...(options.topK > 0 ? { topK: Math.min(options.topK, V) } : {}) },
    });
    return this.vocab.decode(ids);
  }

  /** The weights as safetensors: PyTorch state-dict names, with the configuration and vocabulary as metadata. */
  async exportWeights(): Promise<Uint8Array> {
    const params = await this.params();
    return encodeSafetensors(this.model.toStateDict(params), {
      format: WEIGHTS_FORMAT,
      config: JSON.stringify(this.config),
      vocab: JSON.stringify(this.vocab.toJSON()),
      step: String(this.step),
    });
  }
}

/** What a weights file holds: the configuration, the vocabulary and the parameters (checked against the model). */
export interface LoadedWeights {
  readonly config: PlaygroundConfig;
  readonly vocab: Vocabulary;
  readonly params: PlaygroundParams;
  readonly step: number;
}

/** Reads a file written by {@link Trainer.exportWeights}. */
export function importWeights(bytes: Uint8Array): LoadedWeights {
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (metadata?.format !== WEIGHTS_FORMAT || metadata.config === undefined || metadata.vocab === undefined) {
    throw new Error(
      `playground: not a playground weights file (its metadata format is ${String(metadata?.format)}, expected ${WEIGHTS_FORMAT} with config and vocab)`,
    );
  }
  const config = JSON.parse(metadata.config) as PlaygroundConfig;
  validateConfig(config);
  const vocab = Vocabulary.fromJSON(JSON.parse(metadata.vocab));
  const model = playgroundModel(config, vocab.size);
  // the recurrent layer checks its own entries; the embedding and the head are checked here
  const expected = model.toStateDict(model.init(randomKey(0)));
  for (const name of ['embedding.weight', 'head.weight', 'head.bias']) {
    const want = expected[name]?.shape.join(', ');
    const got = tensors[name]?.shape.join(', ');
    if (want !== got) throw new Error(`playground: ${name} in the weights file is [${got ?? 'missing'}], the model needs [${want ?? 'none'}]`);
  }
  return { config, vocab, params: model.fromStateDict(tensors), step: Number(metadata.step ?? 0) };
}
