import { ArgumentError, describeValue, expectInteger, logSoftmax, tensor } from '@tapestry/core';
import { checkId } from './checks.js';
import { checkStepLogits, reorderState, type DecodeStep } from './decode-step.js';

/** Options of {@link beamSearch}. */
export interface BeamSearchOptions<S> {
  /** The model, one token at a time for every live hypothesis (see {@link DecodeStep}). */
  step: DecodeStep<S>;
  /** The state before the start token, with a batch of one (e.g. an encoder's final state). */
  initialState: S;
  /** The token every hypothesis starts from. */
  startToken: number;
  /** The token that ends a hypothesis. */
  endToken: number;
  /** How many hypotheses to keep alive (and to return). */
  beamWidth: number;
  /** The most tokens a hypothesis may generate (the start token not counted, the end token counted). */
  maxLength: number;
  /**
   * α ≥ 0: hypotheses are ranked by `score / length^α` (length as in `maxLength`). Default 0: the plain
   * sum of log-probabilities, which favours short outputs; around 0.6–1 evens that out.
   */
  lengthPenalty?: number;
  /** The axis of the state's tensor leaves that indexes the hypotheses. Default 0. */
  stateAxis?: number;
}

/** One finished (or cut off) hypothesis of {@link beamSearch}. */
export interface Hypothesis {
  /** The generated tokens: without the start token, ending with the end token when `finished`. */
  tokens: Int32Array;
  /** The sum of the tokens' log-probabilities. */
  score: number;
  /** `score / tokens.length^lengthPenalty`, which ranks the hypotheses. */
  normalizedScore: number;
  /** Whether it ended with the end token (false: it reached `maxLength`). */
  finished: boolean;
}

interface Beam {
  tokens: number[];
  score: number;
}

/**
 * Model-agnostic beam search from a single start token. Each round calls `step` on the live hypotheses
 * (a batch of up to `beamWidth`), turns its logits into log-probabilities with `logSoftmax`, and ranks
 * every extension by total log-probability (ties: lower hypothesis, then lower token first). Walking down
 * that ranking, extensions by `endToken` become finished hypotheses and the others live ones, until
 * `beamWidth` live ones are found. The state is then reordered to follow them: every tensor leaf becomes
 * `gather(leaf, parents, stateAxis)` ({@link reorderState}), duplicating a hypothesis's state for each
 * of its surviving children. The search stops when no live hypothesis remains, at `maxLength`, or when
 * `beamWidth` finished hypotheses rank at least as high as any live one can still reach (log-probabilities
 * only fall, so that is final). Returns the best `beamWidth` hypotheses, best first (equal ranks in
 * lexicographic token order); hypotheses cut off at `maxLength` count, marked `finished: false`.
 *
 * With `beamWidth` 1 this is greedy decoding; with a width as large as the number of possible prefixes
 * it is exhaustive.
 *
 * @example
 * ```ts
 * const [best] = beamSearch({ step: decoderStep, initialState: encoderState, startToken: BOS,
 *                             endToken: EOS, beamWidth: 5, maxLength: 50, lengthPenalty: 0.6, stateAxis: 1 });
 * vocab.decode(best.tokens, { skipPad: true });
 * ```
 */
