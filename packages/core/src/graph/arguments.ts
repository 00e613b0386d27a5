/** Matching call arguments against a graph's inputs, and turning a graph's result leaves back into a tree. */
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { shapesEqual } from '../shape.js';
import { Tensor } from '../tensor.js';
import { assertSameStructure, freezeContainers, treeFlattenWithPath, treeUnflatten } from '../tree/tree.js';
import { typeName, type Graph, type GraphLeaf } from './graph.js';

/**
 * The tensor leaves of `args`, checked against the graph's inputs: same tree structure, same shapes and
 * dtypes, and the same static (non-tensor) leaves as when traced. Returns one tensor per input node, in
 * `graph.inputs` order.
 */
export function bindArguments(op: string, graph: Graph, args: readonly unknown[]): Tensor[] {
  assertSameStructure(
    op,
    treeUnflatten(
      graph.inputDef,
      graph.inputLeaves.map(() => 0),
    ),
    args,
    ['the traced arguments', 'the arguments'],
  );
  const leaves = treeFlattenWithPath<unknown>(args);
  const tensors: Tensor[] = [];
  leaves.forEach(([path, leaf], i) => {
    const expected = graph.inputLeaves[i]!;
    const where = `argument args${path}`;
    if (typeof expected !== 'number') {
      if (!Object.is(expected.static, leaf)) {
        throw new ArgumentError(`${op}: ${where} was ${String(expected.static)} when traced but is ${String(leaf)} now; trace again for a new value`);
      }
      return;
    }
    const node = graph.nodes[expected]!;
    if (!(leaf instanceof Tensor)) throw new ArgumentError(`${op}: ${where} must be a tensor ${typeName(node)}, got ${typeof leaf}`);
    if (leaf.dtype !== node.dtype) throw new DTypeError(`${op}: ${where} must be ${typeName(node)}, got ${typeName(leaf)}`);
    if (!shapesEqual(leaf.shape, node.shape)) throw new ShapeError(`${op}: ${where} must be ${typeName(node)}, got ${typeName(leaf)}`);
    tensors.push(leaf);
  });
  return tensors;
}

/** The result tree from the values of the graph's output nodes (`valueOf`) and its static leaves. */
export function buildResult(graph: Graph, valueOf: (id: number) => Tensor): unknown {
  const leaves = graph.outputLeaves.map((l: GraphLeaf) => (typeof l === 'number' ? valueOf(l) : l.static));
  // freezes what this call built, never a static leaf the caller passed through (a Map, a config object)
  return freezeContainers(graph.outputDef, treeUnflatten(graph.outputDef, leaves));
}
