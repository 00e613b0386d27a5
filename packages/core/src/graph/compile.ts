/**
 * Compiles a graph into a plan: a flat list of kernel calls over storage fixed in advance. Running the
 * plan does no graph work, no tape bookkeeping and no allocation of working memory: it points the value
 * table at the call's inputs, gives each result storage of its own (results are immutable values the caller
 * keeps: fresh storage, or storage recycled from donated arguments, see `jit`'s `donate`) and calls the steps.
 * The kernels are the backend's, planned once here exactly as eager execution plans them per call.
 */
import type { Backend, FusedInstruction, KernelName, KernelRun, PlanContext, StridedLayout } from '../backend/backend.js';
import { cpu } from '../backend/cpu.js';
import type { DType } from '../dtype.js';
import { ArgumentError, InternalError } from '../errors.js';
import { sizeOf } from '../shape.js';
import { hostData, Tensor } from '../tensor.js';
import type { Graph, GraphNode, PrimitiveNode } from './graph.js';
import { planMemory, type MemoryPlan } from './memory-plan.js';
import { findFusionGroups, type FusionGroup } from './passes/fusion.js';
import { PRIMITIVES } from './primitive-table.js';
import { buildSchedule, type Schedule } from './schedule.js';

/** Options of {@link compileGraph}. */
export interface CompileOptions {
  /** Fuse elementwise chains into single kernels (default true). */
  fuse?: boolean;
  /** The backend whose kernels run the plan (default: the CPU). Inputs must live there. */
  backend?: Backend;
}

/** Gives a result storage of its own: storage for `size` elements of `dtype`, or undefined to allocate some. */
type StorageSource = (dtype: DType, size: number) => unknown;

/** A compiled graph: call `run` with the input tensors (in `graph.inputs` order). */
export interface CompiledGraph {
  /** The graph the plan computes. */
  readonly graph: Graph;
  /** The backend that runs it. */
  readonly backend: Backend;
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
   * from `storageFor` when it returns some (recycled storage the caller owns), else fresh storage.
   */
  run(inputs: readonly Tensor[], storageFor?: StorageSource): (id: number) => Tensor;
  /** The dtype and length of each result that gets storage of its own per call, in the order `run` asks for them. */
  readonly freshResults: readonly { readonly dtype: DType; readonly size: number }[];
}

/** What `jit` runs: a graph compiled by core's planner ({@link CompiledGraph}) or by the backend's own compiler. */
export type RunnableGraph = Pick<CompiledGraph, 'graph' | 'backend' | 'run' | 'freshResults'>;

/**
 * Compiles `graph` for `options.backend`: with the backend's own whole-graph compiler where it has one and
 * fusion is on (a GPU backend folds layout ops into its kernels), else with {@link compileGraph}.
 */
export function compileRunnable(graph: Graph, options: CompileOptions = {}): RunnableGraph {
  const backend = options.backend ?? cpu;
  if (backend.compileGraph === undefined || options.fuse === false) return compileGraph(graph, options);
  const program = backend.compileGraph(graph);
  return {
    graph,
    backend,
    freshResults: program.freshResults,
    run(args, storageFor) {
      const storage = program.run(
        args.map((t) => t.storage),
        (dtype, size) => storageFor?.(dtype, size),
      );
      const results = new Map<number, Tensor>();
      graph.outputs.forEach((id, k) => {
        const node = graph.nodes[id]!;
        if (!results.has(id)) results.set(id, new Tensor(storage[k], node.shape, node.dtype, null, null, backend));
      });
      return (id) => {
        const t = results.get(id);
        if (t === undefined) throw new InternalError(`jit: node ${id} is not a result of the compiled graph`);
        return t;
      };
    },
  };
}

/** A compiled kernel call. */
type StepFn = () => void;

/** The backend's kernel for a node, planned with the node's own attributes. */
function planNode<P extends KernelName>(backend: Backend, node: PrimitiveNode<P>, inputs: readonly GraphNode[], context: PlanContext): KernelRun {
  return backend.plan(node.op, inputs, node, node.attrs, context);
}

/** The operands of `add(product, c)` computed as one kernel: the product's two, then the add's other. */
function productSumOperands(product: GraphNode, sum: GraphNode): number[] {
  return [...product.inputs, ...sum.inputs.filter((i) => i !== product.id)];
}

/** Whether `backend` has one kernel for `sum = add(product, c)` (see {@link Backend.planProductSum}). */
function hasProductSum(graph: Graph, backend: Backend, product: PrimitiveNode<'matmul'>, sum: GraphNode, shared: unknown): boolean {
  const operands = productSumOperands(product, sum).map((i) => graph.nodes[i]!);
  return backend.planProductSum?.(operands, sum, product.attrs, { inputSlots: operands.map(() => -1), shared }) != null;
}

