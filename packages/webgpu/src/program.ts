/// <reference types="@webgpu/types" />
/**
 * A compiled graph on the GPU: every node of a traced (and optimised) `Graph` planned once as a kernel,
 * elementwise chains fused into generated kernels (core's fusion groups), every value given a buffer once by
 * a liveness plan, and each call encoded as one command buffer: one queue submission per call, no readback
 * unless the caller reads a result.
 *
 * A dispatch is what a GPU pays for here (tens of microseconds each, however small the work), so the plan
 * spends as few as the graph allows, none of which changes what is computed:
 * - a reshape shares its input's buffer; a slice, a transpose, a broadcast or a reshape that only elementwise
 *   kernels read is folded into those kernels as a view (a base and strides into the buffer it reads);
 * - an elementwise node read only through such views is computed inside the kernels that read it (an LSTM
 *   step's gate pre-activations, read as four slices, are summed in the gate kernel);
 * - a concat whose parts only it reads is written in place by the kernels that compute the parts;
 * - short sums of one kind that only elementwise kernels read run as one kernel;
 * - a float32 matrix product that one elementwise kernel reads is summed in that kernel, each thread the
 *   elements it reads, in the matmul kernel's order (see {@link CompileGraphOptions.inlineMatmul}); a matrix
 *   that many such products read transposed (an RNN's W_hh) is transposed once per call, so that they read it
 *   coalesced.
 * Before planning, one rewrite that does change the order of a sum (see concat-sums.ts): a bias's per-step
 * gradient column sums become one sum over the stack of the gate gradients.
 * An LSTM layer's time step is then two kernels: the gate kernel (with the product by W_hh) and the
 * gate-gradient kernel (with the next step's product back through W_hh).
 */
import {
  findFusionGroups,
  Graph,
  InternalError,
  PRIMITIVES,
  ShapeError,
  Tensor,
  type AbstractValue,
  type AttrsOf,
  type DType,
  type ElementwiseName,
  type FusedInstruction,
  type GraphNode,
  type KernelName,
} from '@tapestry/core';
import type { WebGpuBackend } from './backend.js';
import type { KernelTime } from './kernel-timer.js';
import { GpuStorage, type GpuDType } from './storage.js';
import { broadcastStrides, sizeOf, stridesOf } from './wgsl/common.js';
import { reducesPerThread } from './wgsl/reduce.js';
import { transposeSharedOperands } from './transpose-once.js';
import { sumConcatenatedColumns } from './concat-sums.js';
import type { InputRead, OutputWrite } from './wgsl/elementwise.js';

type Step = (values: (GpuStorage | null)[]) => void;

/** Options of {@link compileGraph}. */
export interface CompileGraphOptions {
  /**
   * What to do with float64 nodes, which WGSL cannot hold: `'error'` (default) refuses the graph;
   * `'float32'` computes them in float32 (for scalar bookkeeping such as Adam's bias corrections, which
   * optim computes in float64 from the int32 step count; the result differs from the CPU's by float32 rounding).
   */
  readonly float64?: 'error' | 'float32';
  /**
   * Spend as few dispatches as the graph allows (default true): layout ops folded into their readers as views,
   * producers read through views computed in their readers' kernels, concats written in place by their parts'
   * kernels, short sums batched (see the module's description). `false` runs every node and fused group as a
   * kernel of its own: the plain plan, for comparison (the results are the same bits).
   */
  readonly foldLayout?: boolean;
  /**
   * Compute a float32 matrix product read only by one elementwise kernel inside that kernel (default true,
   * with `foldLayout`): each thread sums the products it reads, in the order the matmul kernel sums, so the
   * values are the same. An LSTM step's recurrent product `h W_hhᵀ` is then summed in the gate kernel, and the
   * backward's `dG W_hh` in the next gate-gradient kernel: two dispatches fewer per layer and time step, and
   * one thread per output element instead of the handful of workgroups a [batch, 4H] product gets. `false`
   * keeps every product a kernel of its own, for comparison.
   */
  readonly inlineMatmul?: boolean;
}

/** The longest sum an inlined product may take (a thread's loop; longer products keep their tiled kernel). */
const MAX_INLINED_DEPTH = 4096;

/** How many sets of result buffers a program cycles through: results stay valid until the call after next. */
const RESULT_SETS = 2;

/** A value read through a view: element `base + Σ coordᵢ·stridesᵢ` of the buffer of node `source`. */
interface View {
  readonly source: number;
  readonly base: number;
  readonly strides: readonly number[];
}

/** One kernel call of the plan: a fused elementwise group (perhaps of one member), or another node. */
type Unit =
  | { readonly kind: 'group'; readonly members: readonly number[] }
  | { readonly kind: 'rows'; readonly members: readonly number[] }
  | { readonly kind: 'node'; readonly id: number };

/**
 * A graph compiled for one backend. `run` takes the graph's input values as GPU storage (in the order of
 * `graph.inputs`) and returns its results as GPU storage (in the order of `graph.outputs`); the results are the
 * program's own buffers, rewritten by the call after next, so a training loop passes them straight back as
 * the next call's inputs (parameters and optimiser state never leave the GPU).
 */
