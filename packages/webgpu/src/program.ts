/// <reference types="@webgpu/types" />
/**
 * A compiled graph on the GPU: every node of a traced (and optimised) `Graph` planned once as a kernel,
 * elementwise chains fused into generated kernels (core's fusion groups), every value given a buffer once by
 * a liveness plan, and each call encoded as one command buffer: one queue submission per call, no readback
 * unless the caller reads a result.
 *
 * What makes a dispatch here is what a GPU pays for (tens of microseconds each, however small the work), so
 * layout ops are not kernels where they need not be: a reshape shares its input's buffer, and a slice, a
 * transpose, a broadcast or a reshape that only elementwise kernels read is folded into those kernels as a
 * view (a base and strides into the buffer it reads), so an LSTM step's gate slices cost nothing.
 */
import {
  findFusionGroups, Graph, InternalError, PRIMITIVES, ShapeError, Tensor, type AbstractValue, type AttrsOf, type ElementwiseName, type FusedInstruction, type GraphNode,
  type KernelName,
} from '@tapestry/core';
import type { WebGpuBackend } from './backend.js';
import { GpuStorage } from './storage.js';
import { broadcastStrides, sizeOf, stridesOf } from './wgsl/common.js';
import type { InputView } from './wgsl/elementwise.js';

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
   * Fold layout ops into the kernels that read them (default true): reshapes share buffers, and slices,
   * transposes and broadcasts read by elementwise kernels become views. `false` runs each as a kernel of its
   * own (the plain plan, for comparison).
   */
  readonly foldLayout?: boolean;
}

/** How many sets of result buffers a program cycles through: results stay valid until the call after next. */
const RESULT_SETS = 2;

/** A value read through a view: element `base + Σ coordᵢ·stridesᵢ` of the buffer of node `source`. */
interface View {
  readonly source: number;
  readonly base: number;
  readonly strides: readonly number[];
}

