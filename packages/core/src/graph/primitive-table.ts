/**
 * Every primitive by name, for code that meets primitives as data (a graph's nodes): evaluation, constant
 * folding, fusion by declared kind. Typed as a mapped type over {@link PrimitiveName}, so a primitive that
 * has an attribute entry but no definition here fails to type-check.
 */
import type { Primitive, PrimitiveName } from '../binding/primitive.js';
import { bind, runPrimitive } from '../binding/tape.js';
import type { Tensor } from '../tensor.js';
import type { PrimitiveNode } from './graph.js';
import { customVjpPrimitives } from '../autodiff/custom-vjp.js';
import { activationPrimitives } from '../ops/activations.js';
import { arithmeticPrimitives } from '../ops/arithmetic.js';
import { castPrimitives } from '../ops/cast.js';
import { comparePrimitives } from '../ops/compare.js';
import { concatPrimitives } from '../ops/concat.js';
import { finitePrimitives } from '../ops/finite.js';
import { gatherPrimitives } from '../ops/gather.js';
import { indexingPrimitives } from '../ops/indexing.js';
import { matmulPrimitives } from '../ops/matmul.js';
import { minMaxPrimitives } from '../ops/min-max.js';
import { powPrimitives } from '../ops/pow.js';
import { reducePrimitives } from '../ops/reduce.js';
import { shapePrimitives } from '../ops/shape-ops.js';
import { slicePrimitives } from '../ops/slice.js';
import { unaryPrimitives } from '../ops/unary.js';
import { wherePrimitives } from '../ops/where.js';
import { randomPrimitives } from '../random/key-data.js';

/** The primitive of each name. */
export const PRIMITIVES: { readonly [P in PrimitiveName]: Primitive<P> } = {
  ...arithmeticPrimitives,
  ...unaryPrimitives,
  ...activationPrimitives,
  ...powPrimitives,
  ...minMaxPrimitives,
  ...comparePrimitives,
  ...finitePrimitives,
  ...wherePrimitives,
  ...castPrimitives,
  ...reducePrimitives,
  ...indexingPrimitives,
  ...matmulPrimitives,
  ...shapePrimitives,
  ...slicePrimitives,
  ...concatPrimitives,
  ...gatherPrimitives,
  ...randomPrimitives,
  ...customVjpPrimitives,
};

/** Applies a graph node's primitive to `inputs` through `bind`, with the node's own attributes. */
export function bindNode<P extends PrimitiveName>(node: PrimitiveNode<P>, inputs: readonly Tensor[]): Tensor {
  return bind(PRIMITIVES[node.op], inputs, node.attrs);
}

/** Computes a graph node's primitive on concrete `inputs` without any tape (eager's numbers). */
export function runNode<P extends PrimitiveName>(node: PrimitiveNode<P>, inputs: readonly Tensor[]): Tensor {
  return runPrimitive(PRIMITIVES[node.op], inputs, node.attrs);
}