export class GpuProgram {
  /** The graph it runs (float64 nodes demoted if asked). */
  readonly graph: Graph;
  /** Dispatches one call encodes (the kernels of one call; its one submission is {@link GpuProgram.run}'s flush). */
  readonly dispatchesPerCall: number;
  /** Dispatches per call by kind of kernel (`fused` for elementwise groups, else the primitive): where they go. */
  readonly dispatchesByKernel: Readonly<Record<string, number>>;
  private readonly steps: Step[] = [];
  /**
   * Per step, what {@link GpuProgram.timeKernels} labels it: its kind of kernel (as in
   * {@link GpuProgram.dispatchesByKernel}), `fused with product` for a group that sums an inlined product.
   */
  private readonly stepLabels: string[] = [];
  private readonly values: (GpuStorage | null)[];
  private readonly resultSets: GpuStorage[][] = [];
  private readonly inputIds: number[];
  private readonly outputIds: number[];
  /** Per node: the node whose buffer it shares (a reshape's source), else itself. */
  private readonly root: Int32Array;
  /** Per node: the view through which kernels read it, where it is folded into its readers (no buffer of its own). */
  private readonly views: (View | null)[];
  /** Elementwise nodes computed inside the kernels that read them (through views), never stored. */
  private readonly inlined = new Set<number>();
  /** Concat parts written straight into their concat's buffer (by the kernels that compute them): where. */
  /** Reductions batched into one kernel: each is a row of its batch's buffer, owned by the batch's last member. */
  private readonly rows = new Map<number, { readonly owner: number; readonly base: number; readonly count: number }>();
  private readonly placed = new Map<number, { readonly concat: number; readonly base: number; readonly strides: readonly number[] }>();
  private calls = 0;

