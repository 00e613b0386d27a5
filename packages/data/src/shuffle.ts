import { ArgumentError, describeValue, expectInteger, Key, Tensor, uniform } from '@tapestry/core';

/** Throws unless `key` is a Key or a key tensor, naming the function the caller called (not uniform). */
function checkKey(fn: string, argument: string, key: unknown): void {
  if (!(key instanceof Key) && !(key instanceof Tensor))
    throw new ArgumentError(`${fn}: ${argument} must be a Key (from randomKey), got ${describeValue(key)}`);
}

/**
 * A uniformly random permutation of `0 … n−1` from a random key: Fisher–Yates driven by `n` float64
 * uniforms drawn with core's `uniform(key, [n])`, so the same key gives the same order on every platform
 * (no `Math.random`).
 *
 * @example
 * ```ts
 * permutation(randomKey(0), 5); // e.g. Int32Array [3, 0, 4, 1, 2], always the same for key 0
 * ```
 */
export function permutation(key: Key, n: number): Int32Array {
  expectInteger('permutation', 'n', n, 0);
  checkKey('permutation', 'key', key);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (n < 2) return order;
  const u = uniform(key, [n], { dtype: 'float64' }).dataSync();
  for (let i = n - 1; i > 0; i--) {
    // u < 1, but guard the product's rounding so j never passes i.
    const j = Math.min(i, Math.floor(u[i]! * (i + 1)));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** Options of {@link batchIndices}. */
export interface BatchIndicesOptions {
  /** Shuffle with this key ({@link permutation}); without one, indices stay in order. */
  key?: Key;
  /** Drop the last batch when it is smaller than `batchSize` (PyTorch's `drop_last`). Default false. */
  dropLast?: boolean;
}

/**
 * Splits the indices `0 … n−1` (shuffled when `options.key` is given) into minibatches of `batchSize`;
 * the last one is smaller unless `dropLast`. Use a fresh key per epoch, e.g. `foldIn(key, epoch)`.
 *
 * @example
 * ```ts
 * batchIndices(5, 2);                                    // [[0, 1], [2, 3], [4]] as Int32Arrays
 * batchIndices(5, 2, { key: randomKey(1), dropLast: true }); // two shuffled batches of 2
 * ```
 */
export function batchIndices(n: number, batchSize: number, options: BatchIndicesOptions = {}): Int32Array[] {
  const fn = 'batchIndices';
  expectInteger(fn, 'n', n, 0);
  expectInteger(fn, 'batchSize', batchSize, 1);
  if (options === null || typeof options !== 'object') throw new ArgumentError(`${fn}: options must be an object, got ${String(options)}`);
  if (options.key !== undefined) checkKey(fn, 'options.key', options.key);
  if (options.dropLast !== undefined && typeof options.dropLast !== 'boolean') {
    throw new ArgumentError(`${fn}: options.dropLast must be a boolean, got ${String(options.dropLast)}`);
  }
  let order: Int32Array;
  if (options.key === undefined) {
    order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
  } else {
    order = permutation(options.key, n);
  }
  const batches: Int32Array[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    if (end - start < batchSize && options.dropLast === true) break;
    batches.push(order.slice(start, end));
  }
  return batches;
}