/** One kernel call of the plan: a fused elementwise group (perhaps of one member), or another node. */
type Unit = { readonly kind: 'group'; readonly members: readonly number[] } | { readonly kind: 'node'; readonly id: number };

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
  private readonly steps: Step[] = [];
  private readonly values: (GpuStorage | null)[];
  private readonly resultSets: GpuStorage[][] = [];
  private readonly inputIds: number[];
  private readonly outputIds: number[];
  /** Per node: the node whose buffer it shares (a reshape's source), else itself. */
  private readonly root: Int32Array;
  /** Per node: the view through which kernels read it, where it is folded into its readers (no buffer of its own). */
  private readonly views: (View | null)[];
  private calls = 0;

  /** Plans `graph` on `backend` (see {@link compileGraph}). */
  constructor(private readonly backend: WebGpuBackend, graph: Graph, options: CompileGraphOptions = {}) {
    if (options.float64 === 'float32') graph = demoteFloat64(graph);
    this.graph = graph;
    const nodes = graph.nodes;
    this.inputIds = graph.inputs;
    this.outputIds = graph.outputs;
    this.values = new Array(nodes.length).fill(null);
    const isOutput = new Set(this.outputIds);
    const readers: number[][] = nodes.map(() => []);
    nodes.forEach((n) => n.inputs.forEach((i) => readers[i]!.push(n.id)));
    const elementwise = (n: GraphNode) => n.op !== 'input' && n.op !== 'const' && PRIMITIVES[n.op].kind === 'elementwise' && sizeOf(n.shape) > 0;

    // layout folding: which view-like nodes need no kernel (decided from the readers back), then their views;
    // a reshape of a view that is not row-major is no view, and is left as a kernel (then its inputs are
    // decided again, as they gain a reader that is not elementwise)
    const fold = options.foldLayout !== false;
    const kept = new Set<number>();
    this.root = Int32Array.from(nodes.map((n) => n.id));
    this.views = nodes.map(() => null);
    for (let settled = !fold; !settled;) {
      const foldable = new Array<boolean>(nodes.length).fill(false);
      for (let id = nodes.length - 1; id >= 0; id--) {
        const n = nodes[id]!;
        foldable[id] = VIEW_OPS.has(n.op) && !kept.has(id) && !isOutput.has(id) && readers[id]!.every((r) => elementwise(nodes[r]!) || foldable[r]!);
      }
      settled = true;
      for (const n of nodes) {
        this.views[n.id] = foldable[n.id] ? this.viewThrough(n) : null;
        if (foldable[n.id] && this.views[n.id] === null) {
          kept.add(n.id);
          settled = false;
        }
      }
    }
    // a reshape left as a node shares its source's buffer (storage is row-major and contiguous)
    for (const n of nodes) {
      if (fold && n.op === 'reshape' && this.views[n.id] === null && !isOutput.has(n.id) && this.views[n.inputs[0]!] === null) this.root[n.id] = this.root[n.inputs[0]!]!;
    }
    const computed = (id: number) => this.views[id] === null && this.root[id] === id;

    // kernel calls in execution order: core's fusion groups at their last member, other elementwise nodes as
    // groups of one (so they read views too), every other node that computes as itself
    const groupAt = new Map<number, readonly number[]>();
    const inGroup = new Set<number>();
    for (const g of findFusionGroups(graph)) {
      groupAt.set(g.members[g.members.length - 1]!, g.members);
      for (const m of g.members) inGroup.add(m);
    }
    const units: Unit[] = [];
    for (const n of nodes) {
      if (n.op === 'input' || n.op === 'const' || !computed(n.id)) continue;
      const members = groupAt.get(n.id);
      if (members !== undefined) {
        const bindings = this.groupInputs(members).length + this.groupOutputs(members, readers, isOutput).length;
        if (bindings <= backend.maxBindings) units.push({ kind: 'group', members });
        else for (const m of members) units.push({ kind: 'group', members: [m] });
      } else if (!inGroup.has(n.id)) units.push(elementwise(n) ? { kind: 'group', members: [n.id] } : { kind: 'node', id: n.id });
    }

    // buffers: constants uploaded once; results in their own cycling sets; the rest from a free list after
    // the last unit that reads them (through a view or a shared buffer too)
    const written = (u: Unit): number[] => (u.kind === 'group' ? this.groupOutputs(u.members, readers, isOutput) : [u.id]);
    const sourcesRead = (u: Unit): number[] => (u.kind === 'group' ? this.groupInputs(u.members) : nodes[u.id]!.inputs).map((i) => this.source(i));
    const lastUse = new Int32Array(nodes.length).fill(-1);
    units.forEach((u, k) => {
      for (const s of sourcesRead(u)) lastUse[s] = k;
    });
    for (const n of nodes) if (n.op === 'const') this.values[n.id] = backend.upload((n as { value: Tensor }).value.dataSync());
    const free = new Map<string, GpuStorage[]>();
    const key = (n: GraphNode) => `${n.dtype}:${sizeOf(n.shape)}`;
    const releasedAt: number[][] = units.map(() => []);
    units.forEach((u) => {
      for (const id of written(u)) if (!isOutput.has(id) && lastUse[id]! >= 0) releasedAt[lastUse[id]!]!.push(id);
    });
    units.forEach((u, k) => {
      for (const id of written(u)) {
        if (isOutput.has(id)) continue;
        const n = nodes[id]!;
        const list = free.get(key(n));
        this.values[id] = list !== undefined && list.length > 0 ? list.pop()! : backend.allocate(n.dtype, Math.max(1, sizeOf(n.shape)));
      }
      for (const id of releasedAt[k]!) {
        const list = free.get(key(nodes[id]!));
        if (list === undefined) free.set(key(nodes[id]!), [this.values[id]!]);
        else list.push(this.values[id]!);
      }
    });
    for (let s = 0; s < RESULT_SETS; s++) {
      this.resultSets.push(this.outputIds.map((id) => {
        const n = nodes[id]!;
        return n.op === 'input' || n.op === 'const' ? (null as unknown as GpuStorage) : backend.allocate(n.dtype, Math.max(1, sizeOf(n.shape)));
      }));
    }

    for (const u of units) this.steps.push(u.kind === 'group' ? this.fusedStep(u.members, written(u)) : this.nodeStep(nodes[u.id]!));
    this.dispatchesPerCall = units.reduce((total, u) => total + (u.kind === 'group' ? 1 : this.dispatchCount(nodes[u.id]!)), 0);
  }

  /**
   * Runs the program once: `inputs` in the order of `graph.inputs`. Encodes every kernel into one command
   * buffer and submits it; returns the results (valid until the call after next).
   */
  run(inputs: readonly GpuStorage[]): GpuStorage[] {
    if (inputs.length !== this.inputIds.length) {
      throw new ShapeError(`GpuProgram.run: expected ${this.inputIds.length} inputs (the graph's), got ${inputs.length}`);
    }
    this.inputIds.forEach((id, k) => (this.values[id] = inputs[k]!));
    const set = this.resultSets[this.calls++ % RESULT_SETS]!;
    this.outputIds.forEach((id, k) => {
      if (set[k] !== null) this.values[id] = set[k]!;
    });
    for (const step of this.steps) step(this.values);
    this.backend.flush();
    return this.outputIds.map((id) => this.values[id]!);
  }

  /** The node whose buffer holds `id`'s elements: itself, a shared buffer's owner, or a view's source. */
  private source(id: number): number {
    return this.views[id]?.source ?? this.root[id]!;
  }

  /**
   * The view of a foldable layout node: its input's view (or the input's own buffer, row-major) seen through
   * the op. A reshape of a view that is not row-major is no view: then the node is left as a kernel.
   */
  private viewThrough(n: GraphNode): View | null {
    const x = this.graph.nodes[n.inputs[0]!]!;
    const from: View = this.views[x.id] ?? { source: this.root[x.id]!, base: 0, strides: stridesOf(x.shape) };
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
        // row-major over the input (ignoring axes of size 1): then row-major over the new shape as well
        const own = stridesOf(x.shape);
        if (x.shape.every((d, i) => d === 1 || from.strides[i] === own[i])) return { ...from, strides: stridesOf(n.shape) };
        return null;
      }
      default:
        throw new InternalError(`GpuProgram: '${n.op}' is not a view`);
    }
  }

  /** The group's external inputs (node ids, as its kernel binds them; a folded view is bound as its view). */
  private groupInputs(members: readonly number[]): number[] {
    const external: number[] = [];
    for (const m of members) for (const i of this.graph.nodes[m]!.inputs) if (!members.includes(i) && !external.includes(i)) external.push(i);
    return external;
  }

  /** The members a group writes: those read outside it, or returned. */
  private groupOutputs(members: readonly number[], readers: readonly number[][], isOutput: ReadonlySet<number>): number[] {
    return members.filter((m) => isOutput.has(m) || readers[m]!.some((r) => !members.includes(r)));
  }

  private fusedStep(members: readonly number[], outputs: readonly number[]): Step {
    const nodes = this.graph.nodes;
    const shape = nodes[members[0]!]!.shape;
    const external = this.groupInputs(members);
    const program: FusedInstruction[] = members.map((m) => {
      const n = nodes[m]!;
      return {
        op: n.op as ElementwiseName,
        attrs: n.attrs as AttrsOf<ElementwiseName>,
        dtype: n.dtype,
        operands: n.inputs.map((i) => (members.includes(i) ? -(members.indexOf(i) + 1) : external.indexOf(i))),
        stored: outputs.includes(m),
      };
    });
    // each external input read through its view broadcast to the group's shape
    const inputViews: InputView[] = external.map((i) => {
      const x = nodes[i]!;
      const view = this.views[i];
      if (view === null) return { dtype: x.dtype, base: 0, strides: broadcastStrides(x.shape, shape) };
      const offset = shape.length - x.shape.length;
      return { dtype: x.dtype, base: view.base, strides: shape.map((_, a) => (a < offset || x.shape[a - offset] === 1 ? 0 : view.strides[a - offset]!)) };
    });
    const run = this.backend.planFusedViews(program, inputViews, shape);
    const sources = external.map((i) => this.source(i));
    const ins: GpuStorage[] = new Array(external.length);
    const outs: GpuStorage[] = new Array(outputs.length);
    return (values) => {
      sources.forEach((s, k) => (ins[k] = values[s]!));
      outputs.forEach((o, k) => (outs[k] = values[o]!));
      run(ins, outs);
    };
  }

  private nodeStep(n: GraphNode): Step {
    const nodes = this.graph.nodes;
    const run = this.backend.plan(n.op as KernelName, n.inputs.map((i) => abstract(nodes[i]!)), abstract(n), n.attrs as never);
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