export function beamSearch<S>(options: BeamSearchOptions<S>): Hypothesis[] {
  const fn = 'beamSearch';
  if (options === null || typeof options !== 'object') throw new ArgumentError(`${fn}: options must be an object, got ${describeValue(options)}`);
  const { step } = options;
  if (typeof step !== 'function') throw new ArgumentError(`${fn}: options.step must be a function, got ${describeValue(step)}`);
  const startToken = checkId(fn, 'options.startToken', options.startToken);
  const endToken = checkId(fn, 'options.endToken', options.endToken);
  const width = expectInteger(fn, 'options.beamWidth', options.beamWidth, 1);
  const maxLength = expectInteger(fn, 'options.maxLength', options.maxLength, 1);
  const alpha = options.lengthPenalty ?? 0;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) {
    throw new ArgumentError(`${fn}: options.lengthPenalty must be a finite number ≥ 0, got ${String(alpha)}`);
  }
  const stateAxis = options.stateAxis ?? 0;
  if (!Number.isInteger(stateAxis)) throw new ArgumentError(`${fn}: options.stateAxis must be an integer, got ${String(stateAxis)}`);
  const normalize = (score: number, length: number): number => (alpha === 0 ? score : score / length ** alpha);
  const result = (beam: Beam, finished: boolean): Hypothesis => {
    const tokens = Int32Array.from(beam.tokens.slice(1));
    return { tokens, score: beam.score, normalizedScore: normalize(beam.score, tokens.length), finished };
  };

  let live: Beam[] = [{ tokens: [startToken], score: 0 }];
  let state = options.initialState;
  const done: Hypothesis[] = [];
  for (let length = 1; length <= maxLength && live.length > 0; length++) {
    const batch = live.length;
    const last = tensor(Int32Array.from(live, (b) => b.tokens[length - 1]!));
    const prefix = tensor(Int32Array.from(live.flatMap((b) => b.tokens)), { shape: [batch, length] });
    const out = step(last, state, prefix);
    const logits = checkStepLogits(fn, out, batch);
    const vocab = logits.shape[1]!;
    checkRows(fn, logits.dataSync(), vocab, length);
    const logProbs = logSoftmax(logits, -1).dataSync();

    const candidates: { beam: number; token: number; score: number }[] = [];
    for (let b = 0; b < batch; b++) {
      for (let v = 0; v < vocab; v++) {
        const score = live[b]!.score + logProbs[b * vocab + v]!;
        if (score > -Infinity) candidates.push({ beam: b, token: v, score });
      }
    }
    candidates.sort((x, y) => y.score - x.score || x.beam - y.beam || x.token - y.token);

    const next: Beam[] = [];
    const parents: number[] = [];
    for (const c of candidates) {
      const beam = { tokens: [...live[c.beam]!.tokens, c.token], score: c.score };
      if (c.token === endToken) done.push(result(beam, true));
      else {
        next.push(beam);
        parents.push(c.beam);
        if (next.length === width) break;
      }
    }
    if (length === maxLength) {
      for (const beam of next) done.push(result(beam, false));
      break;
    }
    live = next;
    if (live.length === 0) break;
    if (done.length >= width) {
      // A live score s ≤ 0 can only fall; its best reachable rank is s / maxLength^α.
      const kth = done.map((h) => h.normalizedScore).sort((x, y) => y - x)[width - 1]!;
      const reachable = Math.max(...live.map((b) => (alpha === 0 ? b.score : b.score / maxLength ** alpha)));
      if (kth >= reachable) break;
    }
    state = reorderState(out.state, parents, stateAxis);
  }
  return done.sort((x, y) => y.normalizedScore - x.normalizedScore || compareTokens(x.tokens, y.tokens)).slice(0, width);
}

/**
 * Refuses a step's logits with a NaN or without a finite largest value in some row, as generate and
 * sampleLogits do: such a row has no distribution to extend, and dropping it would end the search with no
 * hypotheses (an empty result) instead of naming the step that went wrong.
 */
function checkRows(fn: string, raw: ArrayLike<number>, vocab: number, length: number): void {
  for (let start = 0, row = 0; start < raw.length; start += vocab, row++) {
    let best = -Infinity;
    for (let v = start; v < start + vocab; v++) {
      if (Number.isNaN(raw[v]))
        throw new ArgumentError(`${fn}: step logits row ${row} (live hypothesis ${row} of length ${length}) holds NaN at index ${v - start}`);
      best = Math.max(best, raw[v]!);
    }
    if (best === -Infinity || best === Infinity) {
      throw new ArgumentError(
        `${fn}: step logits row ${row} (live hypothesis ${row} of length ${length}) has maximum ${best}; every row needs a finite largest logit`,
      );
    }
  }
}

/** Lexicographic order of token sequences: a deterministic tie-break between equally ranked hypotheses. */
function compareTokens(a: Int32Array, b: Int32Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
