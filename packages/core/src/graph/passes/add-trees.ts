/** Sums written as trees of adds, as reverse mode builds them when a value is used many times. */
import { shapesEqual } from '../../shape.js';
import type { Graph, GraphNode } from '../graph.js';

/** One sum: its root add, the adds inside it, and the terms it adds up. */
export interface AddTree {
  /** The add whose value is the sum. */
  readonly root: number;
  /** Every add of the tree, the root included (the others are read only by the tree). */
  readonly inner: readonly number[];
  /** The terms, each a node not absorbed into the tree. */
  readonly leaves: readonly number[];
}

/** How many nodes (and results) read each node. */
export function consumerCounts(graph: Graph): Int32Array {
  const counts = new Int32Array(graph.nodes.length);
  for (const n of graph.nodes) for (const i of n.inputs) counts[i]!++;
  for (const id of graph.outputs) counts[id]!++;
  return counts;
}

/**
 * The maximal add trees: adds of one shape without broadcasting, where every add but the root is read
 * only by the tree. Trees with at least `minLeaves` terms are returned, roots in execution order.
 */
export function findAddTrees(graph: Graph, consumers: Int32Array, minLeaves = 2): AddTree[] {
  const isTreeAdd = (n: GraphNode, root: GraphNode): boolean =>
    n.op === 'add' && shapesEqual(n.shape, root.shape) && n.inputs.every((i) => shapesEqual(graph.nodes[i]!.shape, root.shape));
  const absorbed = new Set<number>();
  const trees: AddTree[] = [];
  // walk backwards so that a tree is found from its root before its inner adds are visited
  for (let r = graph.nodes.length - 1; r >= 0; r--) {
    const root = graph.nodes[r]!;
    if (absorbed.has(r) || !isTreeAdd(root, root)) continue;
    const inner: number[] = [];
    const leaves: number[] = [];
    const stack = [r];
    while (stack.length > 0) {
      const id = stack.pop()!;
      const n = graph.nodes[id]!;
      if (id === r || (isTreeAdd(n, root) && consumers[id] === 1)) {
        inner.push(id);
        absorbed.add(id);
        // inputs pushed in reverse so terms come out in the order the program added them
        for (let k = n.inputs.length - 1; k >= 0; k--) stack.push(n.inputs[k]!);
      } else leaves.push(id);
    }
    if (leaves.length >= minLeaves) trees.push({ root: r, inner, leaves });
  }
  return trees.reverse();
}