  /** Plans `graph` on `backend` (see {@link compileGraph}). */
  constructor(
    private readonly backend: WebGpuBackend,
    graph: Graph,
    options: CompileGraphOptions = {},
  ) {
    if (options.float64 === 'float32') graph = demoteFloat64(graph);
    // a bias's per-step column sums become one sum of the concatenated gate gradients (see concat-sums.ts)
    graph = sumConcatenatedColumns(graph);
    // products summed inside kernels read their right operand coalesced (see transpose-once.ts)
    if (options.foldLayout !== false && options.inlineMatmul !== false) graph = transposeSharedOperands(graph);
    this.graph = graph;
    const nodes = graph.nodes;
    this.inputIds = graph.inputs;
    this.outputIds = graph.outputs;
    this.values = new Array(nodes.length).fill(null);
    const isOutput = new Set(this.outputIds);
    const readers: number[][] = nodes.map(() => []);
    nodes.forEach((n) => n.inputs.forEach((i) => readers[i]!.push(n.id)));
    const elementwise = (n: GraphNode) => n.op !== 'input' && n.op !== 'const' && PRIMITIVES[n.op].kind === 'elementwise' && sizeOf(n.shape) > 0;

    // what needs no kernel of its own, decided from the readers back: a view-like node that only elementwise
    // kernels read (they read through its view), and an elementwise node that is only read through such views
    // (each kernel that reads it computes it at the elements it reads: an LSTM's gate pre-activations, read as
    // four slices by the gate kernel, are summed there). A view or an inlined node the kernels cannot address
    // coordinate by coordinate (a reshape that splits axes of a strided view) is left as a kernel, and the
    // decisions are made again.
    const fold = options.foldLayout !== false;
    const inlineProducts = fold && options.inlineMatmul !== false;
    const kept = new Set<number>();
    const groupAt = new Map<number, readonly number[]>();
    const inGroup = new Set<number>();
    const groupLast = new Map<number, number>();
    for (const g of findFusionGroups(graph)) {
      const last = g.members[g.members.length - 1]!;
      groupAt.set(last, g.members);
      for (const m of g.members) {
        inGroup.add(m);
        groupLast.set(m, last);
      }
    }
    this.root = Int32Array.from(nodes.map((n) => n.id));
    this.views = nodes.map(() => null);
    let units: Unit[] = [];
    const plans = new Map<Unit, GroupPlan>();
    for (let settled = false; !settled;) {
      const foldable = new Array<boolean>(nodes.length).fill(false);
      this.inlined.clear();
      // the kernels that read `id` (through views and inlined nodes): a group at its last member, or a node
      const readingKernels = (id: number, into = new Set<number>()): Set<number> => {
        for (const r of readers[id]!) {
          if (foldable[r] || this.inlined.has(r)) readingKernels(r, into);
          else into.add(groupLast.get(r) ?? r);
        }
        return into;
      };
      for (let id = nodes.length - 1; id >= 0 && fold; id--) {
        const n = nodes[id]!;
        if (kept.has(id) || isOutput.has(id) || readers[id]!.length === 0) continue;
        // a product's operands stay in buffers: its kernel (or the one it is inlined into) reads them by address
        const throughViews = readers[id]!.every((r) => foldable[r]! || (this.inlined.has(r) && nodes[r]!.op !== 'matmul'));
        if (VIEW_OPS.has(n.op)) foldable[id] = readers[id]!.every((r) => elementwise(nodes[r]!) || foldable[r]!);
        else if (elementwise(n) && throughViews) this.inlined.add(id);
        // a product is summed K times per element: inlined only where one elementwise kernel reads it
        else if (
          inlineProducts &&
          inlinableProduct(n, nodes) &&
          readers[id]!.every((r) => foldable[r]! || (this.inlined.has(r) && nodes[r]!.op !== 'matmul') || elementwise(nodes[r]!)) &&
          readingKernels(id).size === 1
        )
          this.inlined.add(id);
      }
      // short reductions of one kind that only elementwise kernels read (an LSTM's per-step bias-gradient
      // sums): batched into one kernel each, as rows of one buffer, where the batch's last one stood (before
      // any of them is read)
      this.rows.clear();
      const batches: number[][] = [];
      if (fold) {
        // where a value is first needed by a kernel: through views and inlined nodes to the kernels reading
        // them, and a fusion group's member where its group runs (at its last member)
        const firstUse = (id: number): number =>
          Math.min(...readers[id]!.map((r) => (foldable[r] || this.inlined.has(r) ? firstUse(r) : (groupLast.get(r) ?? r))));
        const open = new Map<string, { members: number[]; firstReader: number }>();
        for (const n of nodes) {
          if (n.op !== 'sum' || isOutput.has(n.id) || readers[n.id]!.length === 0 || !readers[n.id]!.every((r) => elementwise(nodes[r]!) || foldable[r]!))
            continue;
          const x = nodes[n.inputs[0]!]!;
          const { axes, keepDims } = n.attrs as AttrsOf<'sum'>;
          if (!reducesPerThread(sizeOf(axes.map((a) => x.shape[a]!))) || sizeOf(n.shape) === 0) continue;
          const key = `${n.dtype}|${x.shape.join(',')}|${axes.join(',')}|${keepDims}`;
          let batch = open.get(key);
          if (batch !== undefined && (n.id > batch.firstReader || batch.members.length === backend.maxBindings - 1)) batch = undefined;
          if (batch === undefined) {
            batch = { members: [], firstReader: Infinity };
            open.set(key, batch);
            batches.push(batch.members);
          }
          batch.members.push(n.id);
          batch.firstReader = Math.min(batch.firstReader, firstUse(n.id));
        }
        for (const members of batches) {
          if (members.length < 2) continue;
          const owner = members[members.length - 1]!;
          members.forEach((m, b) => this.rows.set(m, { owner, base: b * sizeOf(nodes[m]!.shape), count: members.length }));
        }
      }
      settled = true;
      for (const n of nodes) {
        this.views[n.id] = foldable[n.id] ? this.viewThrough(n) : null;
        if (foldable[n.id] && this.views[n.id] === null) {
          kept.add(n.id);
          settled = false;
        }
      }
      if (!settled) continue;
      // a reshape left as a node shares its source's buffer (storage is row-major and contiguous)
      this.root = Int32Array.from(nodes.map((n) => n.id));
      for (const n of nodes) {
        if (
          fold &&
          n.op === 'reshape' &&
          this.views[n.id] === null &&
          !isOutput.has(n.id) &&
          this.views[n.inputs[0]!] === null &&
          !this.inlined.has(n.inputs[0]!)
        ) {
          this.root[n.id] = this.root[n.inputs[0]!]!;
        }
      }
      // a concat whose parts are all computed by elementwise kernels and read by nothing else is no kernel:
      // those kernels write their parts into its buffer (an LSTM step's four gate gradients)
      this.placed.clear();
      const placedConcats = new Set<number>();
      for (const n of nodes) {
        if (!fold || n.op !== 'concat' || kept.has(n.id)) continue;
        const parts = n.inputs;
        if (!parts.every((q, k) => elementwise(nodes[q]!) && !isOutput.has(q) && !this.inlined.has(q) && readers[q]!.length === 1 && parts.indexOf(q) === k))
          continue;
        const axis = (n.attrs as AttrsOf<'concat'>).axis;
        const strides = stridesOf(n.shape);
        let start = 0;
        for (const q of parts) {
          this.placed.set(q, { concat: n.id, base: start * strides[axis]!, strides });
          start += nodes[q]!.shape[axis]!;
        }
        placedConcats.add(n.id);
      }
      const computed = (id: number) => this.views[id] === null && this.root[id] === id && !this.inlined.has(id) && !placedConcats.has(id) && !this.rows.has(id);

      // kernel calls in execution order: core's fusion groups at their last member (less inlined members),
      // other elementwise nodes as groups of one (so they read views too), every other node as itself
      units = [];
      for (const n of nodes) {
        if (n.op === 'input' || n.op === 'const') continue;
        const members = groupAt.get(n.id)?.filter(computed);
        if (members !== undefined) {
          for (const chunk of this.chunks(members, readers, isOutput)) units.push({ kind: 'group', members: chunk });
        } else if (this.rows.get(n.id)?.owner === n.id) {
          units.push({ kind: 'rows', members: batches.find((b) => b[b.length - 1] === n.id)! });
        } else if (!inGroup.has(n.id) && computed(n.id)) units.push(elementwise(n) ? { kind: 'group', members: [n.id] } : { kind: 'node', id: n.id });
      }
      plans.clear();
      for (const u of units) {
        if (u.kind !== 'group') continue;
        const plan = this.planGroup(u.members, this.groupOutputs(u.members, readers, isOutput));
        if (typeof plan === 'number') {
          kept.add(plan);
          settled = false;
          break;
        }
        plans.set(u, plan);
      }
    }

    // buffers: constants uploaded once; results in their own cycling sets; the rest from a free list after
    // the last unit that reads them (through a view or a shared buffer too)
    const written = (u: Unit): readonly number[] =>
      u.kind === 'group' ? plans.get(u)!.targets : u.kind === 'rows' ? [u.members[u.members.length - 1]!] : [u.id];
    const sourcesRead = (u: Unit): readonly number[] => {
      if (u.kind === 'group') return plans.get(u)!.sources;
      return (u.kind === 'rows' ? u.members.map((m) => nodes[m]!.inputs[0]!) : nodes[u.id]!.inputs).map((i) => this.source(i));
    };
    const lastUse = new Int32Array(nodes.length).fill(-1);
    units.forEach((u, k) => {
      for (const s of sourcesRead(u)) lastUse[s] = k;
    });
    for (const n of nodes) {
      if (n.op !== 'const') continue;
      // a constant already on this device (a tensor the traced function closed over) is used where it is
      const value = (n as { value: Tensor }).value;
      this.values[n.id] = value.backend === backend ? (value.storage as GpuStorage) : backend.upload(value.dataSync());
    }
    const free = new Map<string, GpuStorage[]>();
    // a batch's buffer holds all its rows
    const elements = (n: GraphNode) => sizeOf(n.shape) * (this.rows.get(n.id)?.count ?? 1);
    const key = (n: GraphNode) => `${n.dtype}:${elements(n)}`;
    const releasedAt: number[][] = units.map(() => []);
    // a concat written in parts is allocated by the first unit that writes a part, released once
    const allocated = new Set<number>();
    units.forEach((u) => {
      for (const id of written(u))
        if (!isOutput.has(id) && lastUse[id]! >= 0 && !allocated.has(id)) {
          allocated.add(id);
          releasedAt[lastUse[id]!]!.push(id);
        }
    });
    allocated.clear();
    units.forEach((u, k) => {
      for (const id of written(u)) {
        if (isOutput.has(id) || allocated.has(id)) continue;
        allocated.add(id);
        const n = nodes[id]!;
        const list = free.get(key(n));
        this.values[id] = list !== undefined && list.length > 0 ? list.pop()! : backend.allocate(n.dtype, Math.max(1, elements(n)));
      }
      for (const id of releasedAt[k]!) {
        const list = free.get(key(nodes[id]!));
        if (list === undefined) free.set(key(nodes[id]!), [this.values[id]!]);
        else list.push(this.values[id]!);
      }
    });
    for (let s = 0; s < RESULT_SETS; s++) {
      this.resultSets.push(
        this.outputIds.map((id) => {
          const n = nodes[id]!;
          return n.op === 'input' || n.op === 'const' ? (null as unknown as GpuStorage) : backend.allocate(n.dtype, Math.max(1, sizeOf(n.shape)));
        }),
      );
    }

    for (const u of units) {
      if (u.kind === 'group') this.steps.push(this.fusedStep(plans.get(u)!, nodes[u.members[0]!]!.shape));
      else if (u.kind === 'rows') this.steps.push(this.rowsStep(u.members));
      else this.steps.push(this.nodeStep(nodes[u.id]!));
    }
    const byKernel: Record<string, number> = {};
    for (const u of units) {
      const kind = u.kind === 'node' ? nodes[u.id]!.op : u.kind === 'rows' ? 'sum' : 'fused';
      // timed kernels tell a group that sums a product inside (a recurrent step's gates) from plain ones
      this.stepLabels.push(u.kind === 'group' && plans.get(u)!.reads.some((r) => r.dot !== undefined) ? 'fused with product' : kind);
      byKernel[kind] = (byKernel[kind] ?? 0) + (u.kind === 'node' ? this.dispatchCount(nodes[u.id]!) : 1);
    }
    this.dispatchesByKernel = byKernel;
    this.dispatchesPerCall = Object.values(byKernel).reduce((a, b) => a + b, 0);
  }

