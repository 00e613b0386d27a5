/**
 * A training run in plain view: truncated BPTT over parallel streams of the text, the whole step
 * (forward, backward, clipping, Adam) compiled once with `jit`. The worker drives it one step at a time,
 * so the page can pause, resume, sample and download between any two steps.
 */
import { foldIn, jit, keyData, randomKey, reshape, valueAndGrad, type Tensor } from '@tapestry/core';
import { batchify, countBpttWindows, decodeSafetensors, encodeSafetensors, generate, getBatch, splitByPosition, Vocabulary } from '@tapestry/data';
import { adam, applyUpdates, chain, clipByGlobalNorm, type GradientTransformation } from '@tapestry/optim';
import { validateConfig, type PlaygroundConfig } from './config.js';
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
  /** Training characters per second of step time so far. */
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

type WholeStep = (params: PlaygroundParams, optState: unknown, inputs: Tensor, targets: Tensor, carry: Carry | undefined, key: Tensor)
  => { params: PlaygroundParams; optState: unknown; loss: Tensor; carry: Carry };

/** A run: the model, its parameters, the optimiser state, the position in the text and the carried state. */
export class Trainer {
  readonly model: PlaygroundModel;
  params: PlaygroundParams;
  private optState: unknown;
  private readonly optimizer: GradientTransformation<unknown>;
  private readonly source: Tensor;
  private readonly valid: Int32Array;
  private readonly windows: number;
  private readonly wholeStep: WholeStep;
  private carry: Carry | undefined;
  private window = 0;
  step = 0;
  chars = 0;
  private elapsedMs = 0;

  /**
   * @param config - the run's settings
   * @param vocab - the characters the model reads (from the training text, or from uploaded weights)
   * @param text - the text to train on (90% trains, the last 10% validates)
   * @param params - parameters to start from (uploaded weights); fresh ones from the seed when absent
   */
  constructor(readonly config: PlaygroundConfig, readonly vocab: Vocabulary, text: string, params?: PlaygroundParams) {
    validateConfig(config);
    const chars = Array.from(text);
    const [train, valid] = splitByPosition(chars, [0.9, 0.1]) as [string[], string[]];
    const minChars = config.batchSize * (config.seqLen + 1);
    if (train.length < minChars) {
      throw new Error(`playground: the text is too short: ${chars.length} characters; ${config.batchSize} streams of ${config.seqLen + 1} need ${Math.ceil(minChars / 0.9)}`);
    }
    this.model = playgroundModel(config, vocab.size);
    this.params = params ?? this.model.init(foldIn(randomKey(config.seed), 0));
    this.optimizer = chain(clipByGlobalNorm(config.clip), adam({ lr: config.lr })) as GradientTransformation<unknown>;
    this.optState = this.optimizer.init(this.params);
    this.source = batchify(vocab.encode(train), config.batchSize);
    this.valid = vocab.encode(valid);
    this.windows = countBpttWindows(this.source.shape[1]!, config.seqLen);
    const training = config.dropout > 0;
    const lossAndGrad = valueAndGrad(
      (p: PlaygroundParams, inputs: Tensor, targets: Tensor, carry: Carry | undefined, key: Tensor) => this.model.loss(p, inputs, targets, carry, { training, key }),
      0,
      { hasAux: true },
    );
    // one compiled program per carry structure (none at an epoch's start, then the layer's state)
    this.wholeStep = jit((params: PlaygroundParams, optState: unknown, inputs: Tensor, targets: Tensor, carry: Carry | undefined, key: Tensor) => {
      const [[loss, next], grads] = lossAndGrad(params, inputs, targets, carry, key) as [[Tensor, Carry], PlaygroundParams];
      const { updates, state } = this.optimizer.update(grads, optState, params);
      return { params: applyUpdates(params, updates), optState: state, loss, carry: next };
    }) as WholeStep;
  }

  /** A fresh run on `text` with a vocabulary built from its training part. */
  static fromText(config: PlaygroundConfig, text: string): Trainer {
    const [train] = splitByPosition(Array.from(text), [0.9, 0.1]) as [string[], string[]];
    return new Trainer(config, Vocabulary.fromCharacters(train.join('')), text);
  }

  /** One optimiser step on the next window; the state carries over (gradient stopped) until the epoch ends. */
  trainStep(): StepReport {
    const { seqLen, batchSize, seed } = this.config;
    const began = performance.now();
    const { inputs, targets } = getBatch(this.source, this.window * seqLen, seqLen);
    const key = keyData(foldIn(foldIn(randomKey(seed), 1), this.step));
    const result = this.wholeStep(this.params, this.optState, inputs, targets, this.carry, key);
    const loss = result.loss.item();
    if (!Number.isFinite(loss)) throw new Error(`playground: the loss became ${loss} at step ${this.step}; lower the learning rate or the clip`);
    this.params = result.params;
    this.optState = result.optState;
    // the compiled step returns plain values, so the next window's gradient stops at this carry
    const last = this.window + 1 >= this.windows;
    this.carry = last ? undefined : result.carry;
    this.window = last ? 0 : this.window + 1;
    this.step++;
    this.chars += batchSize * inputs.shape[1]!;
    this.elapsedMs += performance.now() - began;
    return { step: this.step, bitsPerChar: loss / Math.LN2, chars: this.chars, charsPerSecond: this.chars / (this.elapsedMs / 1000) };
  }

  /** Validation bits per character over at most `maxChars` of the held-out text (no dropout). */
  validate(maxChars = 4096): number {
    const ids = this.valid.subarray(0, Math.min(this.valid.length, maxChars + 1));
    if (ids.length < 2) return NaN;
    const streams = Math.max(1, Math.min(this.config.batchSize, Math.floor((ids.length - 1) / 2)));
    const source = batchify(ids, streams);
    let carry: Carry | undefined;
    let nats = 0;
    let count = 0;
    for (let i = 0; i < source.shape[1]! - 1; i += this.config.seqLen) {
      const { inputs, targets } = getBatch(source, i, this.config.seqLen);
      const [loss, next] = this.model.loss(this.params, inputs, targets, carry);
      nats += loss.item() * targets.size;
      count += targets.size;
      carry = next;
    }
    return nats / count / Math.LN2;
  }

  /** Text from the model: the prompt (default a newline) fed in, then `length` characters drawn one by one. */
  sample(options: SampleOptions): string {
    const prompt = options.prompt && options.prompt.length > 0 ? options.prompt : '\n';
    const V = this.vocab.size;
    const ids = generate<Carry | undefined>({
      step: (last: Tensor, state) => {
        const { logits, state: next } = this.model.apply(this.params, reshape(last, [1, 1]), state);
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
  exportWeights(): Uint8Array {
    return encodeSafetensors(this.model.toStateDict(this.params), {
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
    throw new Error(`playground: not a playground weights file (its metadata format is ${String(metadata?.format)}, expected ${WEIGHTS_FORMAT} with config and vocab)`);
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