/**
 * The step of one node: its kernel, planned with the node's input slots, reading and writing the value table.
 * An add computed with the product it adds to (`product`) reads the product's operands and its other one.
 */
function nodeStep(
  graph: Graph,
  node: PrimitiveNode<KernelName | 'customVjp'>,
  slot: (id: number) => number,
  values: unknown[],
  backend: Backend,
  shared: unknown,
  product?: PrimitiveNode<'matmul'>,
): StepFn {
  if (node.op === 'customVjp') throw new ArgumentError('jit: a custom VJP node cannot be compiled (its value is traced through)');
  const inputIds = product === undefined ? node.inputs : productSumOperands(product, node);
  const inputSlots = inputIds.map(slot);
  const context: PlanContext = { inputSlots, shared };
  const inputTypes = inputIds.map((i) => graph.nodes[i]!);
  const run = product === undefined ? planNode(backend, node, inputTypes, context) : backend.planProductSum!(inputTypes, node, product.attrs, context)!;
  const out = slot(node.id);
  const operands = new Array<unknown>(inputSlots.length);
  return () => {
    for (let k = 0; k < inputSlots.length; k++) operands[k] = values[inputSlots[k]!];
    run(operands, values[out]);
  };
}

/** The step of a fused group: one kernel the backend builds from the members' ops. */
function groupStep(graph: Graph, group: FusionGroup, schedule: Schedule, values: unknown[], backend: Backend, shared: unknown): StepFn {
  const index = new Map(group.members.map((m, i) => [m, i]));
  const inputSlots: number[] = [];
  const inputTypes: GraphNode[] = [];
  const views: (StridedLayout | null)[] = [];
  const inputOf = new Map<number, number>();
  const outputSlots: number[] = [];
  const instructions: FusedInstruction[] = group.members.map((id) => {
    const node = graph.nodes[id]! as PrimitiveNode<FusedInstruction['op']>;
    const operands = node.inputs.map((i) => {
      const m = index.get(i);
      if (m !== undefined) return -(m + 1);
      let k = inputOf.get(i);
      if (k === undefined) {
        k = inputSlots.length;
        inputOf.set(i, k);
        inputSlots.push(schedule.slot[i]!);
        inputTypes.push(graph.nodes[i]!);
        views.push(schedule.views.get(i) ?? null);
      }
      return k;
    });
    const stored = schedule.storage[id] !== 'register';
    if (stored) outputSlots.push(id);
    return { op: node.op, attrs: node.attrs, dtype: node.dtype, operands, stored };
  });
  const program = { instructions, inputs: inputTypes, shape: group.shape, ...(views.some((v) => v !== null) ? { views } : {}) };
  const run = backend.planFused(program, { inputSlots, shared });
  const ins = new Array<unknown>(inputSlots.length);
  const outs = new Array<unknown>(outputSlots.length);
  return () => {
    for (let k = 0; k < inputSlots.length; k++) ins[k] = values[inputSlots[k]!];
    for (let k = 0; k < outputSlots.length; k++) outs[k] = values[outputSlots[k]!];
    run(ins, outs);
  };
}

/**
 * The inputs that a copy kernel reads (a batch transposed into time-major order), which are no result:
 * where the backend places a plan's buffers in a memory of its own (the CPU's WebAssembly arena), each run
 * copies such an argument into a buffer there in one piece, and the copy kernels then move its rows within
 * that memory, a WebAssembly call per block of rows, instead of a view and a copy per row of the argument.
 */
function copiedInputs(graph: Graph, schedule: Schedule): number[] {
  const results = new Set(graph.outputs.map((id) => schedule.root[id]!));
  const copied = new Set<number>();
  for (const node of graph.nodes) {
    if (node.op === 'input' || node.op === 'const' || PRIMITIVES[node.op].kind !== 'layout') continue;
    const kind = schedule.storage[node.id];
    if (kind !== 'pooled' && kind !== 'output') continue;
    for (const i of node.inputs) {
      const source = schedule.root[i]!;
      if (graph.nodes[source]!.op === 'input' && !results.has(source) && sizeOf(graph.nodes[source]!.shape) > 0) copied.add(source);
    }
  }
  return [...copied];
}

