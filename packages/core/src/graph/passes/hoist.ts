/**
 * Hoisting step-invariant work out of unrolled loops. An unrolled RNN multiplies each step's input
 * x_t = X[:, t] (or X[t]) by the same weight: T small products. This pass finds such families — matmuls
 * whose left operand is one index of a sequence X along axis 0 or 1 and whose right operand is one shared
 * node — and replaces them by one product over the whole sequence followed by per-step slices. Each output
 * element is the same dot product as before, so results do not change.
 */
import { shapesEqual } from '../../shape.js';
import type { Graph, GraphNode } from '../graph.js';
import { copyNode, rewrite } from './rewrite.js';

/** A matmul whose left operand is `reshape(slice(X, t along axis))`. */
interface StepProduct {
  readonly matmul: number;
  readonly sequence: number;
  readonly axis: number;
  readonly index: number;
  readonly weight: number;
  readonly transB: boolean;
}

/** Recognises `matmul(reshape(slice(X, [.., t, ..], [.., 1, ..]), X.shape without axis), W)` with X of rank 3. */
function stepProduct(graph: Graph, node: GraphNode): StepProduct | null {
  if (node.op !== 'matmul') return null;
  const { transA, transB } = node.attrs;
  const a = graph.nodes[node.inputs[0]!]!;
  const w = graph.nodes[node.inputs[1]!]!;
  if (transA || a.op !== 'reshape' || a.shape.length !== 2 || w.shape.length !== 2) return null;
  const s = graph.nodes[a.inputs[0]!]!;
  if (s.op !== 'slice') return null;
  const x = graph.nodes[s.inputs[0]!]!;
  if (x.shape.length !== 3) return null;
  const { begin } = s.attrs;
  for (const axis of [0, 1]) {
    const whole = x.shape.every((d, i) => (i === axis ? s.shape[i] === 1 : s.shape[i] === d && begin[i] === 0));
    if (
      whole &&
      shapesEqual(
        a.shape,
        x.shape.filter((_, i) => i !== axis),
      )
    ) {
      return { matmul: node.id, sequence: x.id, axis, index: begin[axis]!, weight: w.id, transB };
    }
  }
  return null;
}

/**
 * Replaces each family of at least `minCount` step products sharing a sequence, axis and weight by one
 * product over the whole sequence (X reshaped to [A·B, D]) and one slice per step.
 * @example
 * ```ts
 * hoistStepInvariant(trace(unrolledLstm, params, xs)).opCounts().matmul; // 1 input projection + T recurrent
 * ```
 */
export function hoistStepInvariant(graph: Graph, minCount = 2): Graph {
  const families = new Map<string, StepProduct[]>();
  for (const node of graph.nodes) {
    const p = stepProduct(graph, node);
    if (p === null) continue;
    const key = `${p.sequence}|${p.axis}|${p.weight}|${p.transB}`;
    const list = families.get(key);
    if (list === undefined) families.set(key, [p]);
    else list.push(p);
  }
  const byMatmul = new Map<number, { product: StepProduct; family: string }>();
  for (const [key, list] of families) if (list.length >= minCount) for (const p of list) byMatmul.set(p.matmul, { product: p, family: key });
  if (byMatmul.size === 0) return graph;
  // the whole-sequence product of each family, built where its first member stood
  const projected = new Map<string, number>();
  return rewrite(graph, (node, inputs, builder, newId) => {
    const hit = byMatmul.get(node.id);
    if (hit === undefined) return copyNode(node, inputs, builder);
    const { product, family } = hit;
    const x = graph.nodes[product.sequence]!;
    const [d0, d1, d2] = x.shape as [number, number, number];
    const h = node.shape[1]!;
    let whole = projected.get(family);
    if (whole === undefined) {
      const flat = builder.add({ op: 'reshape', inputs: [newId(x.id)], attrs: { shape: [d0 * d1, d2] }, shape: [d0 * d1, d2], dtype: x.dtype });
      const attrs = { transA: false, transB: product.transB };
      const full = builder.add({ op: 'matmul', inputs: [flat, newId(product.weight)], attrs, shape: [d0 * d1, h], dtype: node.dtype });
      whole = builder.add({ op: 'reshape', inputs: [full], attrs: { shape: [d0, d1, h] }, shape: [d0, d1, h], dtype: node.dtype });
      projected.set(family, whole);
    }
    const begin = [0, 0, 0];
    begin[product.axis] = product.index;
    const size = [d0, d1, h];
    size[product.axis] = 1;
    const step = builder.add({ op: 'slice', inputs: [whole], attrs: { begin, size }, shape: size, dtype: node.dtype });
    return builder.add({ op: 'reshape', inputs: [step], attrs: { shape: node.shape }, shape: node.shape, dtype: node.dtype });
  });
}
