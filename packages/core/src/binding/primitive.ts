/**
 * The primitive table's types: every primitive's name, attributes and kind in one place. A table keyed by
 * primitive (`{ [P in PrimitiveName]: … }`) — the VJP rules, a backend's kernels — fails to type-check when
 * an entry is missing, so adding a primitive without its kernel is a compile error, not a silent fallback.
 */
import type { DType } from '../dtype.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** A value's type as shape rules and kernel planners see it: shape and dtype, no data. */
export interface AbstractValue {
  /** The shape. */
  readonly shape: Shape;
  /** The dtype. */
  readonly dtype: DType;
}

/** leakyRelu's attribute: the slope for x ≤ 0. */
export interface LeakyReluAttrs {
  /** The slope applied to non-positive inputs. */
  readonly slope: number;
}
/** elu's attribute. */
export interface EluAttrs {
  /** The scale of the negative branch `alpha · (eˣ − 1)`. */
  readonly alpha: number;
}
/** softplus's attributes, PyTorch's `softplus(x, beta, threshold)`. */
export interface SoftplusAttrs {
  /** The sharpness β. */
  readonly beta: number;
  /** Above `βx > threshold` the function is the identity. */
  readonly threshold: number;
}
/** Which operands of a product enter transposed (their last two axes swapped). */
export interface MatmulAttrs {
  /** op(A) = Aᵀ. */
  readonly transA: boolean;
  /** op(B) = Bᵀ. */
  readonly transB: boolean;
}
/** The axes a reduction folds, and whether they stay as size 1. */
export interface ReduceAttrs {
  /** Sorted, distinct, non-negative axes. */
  readonly axes: readonly number[];
  /** Keep the reduced axes as size 1. */
  readonly keepDims: boolean;
}
/** A block of the input: its start and size per axis. */
export interface SliceAttrs {
  /** Start per axis. */
  readonly begin: readonly number[];
  /** Size per axis (the output's shape). */
  readonly size: readonly number[];
}
/** The input placed at `begin` inside zeros of `shape` (slice's transpose). */
export interface PadAttrs {
  /** Where the input's first element goes. */
  readonly begin: readonly number[];
  /** The output's shape. */
  readonly shape: Shape;
}
/** cast's attribute. */
export interface CastAttrs {
  /** The target dtype. */
  readonly dtype: DType;
}
/** argmax's attributes. */
export interface ArgmaxAttrs {
  /** The axis searched (non-negative). */
  readonly axis: number;
  /** Keep it as size 1. */
  readonly keepDims: boolean;
}
/** A target shape (reshape, broadcastTo). */
export interface ShapeAttrs {
  /** The output's shape. */
  readonly shape: Shape;
}
/** transpose's attribute. */
export interface TransposeAttrs {
  /** Output axis i is input axis `perm[i]`. */
  readonly perm: readonly number[];
}
/** One axis (concat, gather). */
export interface AxisAttrs {
  /** The axis (non-negative). */
  readonly axis: number;
}
/** scatterAdd's attributes. */
export interface ScatterAddAttrs {
  /** The axis rows are added along. */
  readonly axis: number;
  /** The output's shape (gather's input shape). */
  readonly shape: Shape;
}
/** oneHot's attributes. */
export interface OneHotAttrs {
  /** Classes: the size of the new last axis. */
  readonly depth: number;
  /** The output's dtype. */
  readonly dtype: DType;
}
/** deriveKey's attributes: the counter whose key is derived. */
export interface DeriveKeyAttrs {
  /** First counter word. */
  readonly c0: number;
  /** Second counter word. */
  readonly c1: number;
}
/** What every sample has: the output's shape and dtype. */
interface SampleBase {
  /** The output's shape. */
  readonly shape: Shape;
  /** The output's dtype. */
  readonly dtype: DType;
}
/** Uniform numbers in [low, high). */
export interface UniformSample extends SampleBase {
  /** The distribution. */
  readonly kind: 'uniform';
  /** Lower bound (included). */
  readonly low: number;
  /** Upper bound (excluded). */
  readonly high: number;
}
/** Normal numbers. */
export interface NormalSample extends SampleBase {
  /** The distribution. */
  readonly kind: 'normal';
  /** The mean. */
  readonly mean: number;
  /** The standard deviation. */
  readonly std: number;
}
/** 0/1 draws that are 1 with probability p. */
export interface BernoulliSample extends SampleBase {
  /** The distribution. */
  readonly kind: 'bernoulli';
  /** The probability of a 1. */
  readonly p: number;
}
/** Standard Gumbel numbers (for sampling categories with argmax). */
export interface GumbelSample extends SampleBase {
  /** The distribution. */
  readonly kind: 'gumbel';
}
/** What a `random` node draws. */
export type SampleAttrs = UniformSample | NormalSample | BernoulliSample | GumbelSample;
/** A custom VJP's call: its precomputed value and what its backward half needs. */
export interface CustomVjpAttrs {
  /** The function's name, as errors show it. */
  readonly name: string;
  /** The value computed by the forward half (untaped). */
  readonly value: Tensor;
  /** What the forward half saved for the backward half. */
  readonly residuals: unknown;
  /** The backward half: one cotangent per input. */
  readonly bwd: (ct: Tensor, residuals: unknown, xs: readonly Tensor[]) => (Tensor | null)[];
}

