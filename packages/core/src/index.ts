/**
 * @tapestry/core — tensors, differentiable ops with their VJPs, a tape, and reverse-mode autodiff.
 *
 * @example
 * ```ts
 * import { tensor, grad, sum, tanh, matmul } from '@tapestry/core';
 * const f = (w: Tensor) => sum(tanh(matmul(x, w)));
 * const dw = grad(f)(w);
 * ```
 * @packageDocumentation
 */
export type { DType, TensorData } from './dtype.js';
export { ShapeError, DTypeError, ArgumentError, InternalError } from './errors.js';
export type { Shape } from './shape.js';
export { broadcastShapes, formatShape, shapesEqual } from './shape.js';
export {
  describeValue,
  expectTensor,
  expectFloat,
  expectFloatTensor,
  expectInteger,
  expectPositiveInteger,
  expectFinite,
  expectNonNegative,
  expectPositive,
  expectUnitInterval,
  expectProbability,
  expectBoolean,
  expectOptionalBoolean,
  expectKnownOptions,
} from './checks.js';
export {
  Tensor,
  tensor,
  scalar,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  arange,
  eye,
  type NestedArray,
  type TensorLike,
  type TensorOptions,
} from './tensor.js';

export { add, sub, mul, div, neg } from './ops/arithmetic.js';
export { pow } from './ops/pow.js';
export { maximum, minimum } from './ops/min-max.js';
export { exp, expm1, log, log1p, sqrt, abs, square, sign, cos, sin, floor } from './ops/unary.js';
export { tanh, sigmoid, relu, leakyRelu, elu, softplus } from './ops/activations.js';
export { where } from './ops/where.js';
export { cast } from './ops/cast.js';
export { greater, less, equal, greaterEqual, lessEqual, notEqual } from './ops/compare.js';
export { isFinite } from './ops/finite.js';
export { sum, max, min, mean } from './ops/reduce.js';
export { logSumExp, softmax, logSoftmax } from './ops/softmax.js';
export { maxout } from './ops/maxout.js';
export { matmul, type MatmulOptions } from './ops/matmul.js';
export { reshape, transpose, broadcastTo, expandDims, squeeze } from './ops/shape-ops.js';
export { slice } from './ops/slice.js';
export { concat, stack, split } from './ops/concat.js';
export { gather, indexSelect } from './ops/gather.js';
export { argmax, oneHot } from './ops/indexing.js';

export { devicePut, deviceGet } from './backend/placement.js';
export { cpu } from './backend/cpu.js';
export type {
  Backend,
  BackendProgram,
  KernelName,
  KernelRun,
  PlanContext,
  FusedInstruction,
  FusedProgram,
  FusedRun,
  SparseVjpName,
  StridedLayout,
} from './backend/backend.js';
export type {
  AbstractValue,
  AttrsOf,
  PrimitiveAttrs,
  AttributedPrimitives,
  PrimitiveName,
  PrimitiveKind,
  ElementwiseName,
  BinaryName,
  PlainUnaryName,
  Primitive,
  VjpRule,
  LeakyReluAttrs,
  EluAttrs,
  SoftplusAttrs,
  MatmulAttrs,
  ReduceAttrs,
  SliceAttrs,
  PadAttrs,
  SampleAttrs,
  CustomVjpAttrs,
  CastAttrs,
  ArgmaxAttrs,
  UniformSample,
  NormalSample,
  BernoulliSample,
  GumbelSample,
  ShapeAttrs,
  TransposeAttrs,
  AxisAttrs,
  ScatterAddAttrs,
  OneHotAttrs,
  DeriveKeyAttrs,
} from './binding/primitive.js';
export { PRIMITIVES } from './graph/primitive-table.js';

export { grad, valueAndGrad, vjp, type ValueAndGradOptions } from './autodiff/grad.js';
export { stopGradient } from './autodiff/stop-gradient.js';
export { customVjp, type CustomForward } from './autodiff/custom-vjp.js';
export { checkGrad, type CheckGradOptions, type CheckGradResult } from './autodiff/check-grad.js';

export {
  Graph,
  GraphBuilder,
  type GraphNode,
  type PrimitiveNode,
  type NodeBase,
  type InputNode,
  type ConstNode,
  type GraphLeaf,
  type StaticLeaf,
  type NodeSpec,
} from './graph/graph.js';
export { rewrite, copyNode } from './graph/passes/rewrite.js';
export { trace } from './graph/trace.js';
export { evaluate } from './graph/evaluate.js';
export { jit, type Jitted, type JitOptions } from './graph/jit.js';
export { optimize, type OptimizeOptions } from './graph/optimize.js';
export { eliminateDeadCode } from './graph/passes/dead-code.js';
export { eliminateCommonSubexpressions } from './graph/passes/common-subexpressions.js';
export { foldConstants } from './graph/passes/constant-folding.js';
export { hoistStepInvariant } from './graph/passes/hoist.js';
export { accumulatePads } from './graph/passes/pad-accumulation.js';
export { accumulateProducts } from './graph/passes/product-accumulation.js';
export { foldBroadcasts } from './graph/passes/broadcast-folding.js';
export { sinkSlices } from './graph/passes/slice-sinking.js';
export { findFusionGroups, type FusionGroup } from './graph/passes/fusion.js';

export {
  treeMap,
  treeLeaves,
  treeFlatten,
  treeUnflatten,
  treeZip,
  treeFlattenWithPath,
  treeStructure,
  freezeTree,
  isContainer,
  type Tree,
  type TreeDef,
} from './tree/tree.js';

export {
  Key,
  randomKey,
  keyFromWords,
  keyData,
  keyFromData,
  split as splitKey,
  foldIn,
  uniform,
  normal,
  bernoulli,
  categorical,
  type KeyLike,
  type UniformOptions,
  type NormalOptions,
} from './random/random.js';
