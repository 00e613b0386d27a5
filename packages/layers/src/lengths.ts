/** Variable-length batches: validating `lengths`, and the masks {@link recurrent} applies at each step. */
import { ArgumentError, DTypeError, formatShape, ShapeError, tensor, Tensor } from '@tapestry/core';

/**
 * Checks `lengths` (a JS array or an int32 tensor of N integers in 1 … T, in any order) and returns them as
 * numbers. `where` names the layer in messages.
 */
export function readLengths(where: string, lengths: readonly number[] | Tensor, batch: number, steps: number): number[] {
  let values: number[];
  if (lengths instanceof Tensor) {
    if (lengths.dtype !== 'int32') {
      throw new DTypeError(
        `${where}: lengths must be an int32 tensor or an array of integers, got ${lengths.dtype} ${formatShape(lengths.shape)} (use cast(lengths, 'int32'))`,
      );
    }
    if (lengths.rank !== 1) throw new ShapeError(`${where}: lengths must be 1-D [N] = [${batch}], got ${formatShape(lengths.shape)}`);
    values = Array.from(lengths.dataSync());
  } else if (Array.isArray(lengths)) {
    values = lengths.slice();
  } else {
    throw new ArgumentError(`${where}: lengths must be an array of integers or an int32 tensor, got ${typeof lengths}`);
  }
  if (values.length !== batch) {
    throw new ShapeError(`${where}: lengths has ${values.length} entries but x has batch size N = ${batch}; give one length per sequence`);
  }
  values.forEach((len, b) => {
    if (!Number.isInteger(len) || len < 1 || len > steps) {
      throw new ArgumentError(
        `${where}: lengths[${b}] = ${String(len)} is out of range for x with T = ${steps} time steps; each length must be an integer in 1 … ${steps}`,
      );
    }
  });
  return values;
}

/** The int32 mask [T, N] with `mask[t, b] = t < lengths[b]`. */
export function lengthMask(lengths: readonly number[], steps: number): Tensor {
  const batch = lengths.length;
  const data = new Int32Array(steps * batch);
  for (let t = 0; t < steps; t++) for (let b = 0; b < batch; b++) data[t * batch + b] = t < lengths[b]! ? 1 : 0;
  return tensor(data, { shape: [steps, batch] });
}

/**
 * The mask of step `t` shaped [N, 1, …, 1] to broadcast against a value of rank `rank` (int32, 1 = valid),
 * made once per step and rank.
 */
export function stepMasks(lengths: readonly number[]): (t: number, rank: number) => Tensor {
  const batch = lengths.length;
  const cache = new Map<string, Tensor>();
  return (t, rank) => {
    const key = `${t}:${rank}`;
    let m = cache.get(key);
    if (!m) {
      const rows = Int32Array.from(lengths, (len) => (t < len ? 1 : 0));
      m = tensor(rows, { shape: [batch, ...new Array<number>(Math.max(rank - 1, 0)).fill(1)] });
      cache.set(key, m);
    }
    return m;
  };
}
