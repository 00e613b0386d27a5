/** The one way passes build a new graph from an old one: node by node, renumbering as they go. */
import { Graph, GraphBuilder, type GraphLeaf, type GraphNode, type NodeSpec } from '../graph.js';

/**
 * Rebuilds `graph`: `visit` is called on every node in order with its inputs already renumbered and returns
 * the node's new id (adding nodes to `builder`, or reusing an earlier new id), or null to drop it (then
 * nothing may read it). Input nodes are kept in order whatever `visit` does with other nodes.
 */
export function rewrite(
  graph: Graph,
  visit: (node: GraphNode, inputs: number[], builder: GraphBuilder, newId: (oldId: number) => number) => number | null,
): Graph {
  const builder = new GraphBuilder();
  const map = new Int32Array(graph.nodes.length).fill(-1);
  const newId = (old: number): number => {
    const id = map[old]!;
    if (id < 0) throw new Error(`internal: pass dropped %${old}, which is still read`);
    return id;
  };
  for (const node of graph.nodes) {
    // a dropped node's inputs may be dropped too: -1 here is only an error if a kept node reads it
    const inputs = Array.from(node.inputs, (i) => map[i]!);
    const id = node.op === 'input' ? builder.add({ ...strip(node), inputs } as NodeSpec) : visit(node, inputs, builder, newId);
    if (id === null) continue;
    if (builder.nodes[id]!.inputs.includes(-1)) throw new Error(`internal: pass dropped an input of %${node.id}, which is still read`);
    map[node.id] = id;
  }
  const leaf = (l: GraphLeaf): GraphLeaf => (typeof l === 'number' ? newId(l) : l);
  return new Graph(builder.nodes, graph.inputLeaves.map(leaf), graph.inputDef, graph.outputLeaves.map(leaf), graph.outputDef);
}

/** A node without its id, to add it again. */
function strip(node: GraphNode): NodeSpec {
  const { id: _id, ...spec } = node;
  return spec as NodeSpec;
}

/** Adds `node` unchanged except for its renumbered inputs. */
export function copyNode(node: GraphNode, inputs: number[], builder: GraphBuilder): number {
  return builder.add({ ...strip(node), inputs } as NodeSpec);
}