  /**
   * Runs the program once: `inputs` in the order of `graph.inputs`. Encodes every kernel into one command
   * buffer and submits it; returns the results (valid until the call after next).
   */
  run(inputs: readonly GpuStorage[]): GpuStorage[] {
    const results = this.encodeCall('run', inputs);
    this.backend.flush();
    return results;
  }

  /**
   * Runs the program once as {@link GpuProgram.run} does, with every kernel timed on the GPU; resolves to the
   * call's results (what `run` would have returned) and each dispatch's time in execution order, labelled
   * with its kind of kernel (`fused`, `matmul`, `sum`, … as in {@link GpuProgram.dispatchesByKernel}, and
   * `fused with product` for the fused kernels that sum an inlined matrix product). Needs
   * a device with timestamps ({@link WebGpuBackend.timeKernels}).
   */
  async timeKernels(inputs: readonly GpuStorage[]): Promise<{
    /** The call's results, as {@link GpuProgram.run} returns them. */
    results: GpuStorage[];
    /** Every dispatch's GPU time, in execution order. */
    times: KernelTime[];
  }> {
    let results: GpuStorage[] = [];
    const times = await this.backend.timeKernels((label) => {
      results = this.encodeCall('timeKernels', inputs, label);
    });
    return { results, times };
  }

