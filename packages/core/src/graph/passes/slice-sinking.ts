/**
 * Slices sunk below the elementwise nodes they slice. An LSTM step computes its four gates' pre-activations
 * as one [N, 4H] value, `h·W_hhᵀ + b_hh + (x·W_ihᵀ + b_ih)_t`, and then slices it four ways: a plan stores the
 * [N, 4H] sum and copies out each [N, H] slice before the gate math reads it. When every reader of an
 * elementwise node is a slice, the slices are disjoint and only elementwise nodes read them, each slice becomes
 * the node's op over the same slice of its operands (`slice(a + b) = slice(a) + slice(b)`, a broadcast operand
 * sliced along the axes it varies on). The sum then joins the gate math's fused group, which reads the
 * product, the bias and the projection in place (see the schedule's views), and nothing is stored or copied.
 * Each element is computed by the same op from the same operands, so results do not change, and disjoint
 * slices compute no element twice.
 */
import { PRIMITIVES } from '../primitive-table.js';
import type { Graph, GraphBuilder, GraphNode, NodeSpec, PrimitiveNode } from '../graph.js';
import { copyNode, rewrite } from './rewrite.js';

/** A slice's region: where it starts and how long it is along each axis. */
interface Region {
  readonly begin: readonly number[];
  readonly size: readonly number[];
}

const isElementwise = (node: GraphNode): boolean => node.op !== 'input' && node.op !== 'const' && PRIMITIVES[node.op].kind === 'elementwise';

/** Whether two regions of one value share no element. */
function disjoint(a: Region, b: Region): boolean {
  return a.begin.some((start, d) => start + a.size[d]! <= b.begin[d]! || b.begin[d]! + b.size[d]! <= start);
}

/**
 * The elementwise nodes whose slices sink this round: every reader is a slice (of a nonempty region), the
 * regions are pairwise disjoint, every slice is read only by elementwise nodes, and none is a result.
 */
function sinkable(graph: Graph): Set<number> {
  const outputs = new Set(graph.outputs);
  const readers: GraphNode[][] = graph.nodes.map(() => []);
  for (const node of graph.nodes) for (const i of new Set(node.inputs)) readers[i]!.push(node);
  const found = new Set<number>();
  for (const node of graph.nodes) {
    if (!isElementwise(node) || outputs.has(node.id)) continue;
    const slices = readers[node.id]!;
    if (slices.length === 0 || !slices.every((s) => s.op === 'slice' && !outputs.has(s.id) && s.shape.every((d) => d > 0))) continue;
    if (!slices.every((s) => readers[s.id]!.length > 0 && readers[s.id]!.every(isElementwise))) continue;
    const regions = slices.map((s) => (s as PrimitiveNode<'slice'>).attrs);
    if (regions.every((a, i) => regions.every((b, j) => i === j || disjoint(a, b)))) found.add(node.id);
  }
  return found;
}

/**
 * Adds the slice of `operand` (new id, of shape `shape`) that an elementwise node of rank `rank` reads
 * for its own `region`: axes the operand broadcasts along (size 1) are kept whole, axes it lacks dropped; a
 * slice of a slice is one slice of the inner one's input. Returns the operand itself where the region is all
 * of it.
 */
function sliceOperand(builder: GraphBuilder, operand: number, region: Region, rank: number): number {
  const node = builder.nodes[operand]!;
  const lead = rank - node.shape.length;
  const begin = node.shape.map((d, a) => (d === 1 ? 0 : region.begin[a + lead]!));
  const size = node.shape.map((d, a) => (d === 1 ? 1 : region.size[a + lead]!));
  if (begin.every((b) => b === 0) && size.every((s, a) => s === node.shape[a])) return operand;
  if (node.op === 'slice') {
    const inner = (node as PrimitiveNode<'slice'>).attrs;
    return builder.add({
      op: 'slice',
      inputs: node.inputs,
      attrs: { begin: begin.map((b, a) => b + inner.begin[a]!), size },
      shape: size,
      dtype: node.dtype,
    } as NodeSpec);
  }
  return builder.add({ op: 'slice', inputs: [operand], attrs: { begin, size }, shape: size, dtype: node.dtype } as NodeSpec);
}

/**
 * Sinks the slices of elementwise nodes into their operands, as the module comment describes, until none is
 * left to sink (a slice of `(p + b) + g` sinks through both adds).
 * @example
 * ```ts
 * // before: %9 = add(%7, %8) [32, 512]; %10 = slice(%9) [32, 128]; … four slices
 * // after:  %10 = add(slice(%7), slice(%8)) [32, 128]; … four adds
 * const g = sinkSlices(optimize(trace(lstmStep, params, batch)));
 * ```
 */
export function sinkSlices(graph: Graph): Graph {
  let g = graph;
  for (let found = sinkable(g); found.size > 0; found = sinkable(g)) {
    const sunk = found;
    const source = g;
    g = rewrite(source, (node, inputs, builder, newId) => {
      // the sunk node itself is dropped: its slices compute it piece by piece
      if (sunk.has(node.id)) return null;
      const sliced = node.op === 'slice' ? source.nodes[node.inputs[0]!]! : null;
      if (sliced === null || !sunk.has(sliced.id)) return copyNode(node, inputs, builder);
      const region = (node as PrimitiveNode<'slice'>).attrs;
      const operands = sliced.inputs.map((i) => sliceOperand(builder, newId(i), region, sliced.shape.length));
      const { op, attrs, dtype } = sliced as PrimitiveNode;
      return builder.add({ op, attrs, dtype, inputs: operands, shape: node.shape } as NodeSpec);
    });
  }
  return g;
}
