/**
 * Sums of padded slabs become one concat. Reverse mode turns every slice into a pad (the cotangent placed in
 * zeros of the sliced tensor's shape) and sums the pads: an unrolled loop slicing T steps out of a sequence
 * gets T full-size pads and T − 1 full-size adds, O(T²) work for what is the cotangents laid side by side.
 * When the pads of such an add tree cover disjoint slabs along one axis, their sum is the concatenation of
 * the slabs (with zeros in any gap), built once. Adding zeros is exact, so results do not change. A pad that
 * several sums read is a slab of each; it stays only where something else still reads it.
 */
import { zeros } from '../../tensor.js';
import type { Graph, GraphBuilder, GraphNode, PrimitiveNode } from '../graph.js';
import { consumerCounts, findAddTrees } from './add-trees.js';
import { copyNode, rewrite } from './rewrite.js';

/** A pad leaf: its input lands at `begin` along `axis`, `length` wide, covering every other axis. */
interface Slab {
  readonly source: number;
  readonly begin: number;
  readonly length: number;
}

interface Replacement {
  readonly axis: number;
  readonly slabs: Slab[];
  readonly others: number[];
}

/** The slab a pad node writes, if it covers all axes but one. */
function slabOf(graph: Graph, pad: PrimitiveNode<'pad'>): { axis: number; slab: Slab } | null {
  const { begin } = pad.attrs;
  const input = graph.nodes[pad.inputs[0]!]!;
  let axis = -1;
  for (let i = 0; i < pad.shape.length; i++) {
    if (input.shape[i] === pad.shape[i]) continue;
    if (axis >= 0) return null;
    axis = i;
  }
  if (axis < 0) return null;
  return { axis, slab: { source: input.id, begin: begin[axis]!, length: input.shape[axis]! } };
}

/** Finds the add trees with at least two pads into disjoint slabs along one axis. */
function findReplacements(graph: Graph): Map<number, Replacement> {
  const consumers = consumerCounts(graph);
  const replacements = new Map<number, Replacement>();
  for (const { root, leaves } of findAddTrees(graph, consumers)) {
    const byAxis = new Map<number, { leaf: number; slab: Slab }[]>();
    for (const id of leaves) {
      const n = graph.nodes[id]!;
      // a pad other sums read too (a GRU's gate cotangents go into both of its projections' gradients)
      // becomes a slab of each of them
      const s = n.op === 'pad' ? slabOf(graph, n) : null;
      if (s === null) continue;
      const list = byAxis.get(s.axis) ?? [];
      list.push({ leaf: id, slab: s.slab });
      byAxis.set(s.axis, list);
    }
    let best: { axis: number; hits: { leaf: number; slab: Slab }[] } | null = null;
    for (const [axis, hits] of byAxis) {
      if (hits.length >= 2 && (best === null || hits.length > best.hits.length)) best = { axis, hits };
    }
    if (best === null) continue;
    const slabs = best.hits.map((h) => h.slab).sort((a, b) => a.begin - b.begin);
    const disjoint = slabs.every((s, i) => i === 0 || slabs[i - 1]!.begin + slabs[i - 1]!.length <= s.begin);
    if (!disjoint) continue;
    const used = new Set(best.hits.map((h) => h.leaf));
    replacements.set(root, { axis: best.axis, slabs, others: leaves.filter((id) => !used.has(id)) });
  }
  return replacements;
}

function zeroSlab(builder: GraphBuilder, like: GraphNode, axis: number, length: number): number {
  const shape = like.shape.slice();
  shape[axis] = length;
  return builder.add({ op: 'const', inputs: [], attrs: undefined, shape, dtype: like.dtype, value: zeros(shape, like.dtype) });
}

/**
 * Replaces each sum of at least two pads into disjoint slabs along one axis by a concat of the slabs
 * (zeros filling the gaps), plus whatever else the sum added.
 * @example
 * ```ts
 * accumulatePads(trace(grad(unrolledLoss), params, xs)).opCounts().pad; // the per-step pads are gone
 * ```
 */
export function accumulatePads(graph: Graph): Graph {
  const replacements = findReplacements(graph);
  if (replacements.size === 0) return graph;
  return rewrite(graph, (node, inputs, builder, newId) => {
    const rep = replacements.get(node.id);
    if (rep === undefined) return copyNode(node, inputs, builder);
    const parts: number[] = [];
    let at = 0;
    for (const s of rep.slabs) {
      if (s.begin > at) parts.push(zeroSlab(builder, node, rep.axis, s.begin - at));
      parts.push(newId(s.source));
      at = s.begin + s.length;
    }
    if (at < node.shape[rep.axis]!) parts.push(zeroSlab(builder, node, rep.axis, node.shape[rep.axis]! - at));
    let sum = builder.add({ op: 'concat', inputs: parts, attrs: { axis: rep.axis }, shape: node.shape, dtype: node.dtype });
    for (const o of rep.others) sum = builder.add({ op: 'add', inputs: [sum, newId(o)], attrs: undefined, shape: node.shape, dtype: node.dtype });
    return sum;
  });
}