/** The elementwise primitives of one operand whose only attribute is none. */
export type PlainUnaryName =
  'neg' | 'exp' | 'expm1' | 'log' | 'log1p' | 'sqrt' | 'abs' | 'square' | 'sign' | 'cos' | 'sin' | 'floor' | 'tanh' | 'sigmoid' | 'relu' | 'isFinite';
/** The elementwise primitives of two broadcast operands. */
export type BinaryName =
  'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'greater' | 'less' | 'equal' | 'greaterEqual' | 'lessEqual' | 'notEqual';

/** The primitives that take attributes, and their attributes (see {@link PrimitiveAttrs}). */
export interface AttributedPrimitives {
  /** `x` for x > 0, `slope · x` otherwise. */
  leakyRelu: LeakyReluAttrs;
  /** `x` for x > 0, `alpha · (eˣ − 1)` otherwise. */
  elu: EluAttrs;
  /** `log(1 + e^(βx)) / β`, linear above the threshold. */
  softplus: SoftplusAttrs;
  /** `cond ? a : b` with three-way broadcasting. */
  where: undefined;
  /** A dtype conversion. */
  cast: CastAttrs;
  /** Sum over axes. */
  sum: ReduceAttrs;
  /** Maximum over axes. */
  max: ReduceAttrs;
  /** Minimum over axes. */
  min: ReduceAttrs;
  /** Index of the maximum along one axis. */
  argmax: ArgmaxAttrs;
  /** Batched matrix product. */
  matmul: MatmulAttrs;
  /** The same elements in a new shape (shares storage where the backend can). */
  reshape: ShapeAttrs;
  /** A permutation of the axes. */
  transpose: TransposeAttrs;
  /** Repetition along broadcast axes. */
  broadcastTo: ShapeAttrs;
  /** A block of the input. */
  slice: SliceAttrs;
  /** The input inside zeros (slice's transpose). */
  pad: PadAttrs;
  /** Joining along an axis. */
  concat: AxisAttrs;
  /** Rows picked by int32 indices along an axis. */
  gather: AxisAttrs;
  /** Rows added back by int32 indices (gather's transpose). */
  scatterAdd: ScatterAddAttrs;
  /** One-hot rows of int32 indices. */
  oneHot: OneHotAttrs;
  /** A key derived from a key tensor by counter (split, foldIn). */
  deriveKey: DeriveKeyAttrs;
  /** A sample drawn from a key tensor. */
  random: SampleAttrs;
  /** A function with a user-given VJP. */
  customVjp: CustomVjpAttrs;
}

/**
 * Every primitive and its attributes. This is the table's spine: a primitive exists when it has an entry
 * here, and the mapped tables keyed by {@link PrimitiveName} then require its rule and its kernels.
 */
export type PrimitiveAttrs = { readonly [P in PlainUnaryName | BinaryName]: undefined } & AttributedPrimitives;

/** A primitive's name. */
export type PrimitiveName = keyof PrimitiveAttrs;

/** The attributes of primitive `P`. */
export type AttrsOf<P extends PrimitiveName> = PrimitiveAttrs[P];

/**
 * How a primitive computes, which is what passes and backends dispatch on (never on names):
 * - `elementwise`: output element i reads element i of each (broadcast) operand; fusible into one kernel.
 * - `reduction`: folds axes. `contraction`: a product. `layout`: moves elements without arithmetic.
 * - `indexing`: reads or writes by int32 indices. `random`: draws from a key. `custom`: a user-given rule.
 */
export type PrimitiveKind = 'elementwise' | 'reduction' | 'contraction' | 'layout' | 'indexing' | 'random' | 'custom';

/** The elementwise primitives. */
export type ElementwiseName = PlainUnaryName | BinaryName | 'leakyRelu' | 'elu' | 'softplus' | 'where' | 'cast';

/** A VJP rule: the output's cotangent to one cotangent per input (null where an input gets none). */
export type VjpRule<P extends PrimitiveName> = (ct: Tensor, inputs: readonly Tensor[], output: Tensor, attrs: AttrsOf<P>) => (Tensor | null)[];

/**
 * A primitive op: the unit the tape records, the graph holds and a backend's kernel computes. Its shape rule
 * runs once per call (in `bind`) and its result is handed to the kernel; its VJP is written with other ops,
 * so gradients of gradients work. A VJP may return a cotangent with the broadcast shape; the engine sums it
 * back to the input's shape in one place.
 */
export interface Primitive<P extends PrimitiveName = PrimitiveName> {
  /** The op's name, as errors and graph listings show it. */
  readonly name: P;
  /** How it computes (see {@link PrimitiveKind}). */
  readonly kind: PrimitiveKind;
  /** The output's shape and dtype from the inputs' (arguments were checked by the public op function). */
  readonly shape: (inputs: readonly AbstractValue[], attrs: AttrsOf<P>) => AbstractValue;
  /** The vector-Jacobian product; null for a non-differentiable op. */
  readonly vjp: VjpRule<P> | null;
}

/** Declares a primitive (the op module holds it beside its public function). */
export function definePrimitive<P extends PrimitiveName>(primitive: Primitive<P>): Primitive<P> {
  return primitive;
}
