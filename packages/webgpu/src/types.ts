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

/** Fields every {@link Sample} has. */
export interface SampleBase {
  /** The sample's shape. */
  readonly shape: readonly number[];
  /** Its dtype. */
  readonly dtype: DType;
}

/** Uniform numbers in [low, high). */
export interface UniformSample extends SampleBase {
  /** The distribution. */
  readonly kind: 'uniform';
  /** Lower bound (inclusive). */
  readonly low: number;
  /** Upper bound (exclusive). */
  readonly high: number;
}

/** Normal numbers (Box–Muller). */
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

/** Standard Gumbel noise (what `categorical` adds to its logits). */
export interface GumbelSample extends SampleBase {
  /** The distribution. */
  readonly kind: 'gumbel';
}

/** What `random` draws (core's `Sample`): a distribution, its parameters, the shape and the dtype. */
export type Sample = UniformSample | NormalSample | BernoulliSample | GumbelSample;

/** Reduction attributes (sum, max, min). */
export interface ReduceAttrs {
  /** The reduced axes, sorted and non-negative. */
  readonly axes: readonly number[];
  /** Whether reduced axes stay as size 1. */
  readonly keepDims: boolean;
}

/** An attribute holding one axis. */
export interface AxisAttrs {
  /** The axis (non-negative). */
  readonly axis: number;
}

/** An attribute holding a target shape. */
export interface ShapeAttrs {
  /** The target shape. */
  readonly shape: readonly number[];
}

/** Elementwise ops of one operand without parameters. */
export type PlainUnary = 'neg' | 'exp' | 'expm1' | 'log' | 'log1p' | 'sqrt' | 'abs' | 'square' | 'sign' | 'cos' | 'sin' | 'floor' | 'tanh' | 'sigmoid' | 'relu' | 'isFinite';

/**
 * The attributes of every primitive, by name (undefined for those without). Parameterised unary ops name
 * their parameters: leakyRelu `{ slope }`, elu `{ alpha }`, softplus `{ beta, threshold }`.
 */
export type PrimitiveAttrs = { readonly [P in PlainUnary | BinaryName | 'where']: undefined } & {
  /** The negative slope. */
  readonly leakyRelu: {
    /** The slope for x ≤ 0. */
    readonly slope: number;
  };
  /** The scale of the negative part. */
  readonly elu: {
    /** The scale of eˣ − 1 for x ≤ 0. */
    readonly alpha: number;
  };
  /** The sharpness and the threshold of the linear regime. */
  readonly softplus: {
    /** β in log(1 + e^(βx)) / β. */
    readonly beta: number;
    /** Above this βx the op is x itself. */
    readonly threshold: number;
  };
  /** The target dtype. */
  readonly cast: {
    /** The dtype converted to. */
    readonly dtype: DType;
  };
  /** Reduced axes. */
  readonly sum: ReduceAttrs;
  /** Reduced axes. */
  readonly max: ReduceAttrs;
  /** Reduced axes. */
  readonly min: ReduceAttrs;
  /** The axis and whether it stays as size 1. */
  readonly argmax: {
    /** The axis searched. */
    readonly axis: number;
    /** Whether it stays as size 1. */
    readonly keepDims: boolean;
  };
  /** The new axis's size and the dtype. */
  readonly oneHot: {
    /** The size of the new last axis. */
    readonly depth: number;
    /** The output dtype. */
    readonly dtype: DType;
  };
  /** Which operands enter transposed. */
  readonly matmul: {
    /** Whether A's last two axes are swapped. */
    readonly transA: boolean;
    /** Whether B's last two axes are swapped. */
    readonly transB: boolean;
  };
  /** The new shape. */
  readonly reshape: ShapeAttrs;
  /** Output axis i is input axis perm[i]. */
  readonly transpose: {
    /** The permutation. */
    readonly perm: readonly number[];
  };
  /** The target shape. */
  readonly broadcastTo: ShapeAttrs;
  /** Where the block starts and its size. */
  readonly slice: {
    /** The first index per axis. */
    readonly begin: readonly number[];
    /** The size per axis. */
    readonly size: readonly number[];
  };
  /** Where the input sits and the output shape. */
  readonly pad: {
    /** Where the input starts, per axis. */
    readonly begin: readonly number[];
    /** The output shape. */
    readonly shape: readonly number[];
  };
  /** The joined axis. */
  readonly concat: AxisAttrs;
  /** The indexed axis. */
  readonly gather: AxisAttrs;
  /** The indexed axis and the output shape. */
  readonly scatterAdd: AxisAttrs & ShapeAttrs;
  /** The counter the new key derives from. */
  readonly deriveKey: {
    /** The counter's first word (1 for split, 2 for foldIn). */
    readonly c0: number;
    /** Its second word. */
    readonly c1: number;
  };
  /** What to draw. */
  readonly random: Sample;
};

/** Every primitive's name. */
export type PrimitiveName = keyof PrimitiveAttrs;

/** The attributes of primitive `P`. */
export type AttrsOf<P extends PrimitiveName> = PrimitiveAttrs[P];

/** The elementwise primitives of one operand. */
export type UnaryName =
  | 'neg' | 'exp' | 'expm1' | 'log' | 'log1p' | 'sqrt' | 'abs' | 'square' | 'sign' | 'cos' | 'sin' | 'floor' | 'tanh' | 'sigmoid'
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