/** A constant's storage on the plan's backend: a host constant (a literal, a closed-over tensor) is copied there once. */
function constantStorage(value: Tensor, backend: Backend): unknown {
  if (value.backend === backend) return value.storage;
  if (value.backend.hostView === undefined) {
    throw new ArgumentError(`jit: a constant ${value.toString()} lives on ${value.backend.name} but the plan runs on ${backend.name}; move it with devicePut`);
  }
  return backend.fromHost(hostData(value, 'jit'));
}

/**
 * Compiles `graph` (run the optimisation passes first, see `optimize`): fusion groups, a schedule, a
 * static memory plan and one planned kernel per step.
 */
export function compileGraph(graph: Graph, options: CompileOptions = {}): CompiledGraph {
  const backend = options.backend ?? cpu;
  const groups = options.fuse === false ? [] : findFusionGroups(graph);
  const shared = backend.planContext(graph);
  const schedule = buildSchedule(
    graph,
    groups,
    (op) => backend.aliases(op),
    backend.window !== undefined,
    (product, sum) => hasProductSum(graph, backend, product, sum, shared),
    backend.fusedInputViews === true,
  );
  const memory = planMemory(graph, schedule);
  const n = graph.nodes.length;
  const values: unknown[] = new Array(n);
  // inputs that copy kernels read get a buffer among the plan's, filled from the argument at each run
  const staged = backend.allocatePlan !== undefined && backend.hostView !== undefined ? copiedInputs(graph, schedule) : [];
  const stagedTypes = staged.map((id) => ({ dtype: graph.nodes[id]!.dtype, size: sizeOf(graph.nodes[id]!.shape) }));
  const placed = backend.allocatePlan?.([...memory.buffers, ...stagedTypes], shared);
  const buffers = placed ?? memory.buffers.map((b) => backend.allocate(b.dtype, b.size));
  const stagedIds = placed === undefined ? [] : staged;
  const stagedArrays = stagedIds.map((_, k) => backend.hostView!(placed![memory.buffers.length + k]));
  const stagedStorage = stagedIds.map((_, k) => placed![memory.buffers.length + k]);
  const fresh: number[] = [];
  for (const node of graph.nodes) {
    const storage = schedule.storage[node.id];
    if (node.op === 'const') values[node.id] = constantStorage(node.value, backend);
    else if (storage === 'pooled') values[node.id] = backend.view(buffers[memory.bufferOf[node.id]!]!, sizeOf(node.shape));
    else if (storage === 'output') fresh.push(node.id);
  }
  // windows onto their roots' storage, which is set above (a root may come after its windows: a concat)
  for (const node of graph.nodes) {
    if (schedule.storage[node.id] === 'window')
      values[node.id] = backend.window!(values[schedule.root[node.id]!], schedule.offset[node.id]!, sizeOf(node.shape));
  }
  const slot = (id: number): number => schedule.slot[id]!;
  const productOf = (id: number): PrimitiveNode<'matmul'> | undefined => {
    const product = schedule.productSums.get(id);
    return product === undefined ? undefined : (graph.nodes[product] as PrimitiveNode<'matmul'>);
  };
  const steps: StepFn[] = schedule.steps.map((step) =>
    step.kind === 'node'
      ? nodeStep(graph, graph.nodes[step.id]! as PrimitiveNode, slot, values, backend, shared, productOf(step.id))
      : groupStep(graph, step.group, schedule, values, backend, shared),
  );
  const inputs = graph.inputs;
  return {
    graph,
    backend,
    groups,
    schedule,
    memory,
    stepCount: steps.length,
    freshResults: fresh.map((id) => ({ dtype: graph.nodes[id]!.dtype, size: sizeOf(graph.nodes[id]!.shape) })),
    run(args, storageFor) {
      for (let i = 0; i < inputs.length; i++) values[inputs[i]!] = args[i]!.storage;
      for (let k = 0; k < stagedIds.length; k++) {
        const id = stagedIds[k]!;
        stagedArrays[k]!.set(backend.hostView!(values[id]) as never);
        values[id] = stagedStorage[k];
      }
      for (const id of fresh) {
        const { dtype, shape } = graph.nodes[id]!;
        const size = sizeOf(shape);
        values[id] = storageFor?.(dtype, size) ?? backend.allocate(dtype, size);
      }
      for (let s = 0; s < steps.length; s++) steps[s]!();
      backend.flush();
      // results hold their own storage (or an input's or a constant's: values are immutable)
      const results = new Map<number, Tensor>();
      return (id) => {
        let t = results.get(id);
        if (t === undefined) {
          const node = graph.nodes[id]!;
          t = new Tensor(values[slot(id)], node.shape, node.dtype, null, null, backend);
          results.set(id, t);
        }
        return t;
      };
    },
  };
}
