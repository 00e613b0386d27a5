import {
  argmax,
  ArgumentError,
  categorical,
  describeValue,
  div,
  DTypeError,
  expectInteger,
  expectOptionalBoolean,
  formatShape,
  Key,
  ShapeError,
  softmax,
  tensor,
  Tensor,
} from '@tapestry/core';

/** Options of {@link sampleLogits}. */
export interface SampleOptions {
  /** Divide the logits by this (> 0) before anything else: < 1 sharpens, > 1 flattens. Default 1. */
  temperature?: number;
  /**
   * Keep only the `topK` largest logits of each row (every logit equal to the k-th largest is kept too).
   * Default: all.
   */
  topK?: number;
  /**
   * Nucleus sampling: keep the smallest set of most probable tokens whose total probability (after
   * temperature and top-k) is ≥ `topP`, in `(0, 1]`; among equal probabilities lower ids come first.
   * Default 1 (all).
   */
  topP?: number;
  /** Return the argmax (first maximum) of each row instead of sampling; the other options are ignored. */
  greedy?: boolean;
}

function checkLogits(fn: string, logits: unknown): Tensor {
  if (!(logits instanceof Tensor)) throw new ArgumentError(`${fn}: logits must be a Tensor [V] or [N, V], got ${describeValue(logits)}`);
  if (logits.dtype === 'int32') throw new DTypeError(`${fn}: logits must be float32 or float64, got int32 (use cast())`);
  if ((logits.rank !== 1 && logits.rank !== 2) || logits.shape[logits.rank - 1] === 0) {
    throw new ShapeError(`${fn}: logits must be [V] or [N, V] with V ≥ 1, got shape ${formatShape(logits.shape)}`);
  }
  return logits;
}

/** Sets to −∞ every logit outside the row's top k (ties with the k-th largest survive). */
function keepTopK(values: Float32Array | Float64Array, vocab: number, k: number): void {
  const row = new Float64Array(vocab);
  for (let start = 0; start < values.length; start += vocab) {
    row.set(values.subarray(start, start + vocab));
    row.sort();
    const threshold = row[vocab - k]!;
    for (let v = start; v < start + vocab; v++) if (values[v]! < threshold) values[v] = -Infinity;
  }
}

/** Sets to −∞ every logit outside the row's nucleus: the fewest most probable tokens reaching mass p. */
function keepTopP(values: Float32Array | Float64Array, probs: ArrayLike<number>, vocab: number, p: number): void {
  const order = new Array<number>(vocab);
  for (let start = 0; start < values.length; start += vocab) {
    for (let v = 0; v < vocab; v++) order[v] = v;
    order.sort((a, b) => probs[start + b]! - probs[start + a]! || a - b);
    let mass = 0;
    let kept = 0;
    while (kept < vocab && (kept === 0 || mass < p)) mass += probs[start + order[kept++]!]!;
    for (let r = kept; r < vocab; r++) values[start + order[r]!] = -Infinity;
  }
}

/**
 * Draws token ids from logits `[V]` (→ 0-d int32) or `[N, V]` (→ int32 `[N]`), one per row. In order:
 * divide by `temperature`; keep the `topK` largest; keep the nucleus of mass `topP` (recomputing the
 * softmax after top-k); sample with core's `categorical` from what is left (removed logits are −∞, so
 * they are never drawn). `greedy: true` returns `argmax` instead; `topK: 1` gives the same ids whenever a
 * row's maximum is unique (on ties it draws among the tied maxima). The same key gives the same ids.
 *
 * @example
 * ```ts
 * const logits = tensor([[2, 1, 0.1]]);
 * sampleLogits(randomKey(0), logits, { greedy: true }).toArray();             // [0]
 * sampleLogits(randomKey(0), logits, { temperature: 0.8, topK: 2 }).toArray(); // [0] or [1]
 * ```
 */
export function sampleLogits(key: Key, logits: Tensor, options: SampleOptions = {}): Tensor {
  return sampleAs('sampleLogits', '', key, logits, options);
}

/**
 * {@link sampleLogits} whose errors name `fn` (the function the user called: generate) and its options
 * under `prefix` (`options.sampling.`).
 * @internal
 */
export function sampleAs(fn: string, prefix: string, key: Key, logits: Tensor, options: SampleOptions = {}): Tensor {
  // checked here, so that a bad key is reported as the caller's argument, not categorical's
  if (!(key instanceof Key) && !((key as unknown) instanceof Tensor)) {
    throw new ArgumentError(`${fn}: key must be a Key (from randomKey / splitKey / foldIn), got ${describeValue(key)}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError(`${fn}: ${prefix === '' ? 'options' : prefix.slice(0, -1)} must be an object, got ${describeValue(options)}`);
  }
  checkLogits(fn, logits);
  const vocab = logits.shape[logits.rank - 1]!;
  const raw = logits.dataSync();
  for (let start = 0; start < raw.length; start += vocab) {
    let best = -Infinity;
    for (let v = start; v < start + vocab; v++) {
      if (Number.isNaN(raw[v])) throw new ArgumentError(`${fn}: logits row ${start / vocab} holds NaN at index ${v - start}`);
      best = Math.max(best, raw[v]!);
    }
    if (best === -Infinity || best === Infinity) {
      throw new ArgumentError(`${fn}: logits row ${start / vocab} has maximum ${best}; every row needs a finite largest logit`);
    }
  }
  expectOptionalBoolean(fn, `${prefix}greedy`, options.greedy);
  if (options.greedy === true) return argmax(logits, -1);

  const temperature = options.temperature ?? 1;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature <= 0) {
    throw new ArgumentError(`${fn}: ${prefix}temperature must be a finite number > 0, got ${String(temperature)} (use greedy: true for argmax)`);
  }
  const topK = options.topK === undefined ? vocab : expectInteger(fn, `${prefix}topK`, options.topK, 1);
  const topP = options.topP ?? 1;
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) throw new ArgumentError(`${fn}: ${prefix}topP must be in (0, 1], got ${String(topP)}`);

  const scaled = temperature === 1 ? logits : div(logits, temperature);
  if (topK >= vocab && topP === 1) return categorical(key, scaled, -1);
  const values = scaled.dataSync() as Float32Array | Float64Array;
  if (topK < vocab) keepTopK(values, vocab, topK);
  let filtered = tensor(values, { shape: scaled.shape.slice() });
  if (topP < 1) {
    keepTopP(values, softmax(filtered, -1).dataSync(), vocab, topP);
    filtered = tensor(values, { shape: scaled.shape.slice() });
  }
  return categorical(key, filtered, -1);
}
