import { allocate, DTYPES, isFloat, type DType } from '../dtype.js';
import { ArgumentError, DTypeError } from '../errors.js';
import { expectTensor } from '../ops/checks.js';
import { add } from '../ops/arithmetic.js';
import { argmax } from '../ops/indexing.js';
import { checkShape, normalizeAxis, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { randomBits, threefry2x32 } from './threefry.js';

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

/** `n` new independent keys derived from `key` (default 2). */
export function split(key: Key, n = 2): Key[] {
  expectKey('split', key);
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`split: n must be a positive integer, got ${n}`);
  const bits = new Uint32Array(2 * n);
  for (let i = 0; i < n; i++) threefry2x32(key.k0, key.k1, 1, i, bits, 2 * i);
  return Array.from({ length: n }, (_, i) => new Key(bits[2 * i]!, bits[2 * i + 1]!));
}

/** A new key derived from `key` and an integer (e.g. a step number), without splitting. */
export function foldIn(key: Key, data: number): Key {
  expectKey('foldIn', key);
  if (!Number.isInteger(data)) throw new ArgumentError(`foldIn: data must be an integer, got ${data}`);
  const bits = new Uint32Array(2);
  threefry2x32(key.k0, key.k1, 2, data >>> 0, bits, 0);
  return new Key(bits[0]!, bits[1]!);
}

function floatDType(op: string, dtype: DType): DType {
  if (!DTYPES.includes(dtype) || !isFloat(dtype)) throw new DTypeError(`${op}: dtype must be float32 or float64, got ${String(dtype)}`);
  return dtype;
}

/** Uniform numbers in [0, 1): 24 random bits for float32, 53 for float64 (so never exactly 1). */
function unitUniform(key: Key, size: number, dtype: DType): Float64Array {
  const out = new Float64Array(size);
  if (dtype === 'float32') {
    const bits = randomBits(key.k0, key.k1, size);
    for (let i = 0; i < size; i++) out[i] = (bits[i]! >>> 8) / 16777216;
  } else {
    const bits = randomBits(key.k0, key.k1, 2 * size);
    for (let i = 0; i < size; i++) out[i] = ((bits[2 * i]! >>> 5) * 67108864 + (bits[2 * i + 1]! >>> 6)) / 9007199254740992;
  }
  return out;
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

/**
 * Uniform samples in `[low, high)`.
 * @example
 * ```ts
 * const w = uniform(key, [4, 3], { low: -0.5, high: 0.5 });
 * ```
 */
export function uniform(key: Key, shape: readonly number[], options: UniformOptions = {}): Tensor {
  expectKey('uniform', key);
  const s = checkShape('uniform', 'shape', shape);
  const dtype = floatDType('uniform', options.dtype ?? 'float32');
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  if (!Number.isFinite(low) || !Number.isFinite(high) || !(low <= high)) {
    throw new ArgumentError(`uniform: need finite low ≤ high, got low ${low}, high ${high}`);
  }
  const u = unitUniform(key, sizeOf(s), dtype);
  const data = allocate(dtype, u.length);
  for (let i = 0; i < u.length; i++) data[i] = low + (high - low) * u[i]!;
  return new Tensor(data, s, dtype);
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

/** Normal samples (Box–Muller on the key's uniform stream). */
export function normal(key: Key, shape: readonly number[], options: NormalOptions = {}): Tensor {
  expectKey('normal', key);
  const s = checkShape('normal', 'shape', shape);
  const dtype = floatDType('normal', options.dtype ?? 'float32');
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  if (!Number.isFinite(mean) || !Number.isFinite(std) || std < 0) {
    throw new ArgumentError(`normal: need a finite mean and std ≥ 0, got mean ${mean}, std ${std}`);
  }
  const n = sizeOf(s);
  const u = unitUniform(key, n + (n % 2), 'float64');
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - u[i]!));
    const angle = 2 * Math.PI * u[i + 1]!;
    data[i] = mean + std * radius * Math.cos(angle);
    if (i + 1 < n) data[i + 1] = mean + std * radius * Math.sin(angle);
  }
  return new Tensor(data, s, dtype);
}

/**
 * 0/1 samples that are 1 with probability `p` (a dropout mask is `bernoulli(key, 1 - rate, shape)`).
 */
export function bernoulli(key: Key, p: number, shape: readonly number[], dtype: DType = 'float32'): Tensor {
  expectKey('bernoulli', key);
  if (!(p >= 0 && p <= 1)) throw new ArgumentError(`bernoulli: p must be in [0, 1], got ${p}`);
  const s = checkShape('bernoulli', 'shape', shape);
  if (!DTYPES.includes(dtype)) throw new DTypeError(`bernoulli: unknown dtype ${String(dtype)}`);
  const u = unitUniform(key, sizeOf(s), 'float64');
  const data = allocate(dtype, u.length);
  for (let i = 0; i < u.length; i++) data[i] = u[i]! < p ? 1 : 0;
  return new Tensor(data, s, dtype);
}

/**
 * Samples class ids from unnormalised log-probabilities along `axis` (Gumbel-max: argmax of logits plus
 * Gumbel noise), as int32 with that axis removed.
 * @example
 * ```ts
 * const next = categorical(key, logits);      // logits [N, V] → ids [N]
 * ```
 */
export function categorical(key: Key, logits: Tensor, axis = -1): Tensor {
  expectKey('categorical', key);
  expectTensor('categorical', 'logits', logits);
  if (!isFloat(logits.dtype)) throw new DTypeError(`categorical: logits must be float, got ${logits.dtype}`);
  normalizeAxis('categorical', axis, logits.rank);
  const u = unitUniform(key, logits.size, 'float64');
  const gumbel = allocate(logits.dtype, u.length);
  // centre u on a 2^-52 grid: strictly inside (0, 1), so both logarithms stay finite
  for (let i = 0; i < u.length; i++) {
    const open = (Math.floor(u[i]! * 4503599627370496) + 0.5) / 4503599627370496;
    gumbel[i] = -Math.log(-Math.log(open));
  }
  return argmax(add(logits, new Tensor(gumbel, logits.shape, logits.dtype)), axis);
}
