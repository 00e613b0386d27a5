import { allocate, type DType, type TensorData } from '../dtype.js';
import { expFloat32Range, sigmoidFloat32Range, tanhFloat32Range } from './fast-math.js';
import { binaryWasm, unaryWasm, WASM_MIN_ELEMENTS, whereWasm } from './wasm/elementwise-wasm.js';

/** Elementwise functions of one argument. */
export type UnaryCode =
  | 'neg'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'abs'
  | 'square'
  | 'tanh'
  | 'sigmoid'
  | 'relu'
  | 'sign'
  | 'leakyRelu'
  | 'elu'
  | 'softplus'
  | 'log1p'
  | 'expm1'
  | 'isFinite'
  | 'cos'
  | 'sin'
  | 'floor';

/**
 * Applies a unary function. `p0`/`p1` carry the parameters of the parameterised ones (leaky slope, ELU alpha,
 * softplus beta and threshold).
 */
export function unaryKernel(code: UnaryCode, x: TensorData, dtype: DType, p0 = 0, p1 = 0): TensorData {
  const o = allocate(dtype, x.length);
  unaryRange(code, x, 0, 1, o, 0, x.length, p0, p1);
  return o;
}

/**
 * Rows from which float32 exp, tanh and sigmoid run on the SIMD kernels: their JavaScript twins emulate
 * float32 arithmetic with `Math.fround` at 30–40 ns per element, which the SIMD call's fixed cost of about
 * half a microsecond undercuts from about 12 elements on (tanh: 8 elements 0.55 µs against 0.31, 16 elements
 * 0.47 against 0.63, 64 elements 0.99 against 2.65; Node 20 on a 2.4 GHz EPYC).
 */
const TRANSCENDENTAL_WASM_MIN_ELEMENTS = 16;

/**
 * The loop of {@link unaryKernel} over a range: `o[oo + i] = f(x[xo + i·xs])` for i < n (xs is 1, or 0 for a
 * broadcast scalar). Eager kernels and compiled (fused) plans share it, so both round identically. One loop
 * per function: the switch is outside the hot loop. Rows of at least `WASM_MIN_ELEMENTS` (128), or 16 for exp,
 * tanh and sigmoid, run on the WebAssembly SIMD kernels where they cover the function and dtype (same bits; see
 * wasm/elementwise-wasm.ts).
 */
export function unaryRange(code: UnaryCode, x: TensorData, xo: number, xs: number, o: TensorData, oo: number, n: number, p0 = 0, p1 = 0): void {
  const transcendental = code === 'exp' || code === 'tanh' || code === 'sigmoid';
  if (n >= (transcendental ? TRANSCENDENTAL_WASM_MIN_ELEMENTS : WASM_MIN_ELEMENTS) && unaryWasm(code, x, xo, xs, o, oo, n, p0)) return;
  switch (code) {
    case 'neg':
      for (let i = 0; i < n; i++) o[oo + i] = -x[xo + i * xs]!;
      break;
    case 'exp':
      // float32 results take fast-math's float32 kernels (within a float32 ulp or two); float64 keeps Math.* exactly
      if (o instanceof Float32Array && x instanceof Float32Array) expFloat32Range(x, xo, xs, o, oo, n);
      else for (let i = 0; i < n; i++) o[oo + i] = Math.exp(x[xo + i * xs]!);
      break;
    case 'log':
      for (let i = 0; i < n; i++) o[oo + i] = Math.log(x[xo + i * xs]!);
      break;
    case 'sqrt':
      for (let i = 0; i < n; i++) o[oo + i] = Math.sqrt(x[xo + i * xs]!);
      break;
    case 'abs':
      for (let i = 0; i < n; i++) o[oo + i] = Math.abs(x[xo + i * xs]!);
      break;
    case 'square':
      for (let i = 0; i < n; i++) {
        const v = x[xo + i * xs]!;
        o[oo + i] = v * v;
      }
      break;
    case 'tanh':
      if (o instanceof Float32Array && x instanceof Float32Array) tanhFloat32Range(x, xo, xs, o, oo, n);
      else for (let i = 0; i < n; i++) o[oo + i] = Math.tanh(x[xo + i * xs]!);
      break;
    case 'sigmoid':
      if (o instanceof Float32Array && x instanceof Float32Array) {
        sigmoidFloat32Range(x, xo, xs, o, oo, n);
        break;
      }
      // Two branches keep exp's argument non-positive, so neither overflows.
      for (let i = 0; i < n; i++) {
        const v = x[xo + i * xs]!;
        if (v >= 0) o[oo + i] = 1 / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          o[oo + i] = e / (1 + e);
        }
      }
      break;
    case 'relu':
      for (let i = 0; i < n; i++) {
        const v = x[xo + i * xs]!;
        o[oo + i] = v > 0 ? v : 0;
      }
      break;
    case 'sign':
      for (let i = 0; i < n; i++) {
        const v = x[xo + i * xs]!;
        o[oo + i] = v > 0 ? 1 : v < 0 ? -1 : v;
      }
      break;
    case 'leakyRelu':
      for (let i = 0; i < n; i++) {
        const v = x[xo + i * xs]!;
        o[oo + i] = v > 0 ? v : v * p0;
      }
      break;
    case 'elu':
      for (let i = 0; i < n; i++) {
        const v = x[xo + i * xs]!;
        o[oo + i] = v > 0 ? v : p0 * Math.expm1(v);
      }
      break;
    case 'softplus':
      // PyTorch: x where beta*x > threshold (linear regime), else log1p(exp(beta*x)) / beta.
      for (let i = 0; i < n; i++) {
        const v = x[xo + i * xs]! * p0;
        o[oo + i] = v > p1 ? x[xo + i * xs]! : Math.log1p(Math.exp(v)) / p0;
      }
      break;
    case 'log1p':
      for (let i = 0; i < n; i++) o[oo + i] = Math.log1p(x[xo + i * xs]!);
      break;
    case 'expm1':
      for (let i = 0; i < n; i++) o[oo + i] = Math.expm1(x[xo + i * xs]!);
      break;
    case 'isFinite':
      for (let i = 0; i < n; i++) o[oo + i] = Number.isFinite(x[xo + i * xs]!) ? 1 : 0;
      break;
    case 'cos':
      for (let i = 0; i < n; i++) o[oo + i] = Math.cos(x[xo + i * xs]!);
      break;
    case 'sin':
      for (let i = 0; i < n; i++) o[oo + i] = Math.sin(x[xo + i * xs]!);
      break;
    case 'floor':
      for (let i = 0; i < n; i++) o[oo + i] = Math.floor(x[xo + i * xs]!);
      break;
  }
}

