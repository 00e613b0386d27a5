/**
 * Sums of matrix products become one product. Reverse mode gives a weight used at every step of an
 * unrolled loop one gradient term per step, `dW = Σ_t h_tᵀ · dg_t`: T small products and T − 1 full-size
 * adds. Stacking the operands along the contracted axis gives the same sum as one product,
 * `[h_1; …; h_T]ᵀ · [dg_1; …; dg_T]`, which a GEMM runs far better than T thin ones. The additions are
 * reassociated (each element is still the same sum of the same products, in another order), so float64
 * results agree to rounding, not bit for bit.
 */
import type { Graph } from '../graph.js';
import { consumerCounts, findAddTrees } from './add-trees.js';
import { copyNode, rewrite } from './rewrite.js';

interface Replacement {
  readonly products: readonly number[];
  readonly others: readonly number[];
  readonly transA: boolean;
  readonly transB: boolean;
}

/** The add trees with at least two rank-2 products of the same kind among their terms. */
function findReplacements(graph: Graph): Map<number, Replacement> {
  const consumers = consumerCounts(graph);
  const replacements = new Map<number, Replacement>();
  for (const { root, leaves } of findAddTrees(graph, consumers)) {
    const byKind = new Map<string, { ids: number[]; transA: boolean; transB: boolean }>();
    for (const id of leaves) {
      const n = graph.nodes[id]!;
      if (n.op !== 'matmul' || consumers[id] !== 1) continue;
      if (n.inputs.some((i) => graph.nodes[i]!.shape.length !== 2)) continue;
      const { transA, transB } = n.attrs;
      const key = `${transA}|${transB}`;
      const kind = byKind.get(key) ?? { ids: [], transA, transB };
      kind.ids.push(id);
      byKind.set(key, kind);
    }
    let best: { ids: number[]; transA: boolean; transB: boolean } | null = null;
    for (const kind of byKind.values()) if (kind.ids.length >= 2 && (best === null || kind.ids.length > best.ids.length)) best = kind;
    if (best === null) continue;
    const used = new Set(best.ids);
    // the products in the order of their earliest operand: a loop's steps in forward order (a gradient term
    // pairs a forward value, made early, with a cotangent, made in reverse), which is how every other stack
    // of the steps is ordered (hoisting's, pad accumulation's), so that a plan can lay both stacks of the
    // same values in one buffer
    const earliest = (id: number): number => Math.min(...graph.nodes[id]!.inputs);
    const products = [...best.ids].sort((p, q) => earliest(p) - earliest(q));
    replacements.set(root, { products, others: leaves.filter((id) => !used.has(id)), transA: best.transA, transB: best.transB });
  }
  return replacements;
}

/**
 * Replaces each sum of at least two rank-2 products with the same transpose flags by one product of the
 * operands concatenated along the contracted axis (plus whatever else the sum added).
 * @example
 * ```ts
 * accumulateProducts(trace(grad(unrolledLoss), params, xs)).opCounts().matmul; // one per weight, not per step
 * ```
 */
export function accumulateProducts(graph: Graph): Graph {
  const replacements = findReplacements(graph);
  if (replacements.size === 0) return graph;
  return rewrite(graph, (node, inputs, builder, newId) => {
    const rep = replacements.get(node.id);
    if (rep === undefined) return copyNode(node, inputs, builder);
    const stack = (operand: 0 | 1, axis: number): number => {
      const parts = rep.products.map((p) => graph.nodes[graph.nodes[p]!.inputs[operand]!]!);
      const shape = parts[0]!.shape.slice();
      shape[axis] = parts.reduce((t, x) => t + x.shape[axis]!, 0);
      const ids = parts.map((x) => newId(x.id));
      return builder.add({ op: 'concat', inputs: ids, attrs: { axis }, shape, dtype: node.dtype });
    };
    // the contracted axis: A is [m, k] (or [k, m] transposed), B is [k, n] (or [n, k] transposed)
    const a = stack(0, rep.transA ? 0 : 1);
    const b = stack(1, rep.transB ? 1 : 0);
    const attrs = { transA: rep.transA, transB: rep.transB };
    let sum = builder.add({ op: 'matmul', inputs: [a, b], attrs, shape: node.shape, dtype: node.dtype });
    for (const o of rep.others) sum = builder.add({ op: 'add', inputs: [sum, newId(o)], attrs: undefined, shape: node.shape, dtype: node.dtype });
    return sum;
  });
}
