/// <reference types="@webgpu/types" />
/**
 * A compiled graph on the GPU: every node of a traced (and optimised) `Graph` planned once as a kernel,
 * elementwise chains fused into generated kernels (core's fusion groups), every value given a buffer once by
 * a liveness plan, and each call encoded as one command buffer: one queue submission per call, no readback
 * unless the caller reads a result.
 */
import { findFusionGroups, Graph, InternalError, ShapeError, Tensor, type GraphNode } from '@tapestry/core';
import type { WebGpuBackend } from './backend.js';
import { GpuStorage } from './storage.js';
import type { AbstractValue, BinaryName, FusedInstruction, PrimitiveName, UnaryName } from './types.js';
import { sizeOf } from './wgsl/common.js';

type Step = (values: readonly (GpuStorage | null)[]) => void;

/** Options of {@link compileGraph}. */
export interface CompileGraphOptions {
  /**
   * What to do with float64 nodes, which WGSL cannot hold: `'error'` (default) refuses the graph;
   * `'float32'` computes them in float32 (for scalar bookkeeping such as Adam's bias corrections, which
   * optim computes in float64 from the int32 step count; the result differs from the CPU's by float32 rounding).
   */
  readonly float64?: 'error' | 'float32';
}

/** How many sets of result buffers a program cycles through: results stay valid until the call after next. */
const RESULT_SETS = 2;

/**
 * A graph compiled for one backend. `run` takes the graph's input values as GPU storage (in the order of
 * `graph.inputs`) and returns its results as GPU storage (in the order of `graph.outputs`); the results are the
 * program's own buffers, rewritten by the call after next, so a training loop passes them straight back as
 * the next call's inputs (parameters and optimiser state never leave the GPU).
 */
export class GpuProgram {
  /** The graph it runs (float64 nodes demoted if asked). */
  readonly graph: Graph;
  /** Dispatches one call encodes. */
  readonly dispatchesPerCall: number;
  private readonly steps: Step[] = [];
  private readonly values: (GpuStorage | null)[];
  private readonly resultSets: GpuStorage[][] = [];
  private readonly inputIds: number[];
  private readonly outputIds: number[];
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

    // fusion: groups of elementwise nodes run as one kernel where their last member stood
    const groupAt = new Map<number, readonly number[]>();
    const inGroup = new Set<number>();
    for (const g of findFusionGroups(graph)) {
      groupAt.set(g.members[g.members.length - 1]!, g.members);
      for (const m of g.members) inGroup.add(m);
    }
    // readers of each value outside its own group decide what a group must write out
    const readers: number[][] = nodes.map(() => []);
    nodes.forEach((n) => n.inputs.forEach((i) => readers[i]!.push(n.id)));

    // execution order: (kind, node ids it computes)
    type Unit = { run: number[]; group: boolean };
    const units: Unit[] = [];
    for (const n of nodes) {
      if (n.op === 'input' || n.op === 'const') continue;
      const members = groupAt.get(n.id);
      if (members !== undefined) {
        const external = this.groupInputs(members);
        const outputs = members.filter((m) => isOutput.has(m) || readers[m]!.some((r) => !members.includes(r)));
        if (external.length + outputs.length <= backend.maxBindings) {
          units.push({ run: [...members], group: true });
          continue;
        }
        for (const m of members) units.push({ run: [m], group: false });
        continue;
      }
      if (!inGroup.has(n.id)) units.push({ run: [n.id], group: false });
    }

    // values a unit writes to buffers, and the unit index of each value's last reader
    const written = (u: Unit): number[] => (u.group ? u.run.filter((m) => isOutput.has(m) || readers[m]!.some((r) => !u.run.includes(r))) : u.run);
    const unitOf = new Int32Array(nodes.length).fill(-1);
    units.forEach((u, k) => u.run.forEach((id) => (unitOf[id] = k)));
    const lastUse = new Int32Array(nodes.length).fill(-1);
    units.forEach((u, k) => {
      for (const id of u.run) for (const i of nodes[id]!.inputs) if (unitOf[i] !== k) lastUse[i] = Math.max(lastUse[i]!, k);
    });

