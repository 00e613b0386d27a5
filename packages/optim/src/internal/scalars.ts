/**
 * Where a scalar computed from the update count (a bias correction, a scheduled learning rate) meets the
 * updates: in the updates' dtype, exactly where a JS number used to be passed to an op. On a device that
 * holds float64 (the CPU) the scalar is computed in float64, as PyTorch computes it in Python; a number
 * passed to `mul(x, n)` is rounded to x's dtype, and casting the float64 value rounds it the same way, so
 * the bits are those of the old JS arithmetic. A device without float64 (WebGPU: WGSL has no f64)
 * computes it in float32, the widest float it has.
 */
import { cast, cpu, devicePut, scalar, Tensor, treeLeaves, type Backend, type DType, type TensorLike } from '@tapestry/core';

/** A hyper-parameter known up front (a number) or computed from the update count (a 0-d float tensor). */
export type Scalar = number | Tensor;

/** The float scalars derived from a count on `device` are computed in: float64 where it holds it, else float32. */
export function scalarFloat(device: Backend): 'float64' | 'float32' {
  return device.dtypes.includes('float64') ? 'float64' : 'float32';
}

/** The device of a tree's first tensor leaf (the CPU for a tree without tensors). */
export function deviceOfTree(tree: unknown): Backend {
  const first = treeLeaves(tree).find((leaf): leaf is Tensor => leaf instanceof Tensor);
  return first === undefined ? cpu : first.backend;
}

/** A 0-d tensor of `value` on `device`: state and constants live where the parameters do. */
export function scalarOn(device: Backend, value: number, dtype: DType): Tensor {
  return devicePut(scalar(value, dtype), device);
}

/**
 * `value` as an operand for tensors of a given dtype: a number as it is, a tensor cast once per dtype
 * (a tree mixing float32 and float64 leaves casts twice, not once per leaf).
 */
export function inDtype(value: Scalar): (dtype: DType) => TensorLike {
  if (typeof value === 'number') return () => value;
  const casts = new Map<DType, Tensor>();
  return (dtype) => {
    let c = casts.get(dtype);
    if (c === undefined) casts.set(dtype, (c = cast(value, dtype)));
    return c;
  };
}
