/** Constant folding: computes at compile time every node whose inputs are all constants. */
import { sizeOf } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import type { Graph } from '../graph.js';
import { runNode } from '../primitive-table.js';
import { copyNode, rewrite } from './rewrite.js';

/** Results larger than this stay computed at run time rather than stored in the plan. */
const MAX_FOLDED_SIZE = 1 << 20;

/**
 * Replaces nodes whose inputs are all constants by constants holding their values, computed with the
 * primitives' own forward (eager's numbers). Dead-code elimination then drops the constants only they
 * read.
 * @example
 * ```ts
 * foldConstants(trace((x) => mul(x, add(scalar(1), scalar(2))), x)); // mul(%0, const(3))
 * ```
 */
export function foldConstants(graph: Graph): Graph {
  const values = new Map<number, Tensor>();
  return rewrite(graph, (node, inputs, builder) => {
    if (node.op === 'const' || node.op === 'input' || node.op === 'customVjp' || node.op === 'random') {
      const id = copyNode(node, inputs, builder);
      if (node.op === 'const') values.set(id, node.value);
      return id;
    }
    const foldable = node.inputs.length > 0 && inputs.every((i) => values.has(i)) && sizeOf(node.shape) <= MAX_FOLDED_SIZE;
    if (!foldable) return copyNode(node, inputs, builder);
    // index ranges are checked by the kernels as they run
    const value = runNode(
      node,
      inputs.map((i) => values.get(i)!),
    );
    const id = builder.add({ op: 'const', inputs: [], attrs: undefined, shape: node.shape, dtype: node.dtype, value });
    values.set(id, value);
    return id;
  });
}
