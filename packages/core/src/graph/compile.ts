/**
 * Compiles a graph into a plan: a flat list of kernel calls over storage fixed in advance. Running the
 * plan does no graph work, no tape bookkeeping and no allocation of working memory: it points the value
 * table at the call's inputs, gives each result storage of its own (results are immutable values the caller
 * keeps: fresh arrays, or storage recycled from donated arguments, see `jit`'s `donate`) and calls the steps.
 */
import { allocate, type DType, type TensorData } from '../dtype.js';
import { sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { fusedStep, RegisterFile, type FusedInstruction } from './fused-kernel.js';
import type { Graph } from './graph.js';
import { planMemory, type MemoryPlan } from './memory-plan.js';
import { ELEMENTWISE, findFusionGroups, type FusionGroup } from './passes/fusion.js';
import { buildSchedule, type Schedule } from './schedule.js';
import { nodeStep, type StepFn } from './step-kernels.js';

/** Options of {@link compileGraph}. */
export interface CompileOptions {
  /** Fuse elementwise chains into single kernels (default true). */
  fuse?: boolean;
}

/** Gives a result storage of its own: an array of `dtype` and length `size`, or undefined to allocate one. */
export type StorageSource = (dtype: DType, size: number) => TensorData | undefined;

/** A compiled graph: call `run` with the input tensors (in `graph.inputs` order). */
export interface CompiledGraph {
  /** The graph the plan computes. */
  readonly graph: Graph;
  /** The fused groups. */
  readonly groups: readonly FusionGroup[];
  /** The steps and storage classes. */
  readonly schedule: Schedule;
  /** The buffers and liveness. */
  readonly memory: MemoryPlan;
  /** How many kernel calls one run makes. */
  readonly stepCount: number;
  /**
   * Runs the plan; returns the value of every node the result reads, by node id. Each result gets storage
   * from `storageFor` when it returns some (recycled storage the caller owns), else a fresh array.
   */
  run(inputs: readonly Tensor[], storageFor?: StorageSource): (id: number) => Tensor;
  /** The dtype and length of each result that gets storage of its own per call, in the order `run` asks for them. */
  readonly freshResults: readonly { readonly dtype: DType; readonly size: number }[];
}

function fusedGroupStep(graph: Graph, group: FusionGroup, schedule: Schedule, values: TensorData[], registers: RegisterFile): StepFn {
  const index = new Map(group.members.map((m, i) => [m, i]));
  const inputSlots: number[] = [];
  const inputShapes: (readonly number[])[] = [];
  const inputOf = new Map<number, number>();
  const program: FusedInstruction[] = group.members.map((id) => {
    const node = graph.nodes[id]!;
    const operands = node.inputs.map((i) => {
      const m = index.get(i);
      if (m !== undefined) return -(m + 1);
      let k = inputOf.get(i);
      if (k === undefined) {
        k = inputSlots.length;
        inputOf.set(i, k);
        inputSlots.push(schedule.root[i]!);
        inputShapes.push(graph.nodes[i]!.shape);
      }
      return k;
    });
    const attrs = node.attrs as { p0?: number; p1?: number } | undefined;
    return {
      kind: ELEMENTWISE.get(node.op)!,
      code: node.op,
      p0: attrs?.p0 ?? 0,
      p1: attrs?.p1 ?? 0,
      dtype: node.dtype,
      operands,
      slot: schedule.storage[id] === 'register' ? -1 : id,
    };
  });
  return fusedStep(program, inputSlots, inputShapes, group.shape, values, registers);
}

/**
 * Compiles `graph` (run the optimisation passes first, see `optimize`): fusion groups, a schedule, a
 * static memory plan and one precomputed step per kernel call.
 */
export function compileGraph(graph: Graph, options: CompileOptions = {}): CompiledGraph {
  const groups = options.fuse === false ? [] : findFusionGroups(graph);
  const schedule = buildSchedule(graph, groups);
  const memory = planMemory(graph, schedule);
  const n = graph.nodes.length;
  const values: TensorData[] = new Array(n);
  const buffers = memory.buffers.map((b) => allocate(b.dtype, b.size));
  const fresh: number[] = [];
  for (const node of graph.nodes) {
    const storage = schedule.storage[node.id];
    if (storage === 'const') values[node.id] = node.value!.data;
    else if (storage === 'pooled') {
      const buffer = buffers[memory.bufferOf[node.id]!]!;
      const size = sizeOf(node.shape);
      values[node.id] = buffer.length === size ? buffer : buffer.subarray(0, size);
    } else if (storage === 'output') fresh.push(node.id);
  }
  const slot = (id: number): number => schedule.root[id]!;
  const registers = new RegisterFile();
  const steps: StepFn[] = schedule.steps.map((step) =>
    step.kind === 'node' ? nodeStep(graph, graph.nodes[step.id]!, slot, values) : fusedGroupStep(graph, step.group, schedule, values, registers),
  );
  const inputs = graph.inputs;
  return {
    graph,
    groups,
    schedule,
    memory,
    stepCount: steps.length,
    freshResults: fresh.map((id) => ({ dtype: graph.nodes[id]!.dtype, size: sizeOf(graph.nodes[id]!.shape) })),
    run(args, storageFor) {
      for (let i = 0; i < inputs.length; i++) values[inputs[i]!] = args[i]!.data;
      for (const id of fresh) {
        const { dtype, shape } = graph.nodes[id]!;
        const size = sizeOf(shape);
        values[id] = storageFor?.(dtype, size) ?? allocate(dtype, size);
      }
      for (let s = 0; s < steps.length; s++) steps[s]!();
      // results hold their own storage (or an input's or a constant's: values are immutable)
      const results = new Map<number, Tensor>();
      return (id) => {
        let t = results.get(id);
        if (t === undefined) {
          const node = graph.nodes[id]!;
          t = new Tensor(values[slot(id)]!, node.shape, node.dtype);
          results.set(id, t);
        }
        return t;
      };
    },
  };
}
