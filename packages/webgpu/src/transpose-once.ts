/**
 * A graph pass for the GPU: a matrix that many products read transposed as their right operand (an RNN's
 * recurrent weight, read as `h W_hhᵀ` at every time step) is transposed once per call, and those products
 * read the copy as it is.
 *
 * Why: a product inlined into an elementwise kernel (see `CompileGraphOptions.inlineMatmul`) sums element
 * (i, j) in one thread, and neighbouring threads take neighbouring j. Read through the transpose, their
 * elements of B lie K apart, so every step of every sum is a separate memory transaction per thread; read
 * from the copy they are adjacent, one transaction for a whole warp. The copy is one kernel per call for all
 * T products, and each sum keeps its order, so the values are the same.
 */
import { copyNode, rewrite, type Graph, type GraphNode, type NodeSpec } from '@tapestry/core';

/** The products that read B transposed and can read a copy instead: 2-D float32, B a matrix. */
function readsTransposedB(n: GraphNode, nodes: readonly GraphNode[]): boolean {
  if (n.op !== 'matmul' || !n.attrs.transB || n.dtype !== 'float32' || n.shape.length !== 2) return false;
  return nodes[n.inputs[1]!]!.shape.length === 2;
}

/** `graph` with each matrix that at least `minReaders` products read transposed as B transposed once for them. */
export function transposeSharedOperands(graph: Graph, minReaders = 2): Graph {
  const readers = new Map<number, number>();
  for (const n of graph.nodes) if (readsTransposedB(n, graph.nodes)) readers.set(n.inputs[1]!, (readers.get(n.inputs[1]!) ?? 0) + 1);
  const shared = new Set([...readers].filter(([, count]) => count >= minReaders).map(([b]) => b));
  if (shared.size === 0) return graph;
  // new id of each shared matrix's copy, made where its first reader stands
  const copies = new Map<number, number>();
  return rewrite(graph, (node, inputs, builder) => {
    if (node.op !== 'matmul' || !readsTransposedB(node, graph.nodes) || !shared.has(node.inputs[1]!)) return copyNode(node, inputs, builder);
    const b = graph.nodes[node.inputs[1]!]!;
    let copy = copies.get(b.id);
    if (copy === undefined) {
      copy = builder.add({ op: 'transpose', inputs: [inputs[1]!], attrs: { perm: [1, 0] }, shape: [b.shape[1]!, b.shape[0]!], dtype: b.dtype } as NodeSpec);
      copies.set(b.id, copy);
    }
    return builder.add({ op: 'matmul', inputs: [inputs[0]!, copy], attrs: { ...node.attrs, transB: false }, shape: node.shape, dtype: node.dtype } as NodeSpec);
  });
}