  /** Encodes one call (without submitting it): the steps over `inputs` and the next result set. */
  private encodeCall(caller: string, inputs: readonly GpuStorage[], label?: (kernel: string) => void): GpuStorage[] {
    if (inputs.length !== this.inputIds.length) {
      throw new ShapeError(`GpuProgram.${caller}: expected ${this.inputIds.length} inputs (the graph's), got ${inputs.length}`);
    }
    this.inputIds.forEach((id, k) => (this.values[id] = inputs[k]!));
    const set = this.resultSets[this.calls++ % RESULT_SETS]!;
    this.outputIds.forEach((id, k) => {
      if (set[k] !== null) this.values[id] = set[k]!;
    });
    this.steps.forEach((step, s) => {
      label?.(this.stepLabels[s]!);
      step(this.values);
    });
    return this.outputIds.map((id) => this.values[id]!);
  }

  /**
   * The dtype and length of each result {@link GpuProgram.runFresh} gives storage of its own (the outputs
   * that are neither inputs nor constants, each once), in the order it asks `storageFor` for them.
   */
  get freshResults(): {
    /** The result's dtype. */
    dtype: GpuDType;
    /** Its number of elements. */
    size: number;
  }[] {
    return this.freshOutputIds().map((id) => ({ dtype: this.graph.nodes[id]!.dtype as GpuDType, size: sizeOf(this.graph.nodes[id]!.shape) }));
  }

  /**
   * Runs the program once like {@link GpuProgram.run}, but each result gets storage the caller keeps: from
   * `storageFor` where it returns some (storage recycled from donated arguments, see core's `jit`), else
   * fresh storage. This is how core's `jit` runs a graph on this backend; `run` reuses two sets of result
   * buffers instead, for loops that read each result before the call after next.
   */
  runFresh(inputs: readonly GpuStorage[], storageFor: (dtype: GpuDType, size: number) => unknown): GpuStorage[] {
    if (inputs.length !== this.inputIds.length) {
      throw new ShapeError(`GpuProgram.runFresh: expected ${this.inputIds.length} inputs (the graph's), got ${inputs.length}`);
    }
    this.inputIds.forEach((id, k) => (this.values[id] = inputs[k]!));
    for (const id of this.freshOutputIds()) {
      const n = this.graph.nodes[id]!;
      const size = sizeOf(n.shape);
      const given = storageFor(n.dtype as GpuDType, size);
      this.values[id] = given instanceof GpuStorage ? given : this.backend.allocate(n.dtype as GpuDType, Math.max(1, size));
    }
    for (const step of this.steps) step(this.values);
    this.backend.flush();
    const results = this.outputIds.map((id) => this.values[id]!);
    // the program keeps no hold on storage the caller now owns
    for (const id of this.freshOutputIds()) this.values[id] = null;
    return results;
  }

  private freshOutputIds(): number[] {
    const nodes = this.graph.nodes;
    return [...new Set(this.outputIds)].filter((id) => nodes[id]!.op !== 'input' && nodes[id]!.op !== 'const');
  }

  /** The node whose buffer holds `id`'s elements: itself, a shared buffer's owner, or a view's source. */
  private source(id: number): number {
    return this.views[id]?.source ?? this.rows.get(id)?.owner ?? this.root[id]!;
  }

  /** Where a node's elements are when it is no folded view: its buffer (or its row of a batch's), row-major. */
  private bufferView(id: number): View {
    const row = this.rows.get(id);
    return { source: row?.owner ?? this.root[id]!, base: row?.base ?? 0, strides: stridesOf(this.graph.nodes[id]!.shape) };
  }

  /**
   * The view of a foldable layout node: its input's view (or the input's own buffer, row-major) seen through
   * the op. A reshape of a view that is not row-major is no view: then the node is left as a kernel.
   */
  private viewThrough(n: GraphNode): View | null {
    const x = this.graph.nodes[n.inputs[0]!]!;
    const from: View = this.views[x.id] ?? this.bufferView(x.id);
    switch (n.op) {
      case 'slice': {
        const { begin } = n.attrs as AttrsOf<'slice'>;
        return { source: from.source, base: from.base + begin.reduce((t, b, i) => t + b * from.strides[i]!, 0), strides: from.strides };
      }
      case 'transpose':
        return { ...from, strides: (n.attrs as AttrsOf<'transpose'>).perm.map((p) => from.strides[p]!) };
      case 'broadcastTo': {
        const offset = n.shape.length - x.shape.length;
        return { ...from, strides: n.shape.map((_, i) => (i < offset || x.shape[i - offset] === 1 ? 0 : from.strides[i - offset]!)) };
      }
      case 'reshape': {
        // row-major over the input (ignoring axes of size 1): then row-major over the new shape as well;
        const own = stridesOf(x.shape);
        if (x.shape.every((d, i) => d === 1 || from.strides[i] === own[i])) return { ...from, strides: stridesOf(n.shape) };
        // or a reshape that only adds or drops axes of size 1: the other axes keep their strides, in order
        const kept = x.shape.map((d, i) => (d === 1 ? -1 : i)).filter((i) => i >= 0);
        const dims = n.shape.filter((d) => d !== 1);
        if (dims.length !== kept.length || dims.some((d, k) => d !== x.shape[kept[k]!])) return null;
        let next = 0;
        return { ...from, strides: n.shape.map((d) => (d === 1 ? 0 : from.strides[kept[next++]!]!)) };
      }
      default:
        throw new InternalError(`GpuProgram: '${n.op}' is not a view`);
    }
  }

