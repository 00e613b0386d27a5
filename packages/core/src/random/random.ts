import { DTYPES, isFloat, type DType } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { expectPositiveInteger, expectTensor } from '../checks.js';
import { add } from '../ops/arithmetic.js';
import { argmax } from '../ops/indexing.js';
import { checkShape, formatShape, normalizeAxis } from '../shape.js';
import { hostData, Tensor } from '../tensor.js';
import { deriveKeyData, expectKeyData, sampleFromKeyData } from './key-data.js';
import { drawSample, type Sample } from './samplers.js';
import { deriveKeyWords, keyWords } from './threefry.js';

/**
 * A random key: explicit state for reproducible randomness. Keys are values: derive new ones with
 * {@link split} or {@link foldIn} instead of reusing one for two purposes.
 */
export class Key {
  /** @internal */
  constructor(
    /** First word of the threefry key. */
    readonly k0: number,
    /** Second word of the threefry key. */
    readonly k1: number,
  ) {}

  /** The two words, for saving (e.g. in a checkpoint) and {@link keyFromWords}. */
  toWords(): [number, number] {
    return [this.k0, this.k1];
  }
}

/**
 * A key from a seed (an integer; seeds above 2³² use their high bits too).
 * @example
 * ```ts
 * const [initKey, dropoutKey] = split(randomKey(0));
 * ```
 */
