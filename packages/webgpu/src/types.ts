/**
 * The shapes of the backend interface this package implements. They mirror what `@tapestry/core` declares for
 * its backends (a primitive's name, its attributes, abstract values); the kernels here are planned from them.
 */
import type { DType } from '@tapestry/core';

/** The dtypes WGSL can hold: it has no f64. */
export type GpuDType = 'float32' | 'int32';

/** A value's type without data: what a kernel is planned from. */
export interface AbstractValue {
  /** The shape. */
  readonly shape: readonly number[];
  /** The dtype. */
  readonly dtype: DType;
}

/** What `random` draws (core's `Sample`): a distribution, its parameters, the shape and the dtype. */
export type Sample =
  | { readonly kind: 'uniform'; readonly shape: readonly number[]; readonly dtype: DType; readonly low: number; readonly high: number }
  | { readonly kind: 'normal'; readonly shape: readonly number[]; readonly dtype: DType; readonly mean: number; readonly std: number }
  | { readonly kind: 'bernoulli'; readonly shape: readonly number[]; readonly dtype: DType; readonly p: number }
  | { readonly kind: 'gumbel'; readonly shape: readonly number[]; readonly dtype: DType };

/** Reduction attributes (sum, max, min). */
export interface ReduceAttrs {
  /** The reduced axes, sorted and non-negative. */
  readonly axes: readonly number[];
  /** Whether reduced axes stay as size 1. */
  readonly keepDims: boolean;
}

/** The attributes of every primitive, by name. */
export interface PrimitiveAttrs {
  neg: undefined; exp: undefined; log: undefined; log1p: undefined; sqrt: undefined; abs: undefined; square: undefined;
  sign: undefined; cos: undefined; sin: undefined; floor: undefined; tanh: undefined; sigmoid: undefined; relu: undefined;
  leakyRelu: { readonly slope: number };
  elu: { readonly alpha: number };
  softplus: { readonly beta: number; readonly threshold: number };
  isFinite: undefined;
  add: undefined; sub: undefined; mul: undefined; div: undefined; pow: undefined; maximum: undefined; minimum: undefined;
  greater: undefined; less: undefined; equal: undefined; greaterEqual: undefined; lessEqual: undefined; notEqual: undefined;
  where: undefined;
  cast: { readonly dtype: DType };
  sum: ReduceAttrs; max: ReduceAttrs; min: ReduceAttrs;
  argmax: { readonly axis: number; readonly keepDims: boolean };
  oneHot: { readonly depth: number; readonly dtype: DType };
  matmul: { readonly transA: boolean; readonly transB: boolean };
  reshape: { readonly shape: readonly number[] };
  transpose: { readonly perm: readonly number[] };
  broadcastTo: { readonly shape: readonly number[] };
  slice: { readonly begin: readonly number[]; readonly size: readonly number[] };
  pad: { readonly begin: readonly number[]; readonly shape: readonly number[] };
  concat: { readonly axis: number };
  gather: { readonly axis: number };
  scatterAdd: { readonly axis: number; readonly shape: readonly number[] };
  deriveKey: { readonly c0: number; readonly c1: number };
  random: Sample;
}

/** Every primitive's name. */
export type PrimitiveName = keyof PrimitiveAttrs;

/** The attributes of primitive `P`. */
export type AttrsOf<P extends PrimitiveName> = PrimitiveAttrs[P];

/** The elementwise primitives of one operand. */
export type UnaryName =
  | 'neg' | 'exp' | 'log' | 'log1p' | 'sqrt' | 'abs' | 'square' | 'sign' | 'cos' | 'sin' | 'floor' | 'tanh' | 'sigmoid'
  | 'relu' | 'leakyRelu' | 'elu' | 'softplus' | 'isFinite';

/** The elementwise primitives of two broadcast operands. */
export type BinaryName =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'greater' | 'less' | 'equal' | 'greaterEqual' | 'lessEqual' | 'notEqual';

/** One member of a fused elementwise group, in program order. */
export interface FusedInstruction {
  /** The primitive (an elementwise one: unary, binary, `where` or `cast`). */
  readonly op: UnaryName | BinaryName | 'where' | 'cast';
  /** Its attributes (`{ slope }`, `{ dtype }`, …; undefined for most). */
  readonly attrs?: unknown;
  /** The member's dtype. */
  readonly dtype: DType;
  /** Operands: `k ≥ 0` is external input k, `-(m + 1)` is member m's value. */
  readonly operands: readonly number[];
  /** Whether the member's value leaves the group (is written to one of the kernel's outputs, in member order). */
  readonly output: boolean;
}

/** A planned kernel: encodes its work over the given storage (into the backend's pending commands). */
export type KernelRun<S> = (inputs: readonly S[], output: S) => void;
