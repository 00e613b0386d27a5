/** Writing text with a trained model, through @tapestry/data's reusable `generate`. */
import { reshape, type Key, type Tensor } from '@tapestry/core';
import { generate, type Vocabulary } from '@tapestry/data';
import type { CarriedState, CharModel, ModelParams } from './model.js';

/** Options of {@link sampleText}. */
export interface SampleTextOptions {
  readonly prompt: string;
  readonly length: number;
  readonly temperature: number;
  readonly topK?: number;
  readonly key: Key;
}

/** Primes the model with `prompt` and samples `length` characters after it. Returns the prompt plus the sample. */
export function sampleText(model: CharModel, params: ModelParams, vocab: Vocabulary, options: SampleTextOptions): string {
  const prompt = options.prompt.length > 0 ? options.prompt : '\n';
  const ids = generate<CarriedState | undefined>({
    step: (last: Tensor, state) => {
      const { logits, state: next } = model.apply(params, reshape(last, [1, 1]), state);
      return { logits: reshape(logits, [1, model.config.vocabSize]), state: next };
    },
    initialState: undefined,
    prompt: vocab.encode(prompt),
    maxLength: options.length,
    key: options.key,
    sampling: { temperature: options.temperature, ...(options.topK === undefined ? {} : { topK: options.topK }) },
  });
  return prompt + vocab.decode(ids);
}
