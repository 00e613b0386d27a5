/**
 * Broadcasts folded into the elementwise nodes that read them. Reverse mode turns every reduction into a
 * `broadcastTo` of its cotangent (a softmax's row sums give a [N, 1] → [N, C] broadcast), which a plan would
 * copy out element by element, while the elementwise nodes reading it broadcast their operands themselves.
 * A broadcastTo that only such nodes read is dropped, and they read its input instead, wherever their result
 * keeps its shape that way. Broadcasting copies values, so results do not change.
 */
import { PRIMITIVES } from '../primitive-table.js';
import { broadcastShapes, shapesEqual } from '../../shape.js';
import type { Graph, GraphNode } from '../graph.js';
import { copyNode, rewrite } from './rewrite.js';

/** Whether `node`'s result keeps its shape when the operands in `folded` are read unbroadcast. */
function keepsShape(graph: Graph, node: GraphNode, folded: ReadonlySet<number>): boolean {
  let shape: number[] = [];
  for (const input of node.inputs) {
    const operand = folded.has(input) ? graph.nodes[graph.nodes[input]!.inputs[0]!]! : graph.nodes[input]!;
    shape = broadcastShapes('broadcast folding', shape, operand.shape);
  }
  return shapesEqual(shape, node.shape);
}

/** Drops the broadcastTo nodes that only elementwise nodes read, each of which keeps its shape without it. */
export function foldBroadcasts(graph: Graph): Graph {
  const outputs = new Set(graph.outputs);
  const readers = new Map<number, GraphNode[]>();
  for (const node of graph.nodes) for (const input of node.inputs) readers.set(input, [...(readers.get(input) ?? []), node]);
  const isElementwise = (node: GraphNode): boolean => node.op !== 'input' && node.op !== 'const' && PRIMITIVES[node.op].kind === 'elementwise';
  const folded = new Set<number>();
  for (const node of graph.nodes) {
    if (node.op !== 'broadcastTo' || outputs.has(node.id)) continue;
    const users = readers.get(node.id) ?? [];
    if (users.length > 0 && users.every(isElementwise)) folded.add(node.id);
  }
  // a reader that would change shape keeps every broadcast it reads (checked with all of them folded)
  for (const node of graph.nodes) {
    if (!node.inputs.some((i) => folded.has(i)) || keepsShape(graph, node, folded)) continue;
    for (const input of node.inputs) folded.delete(input);
  }
  if (folded.size === 0) return graph;
  return rewrite(graph, (node, inputs, builder, newId) => (folded.has(node.id) ? newId(node.inputs[0]!) : copyNode(node, inputs, builder)));
}
