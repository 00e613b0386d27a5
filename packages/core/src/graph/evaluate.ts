/**
 * evaluate: runs a graph node by node through the same primitives as eager code (so the numbers are
 * eager's, bit for bit). It goes through `bind`, so an evaluation is differentiable and traceable like
 * any other code.
 */
import type { Tensor } from '../tensor.js';
import { bindArguments, buildResult } from './arguments.js';
import type { Graph } from './graph.js';
import { bindNode } from './primitive-table.js';

/**
 * Runs `graph` on arguments shaped like the ones it was traced with (same tree structure, shapes, dtypes)
 * and returns the result tree.
 * @example
 * ```ts
 * const g = trace((x: Tensor) => mul(x, 2), zeros([3]));
 * evaluate(g, tensor([1, 2, 3])); // [2, 4, 6]
 * ```
 */
export function evaluate(graph: Graph, ...args: unknown[]): any {
  const inputs = bindArguments('evaluate', graph, args);
  const values: Tensor[] = new Array(graph.nodes.length);
  graph.inputs.forEach((id, i) => (values[id] = inputs[i]!));
  for (const node of graph.nodes) {
    if (node.op === 'input') continue;
    if (node.op === 'const') {
      values[node.id] = node.value;
      continue;
    }
    // index ranges are checked by the kernels as they run
    values[node.id] = bindNode(
      node,
      node.inputs.map((i) => values[i]!),
    );
  }
  return buildResult(graph, (id) => values[id]!);
}
