import { ShapeError } from './errors.js';

/**
 * Element types a {@link Tensor} can hold. `float32` is the fast path, `float64` the reference (every
 * gradient test runs in it), `int32` holds indices and class ids and is never differentiated.
 */
export type DType = 'float32' | 'float64' | 'int32';

/** Any storage a tensor may have. */
export type TensorData = Float32Array | Float64Array | Int32Array;

/** The dtypes; used to validate user input. */
export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

/** Whether `dtype` is a floating-point dtype (the only differentiable ones). */
export function isFloat(dtype: DType): boolean {
  return dtype !== 'int32';
}

/**
 * How many times {@link allocate} has run: tests read it to show that a compiled plan allocates no
 * working memory after its first call.
 * @internal
 */
export const allocations = { count: 0 };

/** Allocates zeroed storage of `size` elements for `dtype`. */
export function allocate(dtype: DType, size: number): TensorData {
  allocations.count++;
  try {
    switch (dtype) {
      case 'float32':
        return new Float32Array(size);
      case 'float64':
        return new Float64Array(size);
      case 'int32':
        return new Int32Array(size);
    }
  } catch (e) {
    // the engine's RangeError ("Invalid typed array length", "Array buffer allocation failed") says nothing of the
    // shape; the creation functions refuse sizes over 2^31 − 1 first, so this is a shape that an op produced
    if (e instanceof RangeError) throw new ShapeError(`cannot allocate a ${dtype} tensor of ${size} elements: ${e.message}`);
    throw e;
  }
}

/** The dtype whose storage is `data`, or undefined for other arrays. */
export function dtypeOfArray(data: unknown): DType | undefined {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  return undefined;
}

/** Short dtype names used in graph listings and error messages (`f32[2,3]`). */
export const DTYPE_ABBREVIATION: Readonly<Record<DType, string>> = { float32: 'f32', float64: 'f64', int32: 'i32' };