/** Elementwise functions of two (broadcast) arguments; comparisons write 0/1. */
export type BinaryCode =
  'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'greater' | 'less' | 'equal' | 'greaterEqual' | 'lessEqual' | 'notEqual';

/**
 * One row of a binary function: `o[oo + j] = f(a[ao + j·as], b[bo + j·bs])` for j < n, strides 0 or 1.
 * Shared by eager kernels and compiled (fused) plans, so both round identically. Long enough float rows
 * run on the WebAssembly SIMD kernels (same bits; see wasm/elementwise-wasm.ts), the rest here.
 */
export function binaryRange(
  code: BinaryCode,
  a: TensorData,
  ao: number,
  as: number,
  b: TensorData,
  bo: number,
  bs: number,
  o: TensorData,
  oo: number,
  n: number,
): void {
  if (n >= WASM_MIN_ELEMENTS && binaryWasm(code, a, ao, as, b, bo, bs, o, oo, n)) return;
  switch (code) {
    case 'add':
      for (let j = 0; j < n; j++) o[oo + j] = a[ao + j * as]! + b[bo + j * bs]!;
      break;
    case 'sub':
      for (let j = 0; j < n; j++) o[oo + j] = a[ao + j * as]! - b[bo + j * bs]!;
      break;
    case 'mul':
      for (let j = 0; j < n; j++) o[oo + j] = a[ao + j * as]! * b[bo + j * bs]!;
      break;
    case 'div':
      for (let j = 0; j < n; j++) o[oo + j] = a[ao + j * as]! / b[bo + j * bs]!;
      break;
    case 'pow':
      for (let j = 0; j < n; j++) o[oo + j] = Math.pow(a[ao + j * as]!, b[bo + j * bs]!);
      break;
    case 'maximum':
      for (let j = 0; j < n; j++) {
        const x = a[ao + j * as]!,
          y = b[bo + j * bs]!;
        o[oo + j] = x > y || x !== x ? x : y;
      }
      break;
    case 'minimum':
      for (let j = 0; j < n; j++) {
        const x = a[ao + j * as]!,
          y = b[bo + j * bs]!;
        o[oo + j] = x < y || x !== x ? x : y;
      }
      break;
    case 'greater':
      for (let j = 0; j < n; j++) o[oo + j] = a[ao + j * as]! > b[bo + j * bs]! ? 1 : 0;
      break;
    case 'less':
      for (let j = 0; j < n; j++) o[oo + j] = a[ao + j * as]! < b[bo + j * bs]! ? 1 : 0;
      break;
    case 'equal':
      for (let j = 0; j < n; j++) o[oo + j] = a[ao + j * as]! === b[bo + j * bs]! ? 1 : 0;
      break;
    case 'greaterEqual':
      for (let j = 0; j < n; j++) o[oo + j] = a[ao + j * as]! >= b[bo + j * bs]! ? 1 : 0;
      break;
    case 'lessEqual':
      for (let j = 0; j < n; j++) o[oo + j] = a[ao + j * as]! <= b[bo + j * bs]! ? 1 : 0;
      break;
    case 'notEqual':
      for (let j = 0; j < n; j++) o[oo + j] = a[ao + j * as]! !== b[bo + j * bs]! ? 1 : 0;
      break;
  }
}

/** One row of `cond ? a : b`: strides 0 or 1, as {@link binaryRange} (and like it on SIMD where it can). */
export function whereRange(
  cond: TensorData,
  co: number,
  cs: number,
  a: TensorData,
  ao: number,
  as: number,
  b: TensorData,
  bo: number,
  bs: number,
  o: TensorData,
  oo: number,
  n: number,
): void {
  if (n >= WASM_MIN_ELEMENTS && whereWasm(cond, co, cs, a, ao, as, b, bo, bs, o, oo, n)) return;
  for (let j = 0; j < n; j++) o[oo + j] = cond[co + j * cs] !== 0 ? a[ao + j * as]! : b[bo + j * bs]!;
}

/** One row of a cast: `o[oo + i] = x[xo + i·xs]`, truncated toward zero when `toInt`. */
export function castRange(x: TensorData, xo: number, xs: number, o: TensorData, oo: number, n: number, toInt: boolean): void {
  if (toInt) for (let i = 0; i < n; i++) o[oo + i] = Math.trunc(x[xo + i * xs]!);
  else if (xs === 1) o.set(x.subarray(xo, xo + n), oo);
  else for (let i = 0; i < n; i++) o[oo + i] = x[xo + i * xs]!;
}
