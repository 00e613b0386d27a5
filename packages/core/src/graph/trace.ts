/**
 * trace: runs a function on abstract values (shape and dtype, no data) and records every primitive it
 * binds as a graph node. The hook is the tracer `bind` consults; tapes record abstract values as they
 * record concrete ones, so `trace(valueAndGrad(f), …)` holds the forward and the backward pass.
 */
import type { AttrsOf, Primitive, PrimitiveName } from '../binding/primitive.js';
import { backendOf, precomputedValue, setTracer, type Tracer } from '../binding/tape.js';
import { ArgumentError } from '../errors.js';
import { shapesEqual } from '../shape.js';
import { abstractTensor, Tensor } from '../tensor.js';
import { treeFlattenWithPath, treeStructure, treeUnflatten } from '../tree/tree.js';
import { Graph, GraphBuilder, typeName, type GraphLeaf, type NodeSpec } from './graph.js';

/** Records one trace: the graph so far and the constants it has met. */
class Trace implements Tracer {
  readonly builder = new GraphBuilder();
  /** Concrete tensors already made constant nodes, by storage (tracked copies share it). */
  private readonly constants = new Map<unknown, { shape: readonly number[]; id: number }[]>();

  bind<P extends PrimitiveName>(primitive: Primitive<P>, inputs: readonly Tensor[], attrs: AttrsOf<P>): Tensor {
    // a custom VJP's value was computed by ops already in the graph; the tape still uses its rule
    const precomputed = precomputedValue(primitive, attrs);
    if (precomputed !== null) return precomputed;
    const ids = inputs.map((x) => this.idOf(x));
    // the value lives where its inputs do (a key-less op such as a literal lives on the CPU until used)
    const backend = inputs.length === 0 ? undefined : backendOf(primitive.name, inputs);
    const { shape, dtype } = primitive.shape(inputs, attrs);
    const id = this.builder.add({ op: primitive.name, inputs: ids, attrs, shape: shape.slice(), dtype } as NodeSpec);
    return abstractTensor(shape.slice(), dtype, { owner: this, id }, backend);
  }

  /** The node of a value: its own for an abstract value of this trace, a constant node for a concrete one. */
  idOf(x: Tensor): number {
    if (x.traced !== null) {
      if (x.traced.owner !== this) {
        throw new ArgumentError(
          `trace: a traced value ${typeName(x)} of another (enclosing or finished) trace was used here; ` +
            'pass it to the traced function as an argument instead of closing over it',
        );
      }
      return x.traced.id;
    }
    const known = this.constants.get(x.storage);
    const hit = known?.find((c) => shapesEqual(c.shape, x.shape));
    if (hit !== undefined) return hit.id;
    const value = new Tensor(x.storage, x.shape, x.dtype, null, null, x.backend);
    const id = this.builder.add({ op: 'const', inputs: [], attrs: undefined, shape: x.shape, dtype: x.dtype, value });
    if (known === undefined) this.constants.set(x.storage, [{ shape: x.shape, id }]);
    else known.push({ shape: x.shape, id });
    return id;
  }

  /** An input node for an argument leaf, and the abstract value standing for it. */
  input(leaf: Tensor, path: string): [number, Tensor] {
    const id = this.builder.add({ op: 'input', inputs: [], attrs: undefined, shape: leaf.shape.slice(), dtype: leaf.dtype, path });
    return [id, abstractTensor(leaf.shape.slice(), leaf.dtype, { owner: this, id }, leaf.backend)];
  }
}

/**
 * Traces `f` at the given example arguments into a {@link Graph}. Arguments and result are trees (nested
 * arrays and plain objects); tensor leaves become graph inputs and outputs, other leaves (numbers, keys,
 * options) are fixed in the graph. Only shapes and dtypes of the examples matter: `f` runs on abstract
 * values, so tracing costs nothing per element, and reading a value inside `f` (`item()`, `toArray()`)
 * is an error — JS control flow may depend on shapes, not on values. Tensors `f` creates or closes over
 * become constant nodes. Differentiation inside `f` is traced too: the graph then holds the backward pass.
 * @example
 * ```ts
 * const g = trace(valueAndGrad(loss), params, batch);
 * console.log(g.toString()); // the forward pass, then the backward pass, one node per line
 * ```
 */
export function trace(f: (...args: any[]) => unknown, ...args: unknown[]): Graph {
  if (typeof f !== 'function') throw new ArgumentError(`trace: expected a function, got ${typeof f}`);
  const t = new Trace();
  const inputDef = treeStructure(args);
  const inputLeaves: GraphLeaf[] = [];
  const abstractArgs = treeFlattenWithPath<unknown>(args).map(([path, leaf]) => {
    if (!(leaf instanceof Tensor)) {
      inputLeaves.push({ static: leaf });
      return leaf;
    }
    const [id, value] = t.input(leaf, path === '' ? 'args' : `args${path}`);
    inputLeaves.push(id);
    return value;
  });
  const previous = setTracer(t);
  let result: unknown;
  try {
    result = f(...treeUnflatten<unknown, unknown[]>(inputDef, abstractArgs));
  } finally {
    setTracer(previous);
  }
  const outputLeaves: GraphLeaf[] = treeFlattenWithPath<unknown>(result).map(([, leaf]) => (leaf instanceof Tensor ? t.idOf(leaf) : { static: leaf }));
  return new Graph(t.builder.nodes, inputLeaves, inputDef, outputLeaves, treeStructure(result));
}
