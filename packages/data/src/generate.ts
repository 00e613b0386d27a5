import { ArgumentError, describeValue, expectInteger, foldIn, Key, tensor, Tensor } from '@tapestry/core';
import { checkId } from './checks.js';
import { checkStepLogits, type DecodeStep } from './decode-step.js';
import { sampleAs, type SampleOptions } from './sampling.js';
// sampleLogits is named in the TSDoc below
import type { sampleLogits } from './sampling.js';

/** Options of {@link generate}. */
export interface GenerateOptions<S> {
  /** The model, one token at a time (see {@link DecodeStep}); called with a batch of one. */
  step: DecodeStep<S>;
  /** The state before the first prompt token, with a batch of one. */
  initialState: S;
  /** The tokens to start from (at least one, e.g. `[startId]` or an encoded priming text). */
  prompt: ArrayLike<number>;
  /** How many tokens to generate at most (the prompt not counted). */
  maxLength: number;
  /** Stop after generating this token (it is included in the result). Default: none. */
  endToken?: number;
  /** The random key; token `i` is drawn with `foldIn(key, i)`. */
  key: Key;
  /** How to draw each token (see {@link sampleLogits}). Default: plain sampling at temperature 1. */
  sampling?: SampleOptions;
}

/**
 * Generates one sequence from a prompt (one-to-many): feeds the prompt through `step` token by token,
 * then repeatedly draws the next token from the step's logits with {@link sampleLogits} and feeds it back,
 * until `maxLength` tokens or `endToken`. Returns the generated tokens (without the prompt).
 *
 * @example
 * ```ts
 * const ids = generate({ step, initialState, prompt: vocab.encode('Call me '), maxLength: 200,
 *                        key: randomKey(7), sampling: { temperature: 0.8 } });
 * vocab.decode(ids);
 * ```
 */
export function generate<S>(options: GenerateOptions<S>): Int32Array {
  const fn = 'generate';
  if (options === null || typeof options !== 'object') throw new ArgumentError(`${fn}: options must be an object, got ${describeValue(options)}`);
  const { step, initialState, prompt, key } = options;
  if (typeof step !== 'function') throw new ArgumentError(`${fn}: options.step must be a function, got ${describeValue(step)}`);
  if (prompt === null || typeof prompt !== 'object' || typeof prompt.length !== 'number' || prompt.length === 0) {
    throw new ArgumentError(`${fn}: options.prompt must be a non-empty array of token ids, got ${describeValue(prompt)}`);
  }
  if (!(key instanceof Key) && !((key as unknown) instanceof Tensor)) {
    throw new ArgumentError(`${fn}: options.key must be a Key (from randomKey), got ${describeValue(key)}`);
  }
  const maxLength = expectInteger(fn, 'options.maxLength', options.maxLength, 0);
  const endToken = options.endToken === undefined ? undefined : checkId(fn, 'options.endToken', options.endToken);
  const tokens: number[] = [];
  for (let i = 0; i < prompt.length; i++) tokens.push(checkId(fn, `options.prompt[${i}]`, prompt[i]));

  let state = initialState;
  let logits = null;
  // The prompt primes the state; only the logits after its last token are used.
  for (let t = 0; t < tokens.length; t++) {
    ({ logits, state } = run(fn, step, tokens, t + 1, state));
  }
  const generated: number[] = [];
  while (generated.length < maxLength) {
    const next = sampleAs(fn, 'options.sampling.', foldIn(key, generated.length), logits!, options.sampling).dataSync()[0]!;
    generated.push(next);
    tokens.push(next);
    if (next === endToken || generated.length === maxLength) break;
    ({ logits, state } = run(fn, step, tokens, tokens.length, state));
  }
  return Int32Array.from(generated);
}

function run<S>(fn: string, step: DecodeStep<S>, tokens: readonly number[], length: number, state: S) {
  const last = tensor(new Int32Array([tokens[length - 1]!]));
  const prefix = tensor(Int32Array.from(tokens.slice(0, length)), { shape: [1, length] });
  const result = step(last, state, prefix);
  return { logits: checkStepLogits(fn, result, 1), state: result.state };
}