  /**
   * A group split, in member order, into runs whose kernels bind no more buffers than the device allows (a
   * sum of 64 per-step bias gradients has 64 inputs): each run writes what later runs or other nodes read.
   */
  private chunks(members: readonly number[], readers: readonly number[][], isOutput: ReadonlySet<number>): number[][] {
    // the bindings a run's kernel takes (inlined nodes read their own inputs; a buffer read twice binds once)
    const bindings = (run: readonly number[]) => {
      const plan = this.planGroup(run, this.groupOutputs(run, readers, isOutput));
      return typeof plan === 'number' ? 0 : plan.sources.length + plan.targets.length;
    };
    const out: number[][] = [];
    let run: number[] = [];
    for (const m of members) {
      if (run.length > 0 && bindings([...run, m]) > this.backend.maxBindings) {
        out.push(run);
        run = [];
      }
      run.push(m);
    }
    if (run.length > 0) out.push(run);
    return out;
  }

  /** The members a group writes: those read outside it, or returned. */
  private groupOutputs(members: readonly number[], readers: readonly number[][], isOutput: ReadonlySet<number>): number[] {
    return members.filter((m) => isOutput.has(m) || readers[m]!.some((r) => !members.includes(r)));
  }

  /**
   * The kernel of a group: its members in order, and before the members that need them, the inlined nodes
   * they read (at the elements read). Each external input is a buffer read at `base + Σ coord·stride`. Returns
   * the id of a node that cannot be read so (then it is left as a kernel, and planning starts again).
   */
  private planGroup(members: readonly number[], outputs: readonly number[]): GroupPlan | number {
    const nodes = this.graph.nodes;
    const shape = nodes[members[0]!]!.shape;
    const program: FusedInstruction[] = [];
    const buffers: DType[] = [];
    const sources: number[] = [];
    const reads: InputRead[] = [];
    const refs = new Map<string, number>();
    const memberRef = new Map<number, number>();
    const instruction = (n: GraphNode, operands: number[], stored: boolean): number => {
      program.push({ op: n.op as ElementwiseName, attrs: n.attrs as AttrsOf<ElementwiseName>, dtype: n.dtype, operands, stored });
      return -program.length;
    };
    // the binding of the buffer of node `source`: each buffer bound once, however many reads
    const bind = (source: number, dtype: DType): number => {
      let buffer = sources.indexOf(source);
      if (buffer < 0) {
        buffer = sources.length;
        sources.push(source);
        buffers.push(dtype);
      }
      return buffer;
    };
    // a read of the buffer of node `source` at `base + Σ coordᵢ·stridesᵢ`
    const read = (source: number, dtype: DType, base: number, strides: readonly number[]): number => {
      reads.push({ buffer: bind(source, dtype), base, strides });
      return reads.length - 1;
    };
    // an inlined product's element (i, j) at the group's coordinates `at` (an axis-to-axis map into [M, N]):
    // row i of op(A) and column j of op(B), both from their buffers
    const product = (x: GraphNode, at: { offset: number[]; axis: number[] }): number => {
      const [ai, bi] = x.inputs as [number, number];
      for (const o of [ai, bi]) if (memberRef.has(o) || this.inlined.has(o) || this.views[o] !== null) throw new Unaddressable(x.id);
      // read broadcast, each element would be summed again for every element it is broadcast to: a kernel
      if (at.axis.some((k, g) => k < 0 && shape[g]! > 1)) throw new Unaddressable(x.id);
      const { transA, transB } = x.attrs as AttrsOf<'matmul'>;
      const a = this.bufferView(ai);
      const b = this.bufferView(bi);
      // op(A)(i, p) and op(B)(p, j): a transpose swaps the stored strides
      const [rowStep, aStep] = transA ? [a.strides[1]!, a.strides[0]!] : [a.strides[0]!, a.strides[1]!];
      const [bStep, colStep] = transB ? [b.strides[1]!, b.strides[0]!] : [b.strides[0]!, b.strides[1]!];
      const depth = transA ? nodes[ai]!.shape[0]! : nodes[ai]!.shape[1]!;
      reads.push({
        buffer: bind(a.source, x.dtype),
        base: a.base + at.offset[0]! * rowStep,
        strides: at.axis.map((k) => (k === 0 ? rowStep : 0)),
        dot: {
          buffer: bind(b.source, x.dtype),
          base: b.base + at.offset[1]! * colStep,
          strides: at.axis.map((k) => (k === 1 ? colStep : 0)),
          aStep,
          bStep,
          depth,
        },
      });
      return reads.length - 1;
    };
    // the operand that reads node x at element `base + Σ coordᵢ·stridesᵢ` of x's row-major layout (for the
    // inlined node or view `via`, -1 for a member's own operand)
    const operand = (x: number, base: number, strides: readonly number[], via: number): number => {
      const member = memberRef.get(x);
      if (member !== undefined) {
        // a member's value is in registers at this thread's element only
        const own = stridesOf(shape);
        if (base === 0 && strides.every((s, g) => shape[g] === 1 || s === own[g])) return member;
        throw new Unaddressable(via);
      }
      const key = `${x}@${base}:${strides.join(',')}`;
      const known = refs.get(key);
      if (known !== undefined) return known;
      const n = nodes[x]!;
      let ref: number;
      if (this.inlined.has(x) || this.views[x] !== null) {
        const at = coordinates(base, strides, n.shape, shape);
        if (at === null) throw new Unaddressable(x);
        if (n.op === 'matmul') ref = product(n, at);
        else if (this.inlined.has(x)) {
          // each input broadcast to x's shape, read at the same coordinates
          ref = instruction(
            n,
            n.inputs.map((j) => {
              const js = nodes[j]!.shape;
              const offset = n.shape.length - js.length;
              const own = stridesOf(js);
              let b = 0;
              const st = new Array<number>(shape.length).fill(0);
              js.forEach((d, k) => {
                if (d === 1) return;
                b += own[k]! * at.offset[k + offset]!;
                at.axis.forEach((a, g) => {
                  if (a === k + offset) st[g] = own[k]!;
                });
              });
              return operand(j, b, st, x);
            }),
            false,
          );
        } else {
          const view = this.views[x]!;
          let b = view.base;
          n.shape.forEach((_, k) => (b += view.strides[k]! * at.offset[k]!));
          const st = at.axis.map((a) => (a < 0 ? 0 : view.strides[a]!));
          // a view's base is absolute in its source's buffer; an inlined source is addressed by its own layout
          ref = this.inlined.has(view.source) ? operand(view.source, b, st, x) : read(view.source, n.dtype, b, st);
        }
      } else {
        const at = this.bufferView(x);
        ref = read(at.source, n.dtype, at.base + base, strides);
      }
      refs.set(key, ref);
      return ref;
    };
    try {
      for (const m of members) {
        const n = nodes[m]!;
        const operands = n.inputs.map((i) => operand(i, 0, broadcastStrides(nodes[i]!.shape, shape), -1));
        memberRef.set(m, instruction(n, operands, outputs.includes(m)));
      }
    } catch (e) {
      if (e instanceof Unaddressable) return e.node;
      throw e;
    }
    // each stored member into its own buffer, or a concat part into its columns of the concat's buffer
    const targets: number[] = [];
    const writes: OutputWrite[] = outputs.map((m) => {
      const place = this.placed.get(m);
      const target = place?.concat ?? m;
      if (!targets.includes(target)) targets.push(target);
      return { buffer: targets.indexOf(target), base: place?.base ?? 0, strides: place?.strides ?? stridesOf(shape) };
    });
    return { program, buffers, reads, sources, outputs, writes, targets };
  }

