import type { Tensor } from '../tensor.js';

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