    // buffers: constants uploaded once; results in their own cycling sets; the rest from a free list after last use
    for (const n of nodes) if (n.op === 'const') this.values[n.id] = backend.upload((n as { value: Tensor }).value.dataSync());
    const free = new Map<string, GpuStorage[]>();
    const key = (n: GraphNode) => `${n.dtype}:${sizeOf(n.shape)}`;
    const byUnit: number[][] = units.map(() => []);
    for (const n of nodes) if (lastUse[n.id]! >= 0 && !isOutput.has(n.id) && unitOf[n.id]! >= 0) byUnit[lastUse[n.id]!]!.push(n.id);
    const planned: (GpuStorage | null)[] = this.values.slice();
    units.forEach((u, k) => {
      for (const id of written(u)) {
        const n = nodes[id]!;
        if (isOutput.has(id)) continue;
        const list = free.get(key(n));
        planned[id] = list !== undefined && list.length > 0 ? list.pop()! : backend.allocate(n.dtype, Math.max(1, sizeOf(n.shape)));
      }
      for (const id of byUnit[k]!) {
        const list = free.get(key(nodes[id]!));
        if (list === undefined) free.set(key(nodes[id]!), [planned[id]!]);
        else list.push(planned[id]!);
      }
    });
    for (let s = 0; s < RESULT_SETS; s++) {
      this.resultSets.push(this.outputIds.map((id) => {
        const n = nodes[id]!;
        return n.op === 'input' || n.op === 'const' ? (null as unknown as GpuStorage) : backend.allocate(n.dtype, Math.max(1, sizeOf(n.shape)));
      }));
    }
    planned.forEach((s, id) => (this.values[id] = s));

    for (const u of units) this.steps.push(u.group ? this.fusedStep(u.run, written(u)) : this.nodeStep(nodes[u.run[0]!]!));
    // each step dispatches a fixed number of times
    this.dispatchesPerCall = units.reduce((total, u) => total + (u.group ? 1 : this.dispatchCount(nodes[u.run[0]!]!)), 0);
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

  private groupInputs(members: readonly number[]): number[] {
    const external: number[] = [];
    for (const m of members) for (const i of this.graph.nodes[m]!.inputs) if (!members.includes(i) && !external.includes(i)) external.push(i);
    return external;
  }

  private fusedStep(members: readonly number[], outputs: readonly number[]): Step {
    const nodes = this.graph.nodes;
    const external = this.groupInputs(members);
    const program: FusedInstruction[] = members.map((m) => {
      const n = nodes[m]!;
      return {
        op: n.op as UnaryName | BinaryName | 'where' | 'cast',
        attrs: n.attrs,
        dtype: n.dtype,
        operands: n.inputs.map((i) => (members.includes(i) ? -(members.indexOf(i) + 1) : external.indexOf(i))),
        output: outputs.includes(m),
      };
    });
    const run = this.backend.planFusedGroup(program, external.map((i) => abstract(nodes[i]!)), nodes[members[0]!]!.shape);
    const ins: GpuStorage[] = new Array(external.length);
    const outs: GpuStorage[] = new Array(outputs.length);
    return (values) => {
      external.forEach((i, k) => (ins[k] = values[i]!));
      outputs.forEach((o, k) => (outs[k] = values[o]!));
      run(ins, outs);
    };
  }

  private nodeStep(n: GraphNode): Step {
    const nodes = this.graph.nodes;
    const run = this.backend.plan(n.op as PrimitiveName, n.inputs.map((i) => abstract(nodes[i]!)), abstract(n), n.attrs as never);
    const ins: GpuStorage[] = new Array(n.inputs.length);
    return (values) => {
      n.inputs.forEach((i, k) => (ins[k] = values[i]!));
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