  private fusedStep(plan: GroupPlan, shape: readonly number[]): Step {
    const run = this.backend.planFusedReads(plan.program, plan.buffers, plan.reads, shape, plan.writes);
    const { sources, targets } = plan;
    const ins: GpuStorage[] = new Array(sources.length);
    const outs: GpuStorage[] = new Array(targets.length);
    return (values) => {
      sources.forEach((s, k) => (ins[k] = values[s]!));
      targets.forEach((o, k) => (outs[k] = values[o]!));
      run(ins, outs);
    };
  }

  /** A batch of reductions: one kernel, each member's results a row of the batch owner's buffer. */
  private rowsStep(members: readonly number[]): Step {
    const nodes = this.graph.nodes;
    const first = nodes[members[0]!]!;
    const x = nodes[first.inputs[0]!]!;
    const run = this.backend.planReduceMany('sum', members.length, abstract(x), (first.attrs as AttrsOf<'sum'>).axes);
    const sources = members.map((m) => this.source(nodes[m]!.inputs[0]!));
    const owner = members[members.length - 1]!;
    const ins: GpuStorage[] = new Array(members.length);
    const outs: GpuStorage[] = [];
    return (values) => {
      sources.forEach((s, k) => (ins[k] = values[s]!));
      outs[0] = values[owner]!;
      run(ins, outs);
    };
  }

