/**
 * The samplers behind `uniform`, `normal`, `bernoulli` and `categorical`: pure functions of a key's two words and a
 * description of the sample. Eager calls with a `Key` and the `random` primitive (key tensors, traced or
 * not) both run these, so the two give the same numbers.
 */
import type { SampleAttrs } from '../binding/primitive.js';
import { allocate, type DType, type TensorData } from '../dtype.js';
import { sizeOf } from '../shape.js';
import { randomBits } from './threefry.js';

/** What to draw: a distribution, its parameters, the shape and the dtype. */
export type Sample = SampleAttrs;

/** Uniform numbers in [0, 1): 24 random bits for float32, 53 for float64 (so never exactly 1). */
function unitUniform(k0: number, k1: number, size: number, dtype: DType): Float64Array {
  const out = new Float64Array(size);
  if (dtype === 'float32') {
    const bits = randomBits(k0, k1, size);
    for (let i = 0; i < size; i++) out[i] = (bits[i]! >>> 8) / 16777216;
  } else {
    const bits = randomBits(k0, k1, 2 * size);
    for (let i = 0; i < size; i++) out[i] = ((bits[2 * i]! >>> 5) * 67108864 + (bits[2 * i + 1]! >>> 6)) / 9007199254740992;
  }
  return out;
}

/** Draws `sample` from the stream of key (k0, k1) into `data` (by default a new array). */
export function drawSample(k0: number, k1: number, sample: Sample, data: TensorData = allocate(sample.dtype, sizeOf(sample.shape))): TensorData {
  const n = sizeOf(sample.shape);
  switch (sample.kind) {
    case 'uniform': {
      const { low, high } = sample;
      if (sample.dtype === 'float32') {
        // unitUniform's float32 numbers, without its intermediate array (a dropout mask per step)
        const bits = randomBits(k0, k1, n);
        for (let i = 0; i < n; i++) data[i] = low + (high - low) * ((bits[i]! >>> 8) / 16777216);
      } else {
        const u = unitUniform(k0, k1, n, sample.dtype);
        for (let i = 0; i < n; i++) data[i] = low + (high - low) * u[i]!;
      }
      break;
    }
    case 'normal': {
      // Box–Muller on pairs of the float64 uniform stream
      const { mean, std } = sample;
      const u = unitUniform(k0, k1, n + (n % 2), 'float64');
      for (let i = 0; i < n; i += 2) {
        const radius = Math.sqrt(-2 * Math.log(1 - u[i]!));
        const angle = 2 * Math.PI * u[i + 1]!;
        data[i] = mean + std * radius * Math.cos(angle);
        if (i + 1 < n) data[i + 1] = mean + std * radius * Math.sin(angle);
      }
      break;
    }
    case 'bernoulli': {
      const u = unitUniform(k0, k1, n, 'float64');
      for (let i = 0; i < n; i++) data[i] = u[i]! < sample.p ? 1 : 0;
      break;
    }
    case 'gumbel': {
      // centre u on a 2^-52 grid: strictly inside (0, 1), so both logarithms stay finite
      const u = unitUniform(k0, k1, n, 'float64');
      for (let i = 0; i < n; i++) {
        const open = (Math.floor(u[i]! * 4503599627370496) + 0.5) / 4503599627370496;
        data[i] = -Math.log(-Math.log(open));
      }
      break;
    }
  }
  return data;
}
