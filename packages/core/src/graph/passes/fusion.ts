/**
 * Fusion of elementwise chains: finds groups of elementwise nodes of one shape (an LSTM's gate math, the
 * backward pass's `ct · (1 − y²)`) that one kernel can compute row by row, keeping values that nothing
 * outside the group reads in row-sized registers instead of full buffers.
 */
import { shapesEqual, sizeOf, type Shape } from '../../shape.js';
import type { Graph, GraphNode } from '../graph.js';
import { PRIMITIVES } from '../primitive-table.js';

/** Whether a node is elementwise by its primitive's declared kind (and has elements to compute). */
function isElementwise(node: GraphNode): boolean {
  return node.op !== 'input' && node.op !== 'const' && PRIMITIVES[node.op].kind === 'elementwise' && sizeOf(node.shape) > 0;
}

/** Nodes one fused kernel computes: all elementwise with output shape `shape`, in execution order. */
export interface FusionGroup {
  /** The member node ids in execution order; the group runs where its last member stood. */
  readonly members: readonly number[];
  /** The output shape every member has. */
  readonly shape: Shape;
}

interface OpenGroup {
  members: number[];
  shape: Shape;
  open: boolean;
  last: number;
}

/** How many nodes back an unrelated open group may have last grown for a node to join it. */
const JOIN_DISTANCE = 16;

/**
 * Groups elementwise nodes greedily in execution order: a node joins an open group of its shape that it
 * reads from, or else the latest open group of its shape. A group closes as soon as a node outside it reads one of its members, so running
 * the whole group at its last member's place never makes a value needed before it is computed. Groups of
 * one node are not returned.
 * @example
 * ```ts
 * findFusionGroups(trace(lstmStep, …)); // one group: the sigmoids, tanhs and products of the gates
 * ```
 */
export function findFusionGroups(graph: Graph): FusionGroup[] {
  const groupOf = new Int32Array(graph.nodes.length).fill(-1);
  const groups: OpenGroup[] = [];
  const latestOpen = new Map<string, number>();
  for (const node of graph.nodes) {
    const fusible = isElementwise(node);
    let joined = -1;
    if (fusible) {
      for (const i of node.inputs) {
        const g = groupOf[i]!;
        if (g >= 0 && groups[g]!.open && shapesEqual(groups[g]!.shape, node.shape)) {
          joined = g;
          break;
        }
      }
      // no group it reads from: the latest open group of its shape (the LSTM's four gate activations
      // read four different slices, yet belong in one kernel with the products that combine them), if
      // it was extended recently: joining a distant group would keep its inputs live until it runs
      const latest = latestOpen.get(node.shape.join(','));
      if (joined < 0 && latest !== undefined && groups[latest]!.open && node.id - groups[latest]!.last <= JOIN_DISTANCE) joined = latest;
    }
    // every group this node reads from, other than the one it joins, now has an outside reader
    for (const i of node.inputs) {
      const g = groupOf[i]!;
      if (g >= 0 && g !== joined) groups[g]!.open = false;
    }
    if (joined >= 0) {
      groups[joined]!.members.push(node.id);
      groups[joined]!.last = node.id;
      groupOf[node.id] = joined;
    } else if (fusible) {
      groupOf[node.id] = groups.length;
      latestOpen.set(node.shape.join(','), groups.length);
      groups.push({ members: [node.id], shape: node.shape, open: true, last: node.id });
    }
  }
  return groups.filter((g) => g.members.length > 1).map((g) => ({ members: g.members, shape: g.shape }));
}