  private nodeStep(n: GraphNode): Step {
    const nodes = this.graph.nodes;
    const run = this.backend.plan(
      n.op as KernelName,
      n.inputs.map((i) => abstract(nodes[i]!)),
      abstract(n),
      n.attrs as never,
    );
    const sources = n.inputs.map((i) => this.source(i));
    const ins: GpuStorage[] = new Array(n.inputs.length);
    return (values) => {
      sources.forEach((s, k) => (ins[k] = values[s]!));
      const out = values[n.id];
      if (out === null || out === undefined) throw new InternalError(`GpuProgram: no buffer planned for %${n.id} (${n.op})`);
      run(ins, out);
    };
  }

  private dispatchCount(n: GraphNode): number {
    if (sizeOf(n.shape) === 0) return 0;
    if (n.op !== 'concat') return 1;
    const parts = n.inputs.filter((i) => sizeOf(this.graph.nodes[i]!.shape) > 0).length;
    return Math.ceil(parts / (this.backend.maxBindings - 1));
  }
}

/** A group's kernel as planned: instructions, the views of its external inputs, their buffers, and what it writes. */
interface GroupPlan {
  readonly program: readonly FusedInstruction[];
  /** The input buffers' dtypes. */
  readonly buffers: readonly DType[];
  readonly reads: readonly InputRead[];
  /** Per input buffer, the node whose buffer it is. */
  readonly sources: readonly number[];
  /** The members it stores, in member order. */
  readonly outputs: readonly number[];
  /** Where each stored member goes. */
  readonly writes: readonly OutputWrite[];
  /** The nodes whose buffers it writes (a member's own, or the concat it is part of), one per output binding. */
  readonly targets: readonly number[];
}

/** Thrown while planning a group: node `node` cannot be read coordinate by coordinate, so it gets a kernel. */
class Unaddressable extends Error {
  constructor(readonly node: number) {
    super(`node %${node} is not addressable by coordinates`);
  }
}

/**
 * The coordinates in a row-major `shape` of the elements `base + Σ cᵍ·stridesᵍ` for c in the group's shape,
 * where that is an axis-to-axis map: `offset` is the coordinate of `base`, and group axis g moves `shape`'s
 * axis `axis[g]` (-1: none, a broadcast). Null where the strides do not step single axes within bounds.
 */
function coordinates(
  base: number,
  strides: readonly number[],
  shape: readonly number[],
  group: readonly number[],
): { offset: number[]; axis: number[] } | null {
  const own = stridesOf(shape);
  const offset = shape.map((d, a) => Math.floor(base / own[a]!) % d);
  if (base >= sizeOf(shape) || offset.reduce((t, o, a) => t + o * own[a]!, 0) !== base) return null;
  const used = new Set<number>();
  const axis: number[] = [];
  for (let g = 0; g < strides.length; g++) {
    if (strides[g] === 0 || group[g] === 1) {
      axis.push(-1);
      continue;
    }
    const a = shape.findIndex((d, k) => d > 1 && own[k] === strides[g]);
    if (a < 0 || used.has(a) || offset[a]! + group[g]! > shape[a]!) return null;
    used.add(a);
    axis.push(a);
  }
  return { offset, axis };
}

/** Whether a kernel can compute `n`'s elements itself: a float32 product of two matrices, of a moderate depth. */
function inlinableProduct(n: GraphNode, nodes: readonly GraphNode[]): boolean {
  if (n.op !== 'matmul' || n.dtype !== 'float32' || n.shape.length !== 2 || sizeOf(n.shape) === 0) return false;
  const [a, b] = n.inputs.map((i) => nodes[i]!.shape) as [readonly number[], readonly number[]];
  const depth = (n.attrs as AttrsOf<'matmul'>).transA ? a[0]! : a[1]!;
  return a.length === 2 && b.length === 2 && depth >= 1 && depth <= MAX_INLINED_DEPTH;
}

/** The layout ops a kernel can read through a view instead of a copy. */
const VIEW_OPS = new Set<string>(['reshape', 'slice', 'transpose', 'broadcastTo']);

/** Compiles a traced graph (optimise it first: `optimize(trace(f, ...args))`) for `backend`. */
export function compileGraph(backend: WebGpuBackend, graph: Graph, options: CompileGraphOptions = {}): GpuProgram {
  return new GpuProgram(backend, graph, options);
}

/** The graph with float64 values computed in float32: node dtypes, cast targets and constants. */
function demoteFloat64(graph: Graph): Graph {
  const nodes = graph.nodes.map((n): GraphNode => {
    if (n.dtype !== 'float64' && !(n.op === 'cast' && (n.attrs as { dtype: string }).dtype === 'float64')) return n;
    const v = (n as { value?: Tensor }).value;
    const value = v === undefined ? undefined : new Tensor(Float32Array.from(v.dataSync()), v.shape, 'float32');
    const attrs = n.op === 'cast' ? { dtype: 'float32' } : n.attrs;
    return { ...n, dtype: 'float32', attrs, ...(value === undefined ? {} : { value }) } as unknown as GraphNode;
  });
  // a cast between float32 and (demoted) float64 is now the identity: keep it as a float32 → float32 cast
  return new Graph(nodes, graph.inputLeaves, graph.inputDef, graph.outputLeaves, graph.outputDef);
}

function abstract(n: GraphNode): AbstractValue {
  return { shape: n.shape, dtype: n.dtype };
}
