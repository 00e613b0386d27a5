/**
 * The order a compiled graph runs in, and which values need storage: each step is one node or one fusion
 * group; a reshape is no step at all (it shares its input's storage), nor is a slice that keeps one contiguous
 * block of a pooled value (a window onto the value's buffer: a scan's step `x_t` of a [T, N, F] sequence),
 * nor a slice that only fused groups read, where the backend's groups read it in place (a view: an LSTM's
 * gate, 128 columns of each 512-column row); a fused value nothing outside its group reads lives only in the
 * group's row registers.
 */
import type { KernelName, StridedLayout } from '../backend/backend.js';
import { sizeOf, stridesOf } from '../shape.js';
import type { Graph, GraphNode, PrimitiveNode } from './graph.js';
import type { FusionGroup } from './passes/fusion.js';

/** One kernel call of a plan: a single node, or a fused group. */
type Step = { readonly kind: 'node'; readonly id: number } | { readonly kind: 'group'; readonly group: FusionGroup };

/** Where each value's storage comes from. */
type StorageKind = 'input' | 'const' | 'output' | 'pooled' | 'register' | 'alias' | 'window' | 'view';

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
  /** Per view, by id: where its elements lie in the storage of its slot (its input's). */
  readonly views: ReadonlyMap<number, StridedLayout>;
  /** Adds computed together with the product they add to, by the add's id: the product's id (never stored). */
  readonly productSums: ReadonlyMap<number, number>;
  /** Per node: its storage (`output`: fresh storage each call, as results are immutable values). */
  readonly storage: readonly StorageKind[];
  /** Per step: the root ids it reads (storage that must stay live until then). */
  readonly reads: readonly (readonly number[])[];
  /** Per step: the root ids it writes (materialised values, or the concatenations they are computed into). */
  readonly writes: readonly (readonly number[])[];
}

/**
 * Orders the graph's nodes into steps and classifies every value's storage. `aliases` tells which primitives
 * the backend computes by sharing their input's storage (a reshape): they are no step at all. `windows`:
 * the backend reads contiguous blocks of its storage in place; `views`: its fused groups read strided inputs.
 */
