/**
 * Index ranges of gather, scatterAdd and oneHot. Eager ops check them when called; a traced op saw only
 * abstract indices, so a graph checks them when it runs (a wrong index would otherwise read past a row).
 */
import type { TensorData } from '../dtype.js';
import { ShapeError } from '../errors.js';
import { formatShape } from '../shape.js';
import type { Graph, GraphNode } from './graph.js';

/** Throws a ShapeError naming the op if an index is outside `[0, n)`. */
export function checkIndexRange(op: string, indices: TensorData, n: number, what: string): void {
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i]!;
    if (v < 0 || v >= n) throw new ShapeError(`${op}: index ${v} (at flat position ${i}) is out of range for ${what} (size ${n})`);
  }
}

/** The range check of a node that reads indices, given its operands' storage; other nodes pass. */
export function checkIndexNode(graph: Graph, node: GraphNode, operands: readonly TensorData[]): void {
  if (node.op === 'gather') {
    const { axis } = node.attrs as { axis: number };
    const xShape = graph.nodes[node.inputs[0]!]!.shape;
    checkIndexRange('gather', operands[1]!, xShape[axis]!, `axis ${axis} of x ${formatShape(xShape)}`);
  } else if (node.op === 'scatterAdd') {
    const { axis, shape } = node.attrs as { axis: number; shape: readonly number[] };
    checkIndexRange('gather (gradient)', operands[1]!, shape[axis]!, `axis ${axis} of x ${formatShape(shape)}`);
  } else if (node.op === 'oneHot') {
    const { depth } = node.attrs as { depth: number };
    checkIndexRange('oneHot', operands[0]!, depth, 'depth');
  }
}

/** Whether a node reads indices that must be range-checked when it runs. */
export function readsIndices(op: string): boolean {
  return op === 'gather' || op === 'scatterAdd' || op === 'oneHot';
}
