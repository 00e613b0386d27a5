/** Common-subexpression elimination: one node per distinct computation. */
import type { ConstNode, Graph, GraphNode } from '../graph.js';
import { copyNode, rewrite } from './rewrite.js';

/** Constants up to this many elements are compared by value; larger ones only by identity. */
const SMALL_CONSTANT = 64;

function constantKey(node: ConstNode): string | null {
  const value = node.value;
  // a constant on a device is compared by identity: reading it back would cost more than merging saves
  if (value.size > SMALL_CONSTANT || value.backend.hostView === undefined) return null;
  // Object.is semantics: -0 and 0 differ, NaN equals NaN
  const values = Array.from(value.dataSync(), (v) => (Object.is(v, -0) ? '-0' : String(v)));
  return `const|${node.dtype}|${node.shape.join(',')}|${values.join(',')}`;
}

/** The key two nodes computing the same value share (null: never merged). */
function keyOf(node: GraphNode, inputs: readonly number[]): string | null {
  if (node.op === 'const') return constantKey(node);
  return `${node.op}|${inputs.join(',')}|${JSON.stringify(node.attrs) ?? ''}|${node.dtype}|${node.shape.join(',')}`;
}

/**
 * Merges nodes that apply the same op with the same attributes to the same inputs, and equal small
 * constants (each `sub(1, y)` of a traced loop brings its own constant 1). Ops are pure, so this keeps
 * results exactly.
 */
export function eliminateCommonSubexpressions(graph: Graph): Graph {
  const seen = new Map<string, number>();
  return rewrite(graph, (node, inputs, builder) => {
    const key = keyOf(node, inputs);
    if (key !== null) {
      const hit = seen.get(key);
      if (hit !== undefined) return hit;
    }
    const id = copyNode(node, inputs, builder);
    if (key !== null) seen.set(key, id);
    return id;
  });
}