export function randomKey(seed: number): Key {
  if (!Number.isSafeInteger(seed)) throw new ArgumentError(`randomKey: seed must be a safe integer, got ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return new Key(hi, lo);
}

/** Rebuilds a key from {@link Key.toWords}. */
export function keyFromWords(words: readonly number[]): Key {
  if (words.length !== 2 || words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
    throw new ArgumentError(`keyFromWords: expected two uint32 words, got [${words.join(', ')}]`);
  }
  return new Key(words[0]!, words[1]!);
}

function expectKey(op: string, key: unknown): Key {
  if (!(key instanceof Key)) throw new ArgumentError(`${op}: key must be a Key (from randomKey or split), got ${typeof key}`);
  return key;
}

/** Either kind of key a sampler takes: a {@link Key}, or its words as an int32 tensor (see {@link keyData}). */
export type KeyLike = Key | Tensor;

/**
 * A key's two words as an int32 tensor of shape [2] (uint32 bit patterns), JAX's `key_data`. Random ops
 * given such a tensor are ops like any other: under `trace`/`jit` a key passed as an argument gives fresh
 * numbers on every call (dropout in a compiled training step), where a {@link Key} would be baked into the
 * graph as a constant. The numbers are the same as from the {@link Key} itself.
 * @example
 * ```ts
 * const step = jit((x: Tensor, k: Tensor) => dropout(x, 0.2, { key: k }));
 * step(x, keyData(foldIn(key, i)));            // a new mask each step, one compiled plan
 * ```
 */
export function keyData(key: Key): Tensor {
  expectKey('keyData', key);
  return new Tensor(Int32Array.of(key.k0 | 0, key.k1 | 0), [2], 'int32');
}

/** The {@link Key} held by a concrete key tensor (the inverse of {@link keyData}). */
export function keyFromData(data: Tensor): Key {
  expectKeyData('keyFromData', data);
  if (data.isAbstract) throw new ArgumentError('keyFromData: the key tensor is traced and has no value yet');
  const [k0, k1] = keyWords(hostData(data, 'keyFromData'));
  return new Key(k0, k1);
}

/** `n` new independent keys derived from `key` (default 2); key tensors give key tensors. */
export function split(key: Key, n?: number): Key[];
export function split(key: Tensor, n?: number): Tensor[];
export function split(key: KeyLike, n?: number): KeyLike[];
export function split(key: KeyLike, n = 2): KeyLike[] {
  // exported as splitKey: the messages use that name (core's `split` splits tensors)
  expectPositiveInteger('splitKey', 'n', n);
  if (key instanceof Tensor) {
    expectKeyData('splitKey', key);
    return Array.from({ length: n }, (_, i) => deriveKeyData(key, 1, i));
  }
  expectKey('splitKey', key);
  return Array.from({ length: n }, (_, i) => new Key(...deriveKeyWords(key.k0, key.k1, 1, i)));
}

/** A new key derived from `key` and an integer (e.g. a step number), without splitting; key tensors give key tensors. */
export function foldIn(key: Key, data: number): Key;
export function foldIn(key: Tensor, data: number): Tensor;
export function foldIn(key: KeyLike, data: number): KeyLike;
export function foldIn(key: KeyLike, data: number): KeyLike {
  // folded in as 32 bits: beyond them 2^32 would give the key of 0, silently; int32 and uint32 values are both taken
  if (!Number.isInteger(data) || data < -0x80000000 || data > 0xffffffff) {
    throw new ArgumentError(`foldIn: data must be an integer in [-2^31, 2^32) (it is folded in as 32 bits), got ${String(data)}`);
  }
  if (key instanceof Tensor) {
    expectKeyData('foldIn', key);
    return deriveKeyData(key, 2, data >>> 0);
  }
  expectKey('foldIn', key);
  return new Key(...deriveKeyWords(key.k0, key.k1, 2, data >>> 0));
}

function floatDType(op: string, dtype: DType): DType {
  if (!DTYPES.includes(dtype) || !isFloat(dtype)) throw new DTypeError(`${op}: dtype must be float32 or float64, got ${String(dtype)}`);
  return dtype;
}

/** Options of {@link uniform}. */
export interface UniformOptions {
  /** float32 (default) or float64. */
  dtype?: DType;
  /** Lower bound (inclusive), default 0. */
  low?: number;
  /** Upper bound (exclusive), default 1. */
  high?: number;
}

/** Draws `sample` from either kind of key: a {@link Key} now, a key tensor as an op (so it traces). */
function draw(key: KeyLike, sample: Sample): Tensor {
  if (key instanceof Tensor) return sampleFromKeyData(key, sample);
  return new Tensor(drawSample(key.k0, key.k1, sample), sample.shape, sample.dtype);
}

function expectKeyLike(op: string, key: unknown): void {
  if (key instanceof Tensor) expectKeyData(op, key);
  else expectKey(op, key);
}

/**
 * Uniform samples in `[low, high)`. `key` is a {@link Key} or a key tensor ({@link keyData}); both give the
 * same numbers.
 * @example
 * ```ts
 * const w = uniform(key, [4, 3], { low: -0.5, high: 0.5 });
 * ```
 */
export function uniform(key: KeyLike, shape: readonly number[], options: UniformOptions = {}): Tensor {
  expectKeyLike('uniform', key);
  const s = checkShape('uniform', 'shape', shape);
  const dtype = floatDType('uniform', options.dtype ?? 'float32');
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  if (!Number.isFinite(low) || !Number.isFinite(high) || !(low <= high)) {
    throw new ArgumentError(`uniform: need finite low ≤ high, got low ${low}, high ${high}`);
  }
  return draw(key, { kind: 'uniform', shape: s, dtype, low, high });
}

/** Options of {@link normal}. */
export interface NormalOptions {
  /** float32 (default) or float64. */
  dtype?: DType;
  /** Mean, default 0. */
  mean?: number;
  /** Standard deviation, default 1. */
  std?: number;
}

/** Normal samples (Box–Muller on the key's uniform stream); `key` is a {@link Key} or a key tensor. */
export function normal(key: KeyLike, shape: readonly number[], options: NormalOptions = {}): Tensor {
  expectKeyLike('normal', key);
  const s = checkShape('normal', 'shape', shape);
  const dtype = floatDType('normal', options.dtype ?? 'float32');
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  if (!Number.isFinite(mean) || !Number.isFinite(std) || std < 0) {
    throw new ArgumentError(`normal: need a finite mean and std ≥ 0, got mean ${mean}, std ${std}`);
  }
  return draw(key, { kind: 'normal', shape: s, dtype, mean, std });
}

/**
 * 0/1 samples that are 1 with probability `p` (a dropout mask is `bernoulli(key, 1 - rate, shape)`);
 * `key` is a {@link Key} or a key tensor.
 */
export function bernoulli(key: KeyLike, p: number, shape: readonly number[], dtype: DType = 'float32'): Tensor {
  expectKeyLike('bernoulli', key);
  if (!(p >= 0 && p <= 1)) throw new ArgumentError(`bernoulli: p must be in [0, 1], got ${p}`);
  const s = checkShape('bernoulli', 'shape', shape);
  if (!DTYPES.includes(dtype)) throw new DTypeError(`bernoulli: unknown dtype ${String(dtype)}`);
  return draw(key, { kind: 'bernoulli', shape: s, dtype, p });
}

/**
 * Samples class ids from unnormalised log-probabilities along `axis` (Gumbel-max: argmax of logits plus
 * Gumbel noise), as int32 with that axis removed; `key` is a {@link Key} or a key tensor.
 * @example
 * ```ts
 * const next = categorical(key, logits);      // logits [N, V] → ids [N]
 * ```
 */
export function categorical(key: KeyLike, logits: Tensor, axis = -1): Tensor {
  expectKeyLike('categorical', key);
  expectTensor('categorical', 'logits', logits);
  if (!isFloat(logits.dtype)) throw new DTypeError(`categorical: logits must be float, got ${logits.dtype}`);
  const a = normalizeAxis('categorical', axis, logits.rank);
  if (logits.shape[a] === 0) throw new ShapeError(`categorical: axis ${a} of logits ${formatShape(logits.shape)} is empty: no class to sample`);
  return argmax(add(logits, draw(key, { kind: 'gumbel', shape: logits.shape, dtype: logits.dtype })), axis);
}
