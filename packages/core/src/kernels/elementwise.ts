import { allocate, type DType, type TensorData } from '../dtype.js';
import { sizeOf, type Shape } from '../shape.js';
import { planBroadcast } from './broadcast-plan.js';

/** Elementwise functions of one argument. */
export type UnaryCode =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'square' | 'tanh' | 'sigmoid' | 'relu' | 'sign'
  | 'leakyRelu' | 'elu' | 'softplus' | 'log1p' | 'expm1' | 'isFinite';

/**
 * Applies a unary function. `p0`/`p1` carry the parameters of the parameterised ones (leaky slope, ELU alpha,
 * softplus beta and threshold). One loop per function: the switch is outside the hot loop.
 */
export function unaryKernel(code: UnaryCode, x: TensorData, dtype: DType, p0 = 0, p1 = 0): TensorData {
  const n = x.length;
  const o = allocate(dtype, n);
  switch (code) {
    case 'neg': for (let i = 0; i < n; i++) o[i] = -x[i]!; break;
    case 'exp': for (let i = 0; i < n; i++) o[i] = Math.exp(x[i]!); break;
    case 'log': for (let i = 0; i < n; i++) o[i] = Math.log(x[i]!); break;
    case 'sqrt': for (let i = 0; i < n; i++) o[i] = Math.sqrt(x[i]!); break;
    case 'abs': for (let i = 0; i < n; i++) o[i] = Math.abs(x[i]!); break;
    case 'square': for (let i = 0; i < n; i++) { const v = x[i]!; o[i] = v * v; } break;
    case 'tanh': for (let i = 0; i < n; i++) o[i] = Math.tanh(x[i]!); break;
    case 'sigmoid':
      // Two branches keep exp's argument non-positive, so neither overflows.
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        if (v >= 0) o[i] = 1 / (1 + Math.exp(-v));
        else { const e = Math.exp(v); o[i] = e / (1 + e); }
      }
      break;
    case 'relu': for (let i = 0; i < n; i++) { const v = x[i]!; o[i] = v > 0 ? v : 0; } break;
    case 'sign': for (let i = 0; i < n; i++) { const v = x[i]!; o[i] = v > 0 ? 1 : v < 0 ? -1 : v; } break;
    case 'leakyRelu': for (let i = 0; i < n; i++) { const v = x[i]!; o[i] = v > 0 ? v : v * p0; } break;
    case 'elu': for (let i = 0; i < n; i++) { const v = x[i]!; o[i] = v > 0 ? v : p0 * Math.expm1(v); } break;
    case 'softplus':
      // PyTorch: x where beta*x > threshold (linear regime), else log1p(exp(beta*x)) / beta.
      for (let i = 0; i < n; i++) {
        const v = x[i]! * p0;
        o[i] = v > p1 ? x[i]! : Math.log1p(Math.exp(v)) / p0;
      }
      break;
    case 'log1p': for (let i = 0; i < n; i++) o[i] = Math.log1p(x[i]!); break;
    case 'expm1': for (let i = 0; i < n; i++) o[i] = Math.expm1(x[i]!); break;
    case 'isFinite': for (let i = 0; i < n; i++) o[i] = Number.isFinite(x[i]!) ? 1 : 0; break;
  }
  return o;
}

/** Elementwise functions of two (broadcast) arguments; comparisons write 0/1. */
export type BinaryCode =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'greater' | 'less' | 'equal' | 'greaterEqual' | 'lessEqual' | 'notEqual';

/**
 * Applies a binary function with NumPy broadcasting to `outShape`, row by row through a
 * {@link planBroadcast} plan: equal shapes are one contiguous row; bias-like and scalar operands are
 * stride-0 or repeated rows. One loop per function, the switch outside it.
 */
