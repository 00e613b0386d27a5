import type { DType, TensorData } from '../dtype.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** A value's type as tracing sees it: shape and dtype, no data. @internal */
export interface AbstractValue {
  /** The shape. */
  readonly shape: Shape;
  /** The dtype. */
  readonly dtype: DType;
}

/**
 * A primitive op: the unit the tape records and the compiler will see. Its forward computes an output from
 * input values; its VJP maps the output's cotangent to one cotangent per input (null where an input gets
 * none), written with other ops so that gradients of gradients work. A VJP may return a cotangent with the
 * broadcast shape; the engine sums it back to the input's shape in one place.
 * @internal
 */
export interface Primitive<Attrs = unknown> {
  /** The op's name, as errors and graph listings show it. */
  readonly name: string;
  /** Computes the output. Arguments were checked by the public op function. */
  forward(inputs: readonly Tensor[], attrs: Attrs): Tensor;
  /** The vector-Jacobian product; null for a non-differentiable op. */
  readonly vjp: ((ct: Tensor, inputs: readonly Tensor[], output: Tensor, attrs: Attrs) => (Tensor | null)[]) | null;
  /**
   * Optional first-order fast path of the VJP for input 0 (the only differentiable input): adds its
   * cotangent straight into `acc`, storage of input 0's shape that the engine owns, instead of building it.
   * slice and gather have it, because their VJPs would otherwise write a full-size, mostly-zero tensor per
   * call: T of them for the T steps a scan cuts out of one sequence.
   */
  readonly accumulateVjp?: (acc: TensorData, ct: Tensor, inputs: readonly Tensor[], attrs: Attrs) => void;
  /**
   * The shape rule: the output's shape and dtype from the inputs' (arguments were checked by the public op
   * function). Tracing uses it instead of running the kernel, so tracing costs nothing per element.
   */
  readonly shape?: (inputs: readonly AbstractValue[], attrs: Attrs) => AbstractValue;
  /**
   * For a primitive whose value was already computed by other ops (a custom VJP): under trace, the value
   * it stands for, so the graph holds those ops instead of an opaque node.
   */
  readonly traceAs?: (inputs: readonly Tensor[], attrs: Attrs) => Tensor;
}

const registry = new Map<string, Primitive<never>>();

/**
 * Declares a primitive and registers it by name (a graph can then be evaluated from names alone).
 * @internal
 */
export function definePrimitive<Attrs>(primitive: Primitive<Attrs>): Primitive<Attrs> {
  if (registry.has(primitive.name)) throw new Error(`internal: primitive '${primitive.name}' is defined twice`);
  registry.set(primitive.name, primitive as Primitive<never>);
  return primitive;
}

/** The registered primitive with this name. @internal */
export function primitiveNamed(name: string): Primitive<unknown> | undefined {
  return registry.get(name) as Primitive<unknown> | undefined;
}
