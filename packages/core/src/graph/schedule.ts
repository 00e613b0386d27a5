/**
 * The order a compiled graph runs in, and which values need storage: each step is one node or one fusion
 * group; a reshape is no step at all (it shares its input's storage), nor is a slice that keeps one contiguous
 * block of a pooled value (a window onto the value's buffer: a scan's step `x_t` of a [T, N, F] sequence);
 * a fused value nothing outside its group reads lives only in the group's row registers.
 */
import type { KernelName } from '../backend/backend.js';
import { stridesOf } from '../shape.js';
import type { Graph, GraphNode, PrimitiveNode } from './graph.js';
import type { FusionGroup } from './passes/fusion.js';

/** One kernel call of a plan: a single node, or a fused group. */
type Step = { readonly kind: 'node'; readonly id: number } | { readonly kind: 'group'; readonly group: FusionGroup };

/** Where each value's storage comes from. */
type StorageKind = 'input' | 'const' | 'output' | 'pooled' | 'register' | 'alias' | 'window';

/** The steps of a graph and the storage of its values. */
export interface Schedule {
  /** The kernel calls in order. */
  readonly steps: readonly Step[];
  /** Per node: the node whose storage it lies in (itself, or for a reshape or a window its input's root), which must stay live while it is read. */
  readonly root: Int32Array;
  /** Per node: the node whose entry of the value table holds its storage (itself; for a reshape, its input's). */
  readonly slot: Int32Array;
  /** Per window: where it starts in its input's storage, in elements (0 for every other node). */
  readonly offset: Int32Array;
  /** Per node: its storage (`output`: fresh storage each call, as results are immutable values). */
  readonly storage: readonly StorageKind[];
  /** Per step: the root ids it reads (storage that must stay live until then). */
  readonly reads: readonly (readonly number[])[];
  /** Per step: the root ids it writes (materialised values). */
  readonly writes: readonly (readonly number[])[];
}

/**
 * Orders the graph's nodes into steps and classifies every value's storage. `aliases` tells which primitives
 * the backend computes by sharing their input's storage (a reshape): they are no step at all.
 */
export function buildSchedule(graph: Graph, groups: readonly FusionGroup[], aliases: (op: KernelName) => boolean, windows = false): Schedule {
  const n = graph.nodes.length;
  const groupOf = new Int32Array(n).fill(-1);
  groups.forEach((g, i) => g.members.forEach((m) => (groupOf[m] = i)));
  const root = new Int32Array(n);
  const storage: StorageKind[] = new Array(n);
  const isAlias = (node: GraphNode): boolean => node.op !== 'input' && node.op !== 'const' && node.op !== 'customVjp' && aliases(node.op);
  for (const node of graph.nodes) {
    root[node.id] = isAlias(node) ? root[node.inputs[0]!]! : node.id;
    storage[node.id] = node.op === 'input' ? 'input' : node.op === 'const' ? 'const' : isAlias(node) ? 'alias' : 'pooled';
  }
  // a member read outside its group (or returned) is materialised; the others are registers
  const readOutside = new Array<boolean>(n).fill(false);
  for (const node of graph.nodes) {
    for (const i of node.inputs) if (groupOf[i]! >= 0 && groupOf[i] !== groupOf[node.id]) readOutside[i] = true;
  }
  for (const id of graph.outputs) readOutside[id] = true;
  groups.forEach((g) =>
    g.members.forEach((m) => {
      if (!readOutside[m]) storage[m] = 'register';
    }),
  );
  for (const id of graph.outputs) {
    const r = root[id]!;
    if (storage[r] === 'pooled') storage[r] = 'output';
  }
  // windows (where the backend makes them): slices of one contiguous block of a value whose storage is
  // fixed when the plan is built (a pooled buffer or a constant), read in place instead of copied; then every
  // node's root and slot, now that windows sit between some nodes and their roots
  const offset = new Int32Array(n);
  const slot = new Int32Array(n);
  for (const node of graph.nodes) {
    if (windows && node.op === 'slice' && storage[node.id] === 'pooled') {
      const block = contiguousBlock(node as PrimitiveNode<'slice'>, graph.nodes[node.inputs[0]!]!.shape);
      const source = storage[root[node.inputs[0]!]!];
      if (block !== null && (source === 'pooled' || source === 'const')) {
        storage[node.id] = 'window';
        offset[node.id] = offset[node.inputs[0]!]! + block;
      }
    }
    const passThrough = storage[node.id] === 'alias' || storage[node.id] === 'window';
    root[node.id] = passThrough ? root[node.inputs[0]!]! : node.id;
    slot[node.id] = storage[node.id] === 'alias' ? slot[node.inputs[0]!]! : node.id;
    // a reshape of a window lies at the window's place
    if (storage[node.id] === 'alias') offset[node.id] = offset[node.inputs[0]!]!;
  }

  const steps: Step[] = [];
  const reads: number[][] = [];
  const writes: number[][] = [];
  const lastMember = new Set(groups.map((g) => g.members[g.members.length - 1]!));
  for (const node of graph.nodes) {
    if (node.op === 'input' || node.op === 'const' || isAlias(node) || storage[node.id] === 'window') continue;
    const g = groupOf[node.id]!;
    if (g < 0) {
      steps.push({ kind: 'node', id: node.id });
      reads.push([...new Set(node.inputs.map((i) => root[i]!))]);
      writes.push([node.id]);
    } else if (lastMember.has(node.id)) {
      const group = groups[g]!;
      const members = new Set(group.members);
      const external = new Set<number>();
      for (const m of group.members) for (const i of graph.nodes[m]!.inputs) if (!members.has(i)) external.add(root[i]!);
      steps.push({ kind: 'group', group });
      reads.push([...external]);
      writes.push(group.members.filter((m) => storage[m] !== 'register'));
    }
  }
  return { steps, root, slot, offset, storage, reads, writes };
}

/**
 * Where a slice's kept region starts in its input (`shape`) when that region is one contiguous run of the
 * input's elements: leading axes kept at one index, one axis cut anywhere, the axes after it whole. Null
 * otherwise.
 */
function contiguousBlock(node: PrimitiveNode<'slice'>, shape: readonly number[]): number | null {
  const { begin, size } = node.attrs;
  const strides = stridesOf(shape);
  // the first axis (from the left) that keeps more than one index: every later axis must be whole
  let cut = size.findIndex((s) => s !== 1);
  if (cut < 0) cut = size.length;
  for (let i = cut + 1; i < shape.length; i++) if (begin[i] !== 0 || size[i] !== shape[i]) return null;
  let start = 0;
  for (let i = 0; i < shape.length; i++) start += begin[i]! * strides[i]!;
  return start;
}