export function binaryKernel(
  code: BinaryCode, a: TensorData, aShape: Shape, b: TensorData, bShape: Shape, outShape: Shape, outDType: DType,
): TensorData {
  const o = allocate(outDType, sizeOf(outShape));
  const { outer, inner, rows, strides } = planBroadcast([aShape, bShape], outShape);
  const [aRows, bRows] = rows as [Int32Array | null, Int32Array | null];
  const [as, bs] = strides as [number, number];
  for (let r = 0; r < outer; r++) {
    const base = r * inner;
    const ao = aRows === null ? 0 : aRows[r]!;
    const bo = bRows === null ? 0 : bRows[r]!;
    switch (code) {
      case 'add': for (let j = 0; j < inner; j++) o[base + j] = a[ao + j * as]! + b[bo + j * bs]!; break;
      case 'sub': for (let j = 0; j < inner; j++) o[base + j] = a[ao + j * as]! - b[bo + j * bs]!; break;
      case 'mul': for (let j = 0; j < inner; j++) o[base + j] = a[ao + j * as]! * b[bo + j * bs]!; break;
      case 'div': for (let j = 0; j < inner; j++) o[base + j] = a[ao + j * as]! / b[bo + j * bs]!; break;
      case 'pow': for (let j = 0; j < inner; j++) o[base + j] = Math.pow(a[ao + j * as]!, b[bo + j * bs]!); break;
      case 'maximum':
        for (let j = 0; j < inner; j++) { const x = a[ao + j * as]!, y = b[bo + j * bs]!; o[base + j] = x > y || x !== x ? x : y; }
        break;
      case 'minimum':
        for (let j = 0; j < inner; j++) { const x = a[ao + j * as]!, y = b[bo + j * bs]!; o[base + j] = x < y || x !== x ? x : y; }
        break;
      case 'greater': for (let j = 0; j < inner; j++) o[base + j] = a[ao + j * as]! > b[bo + j * bs]! ? 1 : 0; break;
      case 'less': for (let j = 0; j < inner; j++) o[base + j] = a[ao + j * as]! < b[bo + j * bs]! ? 1 : 0; break;
      case 'equal': for (let j = 0; j < inner; j++) o[base + j] = a[ao + j * as]! === b[bo + j * bs]! ? 1 : 0; break;
      case 'greaterEqual': for (let j = 0; j < inner; j++) o[base + j] = a[ao + j * as]! >= b[bo + j * bs]! ? 1 : 0; break;
      case 'lessEqual': for (let j = 0; j < inner; j++) o[base + j] = a[ao + j * as]! <= b[bo + j * bs]! ? 1 : 0; break;
      case 'notEqual': for (let j = 0; j < inner; j++) o[base + j] = a[ao + j * as]! !== b[bo + j * bs]! ? 1 : 0; break;
    }
  }
  return o;
}

/** `cond ? a : b` elementwise with three-way broadcasting (cond nonzero = true), row by row as {@link binaryKernel}. */
export function whereKernel(
  cond: TensorData, condShape: Shape, a: TensorData, aShape: Shape, b: TensorData, bShape: Shape, outShape: Shape, dtype: DType,
): TensorData {
  const o = allocate(dtype, sizeOf(outShape));
  const { outer, inner, rows, strides } = planBroadcast([condShape, aShape, bShape], outShape);
  const [cRows, aRows, bRows] = rows as [Int32Array | null, Int32Array | null, Int32Array | null];
  const [cs, as, bs] = strides as [number, number, number];
  for (let r = 0; r < outer; r++) {
    const base = r * inner;
    const co = cRows === null ? 0 : cRows[r]!;
    const ao = aRows === null ? 0 : aRows[r]!;
    const bo = bRows === null ? 0 : bRows[r]!;
    for (let j = 0; j < inner; j++) o[base + j] = cond[co + j * cs] !== 0 ? a[ao + j * as]! : b[bo + j * bs]!;
  }
  return o;
}

/** Converts storage to another dtype (float → int32 truncates toward zero, as PyTorch's `.to(torch.int32)`). */
export function castKernel(x: TensorData, dtype: DType): TensorData {
  const o = allocate(dtype, x.length);
  if (dtype === 'int32') for (let i = 0; i < x.length; i++) o[i] = Math.trunc(x[i]!);
  else o.set(x);
  return o;
}
