/** Dead-code elimination: drops every node no result depends on (inputs stay, as the signature). */
import type { Graph } from '../graph.js';
import { copyNode, rewrite } from './rewrite.js';

/** The nodes some output reads, directly or through others. */
function liveNodes(graph: Graph): boolean[] {
  const live = new Array<boolean>(graph.nodes.length).fill(false);
  for (const id of graph.outputs) live[id] = true;
  // nodes are in execution order, so one backward sweep reaches everything
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    if (live[i]) for (const j of graph.nodes[i]!.inputs) live[j] = true;
  }
  return live;
}

/**
 * Removes nodes whose values no output needs (a forward value the backward pass never reads, a constant
 * folded away, a duplicate CSE replaced).
 * @example
 * ```ts
 * eliminateDeadCode(trace((x) => { exp(x); return tanh(x); }, x)); // the exp is gone
 * ```
 */
export function eliminateDeadCode(graph: Graph): Graph {
  const live = liveNodes(graph);
  return rewrite(graph, (node, inputs, builder) => (live[node.id] ? copyNode(node, inputs, builder) : null));
}
