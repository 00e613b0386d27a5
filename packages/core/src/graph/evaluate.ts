/**
 * evaluate: runs a graph node by node through the same primitives as eager code (so the numbers are
 * eager's, bit for bit). It goes through `bind`, so an evaluation is differentiable and traceable like
 * any other code.
 */
import { primitiveNamed } from '../autodiff/primitive.js';
import { bind } from '../autodiff/tape.js';
import { InternalError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { bindArguments, buildResult } from './arguments.js';
import type { Graph } from './graph.js';
import { checkIndexNode } from './index-checks.js';

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
      values[node.id] = node.value!;
      continue;
    }
    const primitive = primitiveNamed(node.op);
    if (primitive === undefined) throw new InternalError(`internal: evaluate: no primitive named '${node.op}' (node %${node.id})`);
    const operands = node.inputs.map((i) => values[i]!);
    checkIndexNode(graph, node, operands.map((x) => x.data));
    values[node.id] = bind(primitive, operands, node.attrs);
  }
  return buildResult(graph, (id) => values[id]!);
}
