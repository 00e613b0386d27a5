/** Writing text with a trained model, on the device its parameters live on. */
import { deviceGet, devicePut, foldIn, reshape, tensor, type Key } from '@tapestry/core';
import { sampleLogits, type Vocabulary } from '@tapestry/data';
import type { CarriedState, CharModel, ModelParams } from './model.js';

/** Options of {@link sampleText}. */
export interface SampleTextOptions {
  readonly prompt: string;
  readonly length: number;
  readonly temperature: number;
  readonly topK?: number;
  readonly key: Key;
}

/**
 * Primes the model with `prompt` and samples `length` characters after it; returns the prompt plus the
 * sample. As @tapestry/data's `generate` (character `i` is drawn with `foldIn(key, i)` by `sampleLogits`),
 * but the model's step runs where the parameters live and each step's logits come back with an awaited
 * read, so a GPU's parameters never need a synchronous read.
 */
export async function sampleText(model: CharModel, params: ModelParams, vocab: Vocabulary, options: SampleTextOptions): Promise<string> {
  const prompt = options.prompt.length > 0 ? options.prompt : '\n';
  const device = params.embedding.weight.backend;
  const sampling = { temperature: options.temperature, ...(options.topK === undefined ? {} : { topK: options.topK }) };
  let state: CarriedState | undefined;
  /** Feeds one character; returns the logits over the next one, on the CPU. */
  const feed = async (id: number) => {
    const last = devicePut(tensor(new Int32Array([id]), { shape: [1, 1] }), device);
    const { logits, state: next } = model.apply(params, last, state);
    state = next;
    return reshape(await deviceGet(logits), [1, model.config.vocabSize]);
  };
  const ids = vocab.encode(prompt);
  let logits = await feed(ids[0]!);
  for (let i = 1; i < ids.length; i++) logits = await feed(ids[i]!);
  const generated: number[] = [];
  while (generated.length < options.length) {
    const next = sampleLogits(foldIn(options.key, generated.length), logits, sampling).dataSync()[0]!;
    generated.push(next);
    if (generated.length < options.length) logits = await feed(next);
  }
  return prompt + vocab.decode(generated);
}