export function buildSchedule(
  graph: Graph,
  groups: readonly FusionGroup[],
  aliases: (op: KernelName) => boolean,
  windows = false,
  productSum: (product: PrimitiveNode<'matmul'>, sum: GraphNode) => boolean = () => false,
  views = false,
): Schedule {
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
  // Where the backend makes windows: values computed straight into their place in a pooled concatenation
  // (the per-step gradients that product accumulation stacks), so that the concat copies nothing; then slices
  // of one contiguous block of a value whose storage is fixed when the plan is built (a pooled buffer or a
  // constant), read in place. Both are windows onto another node's storage: `within` and `at` say whose and
  // where, and every node's root, offset and slot follow.
  const within = new Int32Array(n).fill(-1);
  const at = new Int32Array(n);
  const assembled = new Set<number>();
  const readInPlace = new Set<number>();
  const outputs = new Set(graph.outputs);
  if (windows) {
    for (const node of graph.nodes) {
      if (node.op !== 'concat' || storage[node.id] !== 'pooled') continue;
      const blocks = concatBlocks(node as PrimitiveNode<'concat'>, graph);
      // each input's own storage (a reshape's is its input's): computed into the concat in its place
      const inputs = node.inputs.map((i) => root[i]!);
      const placeable = (i: number): boolean => storage[i] === 'pooled' && within[i] < 0 && !outputs.has(i);
      if (blocks === null || new Set(inputs).size !== inputs.length) continue;
      // the same values stacked again with the same layout (a [T·N, F] and a [T, N, F] stack of the steps):
      // a window onto the first stack
      const host = within[inputs[0]!]!;
      if (host >= 0 && inputs.every((i, k) => within[i] === host && at[i] === at[inputs[0]!]! + blocks[k]!)) {
        storage[node.id] = 'window';
        within[node.id] = host;
        at[node.id] = at[inputs[0]!]!;
        readInPlace.add(node.id);
        continue;
      }
      if (!inputs.every(placeable)) continue;
      inputs.forEach((i, k) => {
        storage[i] = 'window';
        within[i] = node.id;
        at[i] = blocks[k]!;
      });
      assembled.add(node.id);
    }
    for (const node of graph.nodes) {
      if (node.op !== 'slice' || storage[node.id] !== 'pooled') continue;
      const block = contiguousBlock(node as PrimitiveNode<'slice'>, graph.nodes[node.inputs[0]!]!.shape);
      const source = node.inputs[0]!;
      const sourceStorage = storage[root[source]!];
      if (block === null || !(sourceStorage === 'pooled' || sourceStorage === 'const' || sourceStorage === 'window')) continue;
      storage[node.id] = 'window';
      readInPlace.add(node.id);
      within[node.id] = source;
      at[node.id] = block;
    }
  }
  // slices that only fused groups read (not contiguous blocks, or of values with storage fixed per call):
  // the groups read them through a strided layout of their input's storage
  const layouts = new Map<number, StridedLayout>();
  if (views) {
    const readByGroupsOnly = new Array<boolean>(n).fill(true);
    for (const node of graph.nodes) for (const i of node.inputs) if (groupOf[node.id]! < 0) readByGroupsOnly[i] = false;
    for (const node of graph.nodes) {
      if (node.op !== 'slice' || storage[node.id] !== 'pooled' || !readByGroupsOnly[node.id] || sizeOf(node.shape) === 0) continue;
      const source = node.inputs[0]!;
      if (storage[root[source]!] === 'register') continue;
      const strides = stridesOf(graph.nodes[source]!.shape);
      const { begin } = (node as PrimitiveNode<'slice'>).attrs;
      layouts.set(node.id, { offset: begin.reduce((sum, b, d) => sum + b * strides[d]!, 0), strides });
      storage[node.id] = 'view';
      readInPlace.add(node.id);
    }
  }
  const offset = new Int32Array(n);
  const slot = new Int32Array(n);
  const located = new Uint8Array(n);
  /** Sets the root and offset of `id` (and of what it lies within, first). */
  const locate = (id: number): void => {
    if (located[id]) return;
    located[id] = 1;
    const node = graph.nodes[id]!;
    const host = within[id]! >= 0 ? within[id]! : storage[id] === 'alias' ? node.inputs[0]! : -1;
    if (host < 0) {
      root[id] = id;
      return;
    }
    locate(host);
    root[id] = root[host]!;
    offset[id] = offset[host]! + at[id]!;
  };
  for (const node of graph.nodes) {
    locate(node.id);
    // a view is read from its input's storage (its layout says where); its root keeps that storage live
    if (storage[node.id] === 'view') root[node.id] = root[node.inputs[0]!]!;
    slot[node.id] = storage[node.id] === 'alias' || storage[node.id] === 'view' ? slot[node.inputs[0]!]! : node.id;
  }

  // an add outside any group of a product that nothing else reads (a bias after a projection): one step at
  // the add's place, where the backend has a kernel for the pair; the product is never stored
  const readers = new Int32Array(n);
  for (const node of graph.nodes) for (const i of node.inputs) readers[i]!++;
  for (const id of graph.outputs) readers[id]!++;
  const productSums = new Map<number, number>();
  for (const node of graph.nodes) {
    if (node.op !== 'add' || groupOf[node.id]! >= 0 || storage[node.id] === 'register') continue;
    const [p, q] = node.inputs as [number, number];
    const product = [p, q].find((i) => graph.nodes[i]!.op === 'matmul' && readers[i] === 1 && storage[i] === 'pooled');
    if (product === undefined || p === q || !productSum(graph.nodes[product]! as PrimitiveNode<'matmul'>, node)) continue;
    productSums.set(node.id, product);
    storage[product] = 'register';
  }

  const steps: Step[] = [];
  const reads: number[][] = [];
  const writes: number[][] = [];
  const lastMember = new Set(groups.map((g) => g.members[g.members.length - 1]!));
  for (const node of graph.nodes) {
    if (node.op === 'input' || node.op === 'const' || isAlias(node) || assembled.has(node.id)) continue;
    // a slice read in place (a window or a view) is no step (a value computed into its place in a concat is one)
    if (readInPlace.has(node.id)) continue;
    const g = groupOf[node.id]!;
    if (g < 0) {
      // a product added to at its add's step is no step of its own
      if (storage[node.id] === 'register') continue;
      const product = productSums.get(node.id);
      const operands = product === undefined ? node.inputs : [...graph.nodes[product]!.inputs, ...node.inputs.filter((i) => i !== product)];
      steps.push({ kind: 'node', id: node.id });
      reads.push([...new Set(operands.map((i) => root[i]!))]);
      writes.push([root[node.id]!]);
    } else if (lastMember.has(node.id)) {
      const group = groups[g]!;
      const members = new Set(group.members);
      const external = new Set<number>();
      for (const m of group.members) for (const i of graph.nodes[m]!.inputs) if (!members.has(i)) external.add(root[i]!);
      steps.push({ kind: 'group', group });
      reads.push([...external]);
      writes.push([...new Set(group.members.filter((m) => storage[m] !== 'register').map((m) => root[m]!))]);
    }
  }
  return { steps, root, slot, offset, views: layouts, productSums, storage, reads, writes };
}

/**
 * Where each input of a concat starts in its result when every input is one contiguous block of it (a concat
 * along the first axis longer than 1: stacked steps); null otherwise.
 */
function concatBlocks(node: PrimitiveNode<'concat'>, graph: Graph): number[] | null {
  const { axis } = node.attrs;
  if (node.shape.slice(0, axis).some((d) => d !== 1)) return null;
  const starts: number[] = [];
  let start = 0;
  for (const i of node.inputs) {
    starts.push(start);
    start += sizeOf(graph.nodes[i]!.shape);
  }
  return starts;
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
