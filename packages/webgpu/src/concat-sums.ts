/**
 * A graph pass for the GPU: a sum of column sums, Σᵢ sum(Xᵢ, axis 0), whose matrices Xᵢ are exactly the parts
 * of a concat along a leading axis, becomes one sum of that concat over all its axes but the last.
 *
 * Reverse mode builds such sums for a bias added at every time step: an LSTM's `b_hh` gets one column sum of
 * the step's gate gradients per step and an add tree over the steps, while the same gate gradients are
 * concatenated time-major for the weight gradients (and, for `b_ih`, already summed that way). On the GPU the
 * per-step sums sit in the backward pass's chain of dependent kernels (W7: 28 batched sum kernels a step);
 * one reduction over the concat replaces them all. The value is the same sum in another order (float32
 * rounding differs), so the GPU applies this pass and the CPU, whose compiled plan matches its eager ops bit
 * for bit, does not.
 */
import { copyNode, eliminateDeadCode, Graph, rewrite, shapesEqual, type GraphLeaf, type GraphNode, type NodeSpec } from '@tapestry/core';
import { sizeOf } from './wgsl/common.js';

/** `graph` with each sum of column sums of a concat's parts computed as one sum of the concat. */
export function sumConcatenatedColumns(graph: Graph): Graph {
  const { nodes } = graph;
  const consumers = new Int32Array(nodes.length);
  const firstReader = new Int32Array(nodes.length).fill(nodes.length);
  for (const n of nodes)
    for (const i of n.inputs) {
      consumers[i]!++;
      firstReader[i] = Math.min(firstReader[i]!, n.id);
    }
  const outputs = new Set(graph.outputs);
  for (const id of outputs) consumers[id]!++;

  // a value as a matrix: the last 2-D node along its chain of reshapes that keep the last axis (a reshape that
  // keeps the last axis keeps every column's elements), else -1
  const matrixOf = (id: number): number => {
    let matrix = -1;
    for (let n = nodes[id]!; ; n = nodes[n.inputs[0]!]!) {
      if (n.shape.length === 2) matrix = n.id;
      if (n.op !== 'reshape' || nodes[n.inputs[0]!]!.shape.at(-1) !== n.shape.at(-1)) return matrix;
    }
  };
  // the matrix X of a column sum sum(X, [0]) (read directly or through a reshape of its C elements), else -1
  const columnSumOf = (id: number): number => {
    let n = nodes[id]!;
    if (n.op === 'reshape') n = nodes[n.inputs[0]!]!;
    if (n.op !== 'sum' || n.attrs.axes.length !== 1 || n.attrs.axes[0] !== 0) return -1;
    const x = nodes[n.inputs[0]!]!;
    return x.shape.length === 2 && sizeOf(nodes[id]!.shape) === x.shape[1] ? matrixOf(x.id) : -1;
  };
  // the concats along a leading axis whose parts keep its last axis, by the matrices their parts are (an LSTM's
  // gate gradients are stacked twice: [T·N, 4H] for the weight gradients, [T, N, 4H] for the input's)
  const concats = new Map<string, GraphNode[]>();
  for (const k of nodes) {
    if (k.op !== 'concat' || k.attrs.axis >= k.shape.length - 1) continue;
    const matrices = k.inputs.map(matrixOf);
    if (!matrices.includes(-1)) concats.set(key(matrices), [...(concats.get(key(matrices)) ?? []), k]);
  }
  if (concats.size === 0) return graph;
  // a sum of a concat over all axes but the last that the graph already has (b_ih's gradient), read directly
  // or through a reshape that keeps the last axis: a replaced root may read it instead of a new one
  const existing = new Map<number, GraphNode>();
  for (const n of nodes) {
    if (n.op !== 'sum') continue;
    const x = nodes[n.inputs[0]!]!;
    const k = x.op === 'reshape' ? nodes[x.inputs[0]!]! : x;
    const last = x.shape.length - 1;
    if (k.op !== 'concat' || x.shape[last] !== k.shape.at(-1)) continue;
    if (n.attrs.axes.length === last && !n.attrs.axes.includes(last) && sizeOf(n.shape) === x.shape[last]) existing.set(k.id, n);
  }

  // add trees (inner adds read only by the tree, one shape, no broadcasting) whose terms are column sums of
  // exactly one concat's parts, and whose readers all come after that concat (a result may be one); each is
  // replaced by a value made where `madeAt` says (after that node: a sum to reuse, or a concat to sum)
  const replaced = new Set<number>();
  const madeAt = new Map<number, { readonly root: GraphNode; readonly reuse: boolean }[]>();
  const place = (at: number, root: GraphNode, reuse: boolean) => {
    replaced.add(root.id);
    madeAt.set(at, [...(madeAt.get(at) ?? []), { root, reuse }]);
  };
  const absorbed = new Set<number>();
  const isTreeAdd = (n: GraphNode, shape: readonly number[]) =>
    n.op === 'add' && shapesEqual(n.shape, shape) && n.inputs.every((i) => shapesEqual(nodes[i]!.shape, shape));
  for (let r = nodes.length - 1; r >= 0; r--) {
    const root = nodes[r]!;
    if (absorbed.has(r) || !isTreeAdd(root, root.shape)) continue;
    const terms: number[] = [];
    const stack = [r];
    while (stack.length > 0) {
      const n = nodes[stack.pop()!]!;
      if (n.id === r || (isTreeAdd(n, root.shape) && consumers[n.id] === 1)) {
        absorbed.add(n.id);
        stack.push(...n.inputs);
      } else terms.push(n.id);
    }
    const matrices = terms.map(columnSumOf);
    if (matrices.includes(-1)) continue;
    // where the root's value can come from before its first reader: a sum the graph has, else a new one after a concat
    const candidates = (concats.get(key(matrices)) ?? []).filter((k) => k.id < firstReader[r]!);
    const have = candidates.map((k) => existing.get(k.id)).find((n) => n !== undefined && n.id < firstReader[r]!);
    if (have !== undefined) place(have.id, nodes[r]!, true);
    else if (candidates.length > 0) place(candidates[0]!.id, nodes[r]!, false);
  }
  if (replaced.size === 0) return graph;

  const sums = new Map<number, number>();
  // the roots are copied as they are and die once nothing reads them: their readers, and the results, read the sums
  const rootCopies = new Map<number, number>();
  const rewritten = rewrite(graph, (node, inputs, builder) => {
    const id = copyNode(
      node,
      node.inputs.map((old, j) => sums.get(old) ?? inputs[j]!),
      builder,
    );
    if (replaced.has(node.id)) rootCopies.set(id, node.id);
    for (const { root, reuse } of madeAt.get(node.id) ?? []) {
      const columns = node.shape[node.shape.length - 1]!;
      let sum = id;
      if (!reuse) {
        const axes = Array.from({ length: node.shape.length - 1 }, (_, a) => a);
        sum = builder.add({ op: 'sum', inputs: [id], attrs: { axes, keepDims: false }, shape: [columns], dtype: root.dtype } as NodeSpec);
      }
      if (!shapesEqual(root.shape, builder.nodes[sum]!.shape)) {
        sum = builder.add({ op: 'reshape', inputs: [sum], attrs: { shape: root.shape }, shape: root.shape, dtype: root.dtype } as NodeSpec);
      }
      sums.set(root.id, sum);
    }
    return id;
  });
  const result = (l: GraphLeaf): GraphLeaf => (typeof l === 'number' && rootCopies.has(l) ? sums.get(rootCopies.get(l)!)! : l);
  return eliminateDeadCode(new Graph(rewritten.nodes, rewritten.inputLeaves, rewritten.inputDef, rewritten.outputLeaves.map(result), rewritten.outputDef));
}

/** A multiset of node ids as a map key. */
function key(ids: readonly number[]): string {
  return [...ids].sort((a, b) => a - b).join(',');
}
