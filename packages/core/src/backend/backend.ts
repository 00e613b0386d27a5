/**
 * The backend interface: the set of kernels for one kind of storage (typed arrays on the CPU, buffers on a
 * GPU). Everything above it — ops, autodiff, the graph compiler — is written against this interface and
 * never asks which backend runs; a tensor knows its backend, and an op runs where its inputs live.
 */
import type { DType, TensorData } from '../dtype.js';
import type { AbstractValue, AttrsOf, ElementwiseName, PrimitiveName } from '../binding/primitive.js';
import type { Graph } from '../graph/graph.js';

/**
 * A kernel planned for fixed shapes and attributes: runs over the inputs' storage and writes the output's.
 * On the CPU it computes at once; a GPU backend encodes its dispatches into the backend's pending work.
 */
export type KernelRun = (inputs: readonly unknown[], output: unknown) => void;

/**
 * What a plan shares between the kernels of one compiled run (a CPU backend packs a weight that several
 * products read once per run); eager calls get a fresh one per op.
 */
export interface PlanContext {
  /** The storage slot of each input in the plan's value table (-1 outside a compiled plan). */
  readonly inputSlots: readonly number[];
  /** Per-plan state a backend keeps across the kernels it plans (created by {@link Backend.planContext}). */
  readonly shared: unknown;
}

/** The primitives a backend computes with a kernel (a custom VJP's value is computed by other ops). */
export type KernelName = Exclude<PrimitiveName, 'customVjp'>;

/** The primitives whose VJP for input 0 a backend may add in place (see {@link Backend.accumulateSparse}). */
export type SparseVjpName = 'slice' | 'gather';

/** One member of a fused elementwise group: an op over external inputs and earlier members. */
export interface FusedInstruction {
  /** The elementwise primitive. */
  readonly op: ElementwiseName;
  /** Its attributes. */
  readonly attrs: AttrsOf<ElementwiseName>;
  /** The member's dtype (a cast's target). */
  readonly dtype: DType;
  /** Operands: `k ≥ 0` is external input k, `-(m + 1)` is member m's value. */
  readonly operands: readonly number[];
  /** Whether the member's value is stored (read outside the group or returned) or lives only in the kernel. */
  readonly stored: boolean;
}

/**
 * Where a value's elements lie in storage when that is not the contiguous row-major order of its shape: from
 * element `offset`, `strides[d]` elements apart along axis d (a slice of a [32, 512] value read in place:
 * rows of 128 elements, 512 apart).
 */
export interface StridedLayout {
  /** Where element [0, …, 0] lies, in elements. */
  readonly offset: number;
  /** How many elements apart consecutive indices of each axis lie. */
  readonly strides: readonly number[];
}

/** A fused elementwise group as a backend compiles it into one kernel. */
export interface FusedProgram {
  /** The members in execution order. */
  readonly instructions: readonly FusedInstruction[];
  /** The external inputs' types (each broadcasts to `shape`). */
  readonly inputs: readonly AbstractValue[];
  /**
   * Per input, where its elements lie in the storage the run passes for it, when that is not its own
   * contiguous storage: a slice read in place from the value it slices (see {@link Backend.fusedInputViews}).
   */
  readonly views?: readonly (StridedLayout | null)[];
  /** The shape every member has. */
  readonly shape: readonly number[];
}

/**
 * Runs a fused program: `inputs` are the external inputs' storage, `outputs` the storage of each stored
 * member, in member order (members kept in the kernel have no entry).
 */
export type FusedRun = (inputs: readonly unknown[], outputs: readonly unknown[]) => void;

/**
 * A whole graph compiled by a backend's own compiler (see {@link Backend.compileGraph}): one call runs every
 * kernel of the graph over storage the program planned once.
 */
export interface BackendProgram {
  /** The dtype and length of each result that gets storage of its own per call, in the order `run` asks for it. */
  readonly freshResults: readonly {
    /** The result's dtype. */
    readonly dtype: DType;
    /** Its number of elements. */
    readonly size: number;
  }[];
  /**
   * Runs the graph once: `inputs` is the storage of `graph.inputs`, in order; returns the storage of each of
   * `graph.outputs`, in order. A result the caller keeps gets storage from `storageFor` where it returns some
   * (storage recycled from donated arguments), else fresh storage; an output that is an input or a constant
   * is that storage.
   */
  run(inputs: readonly unknown[], storageFor: (dtype: DType, size: number) => unknown): unknown[];
}

/** The kernels and storage of one kind of device. */
export interface Backend {
  /** The backend's name, as errors show it (`cpu`, `webgpu`). */
  readonly name: string;
  /** The dtypes it can hold. */
  readonly dtypes: readonly DType[];
  /** Storage for `size` elements of `dtype` (contents unspecified). */
  allocate(dtype: DType, size: number): unknown;
  /** Storage holding a copy of host data. */
  fromHost(data: TensorData): unknown;
  /** A copy of storage on the host (waits for pending work). */
  toHost(storage: unknown, dtype: DType, size: number): Promise<TensorData>;
  /** The storage itself, synchronously, where the backend's storage is host memory (the CPU); else undefined. */
  readonly hostView?: (storage: unknown) => TensorData;
  /** Storage for the first `size` elements of `storage` (a compiled plan's pooled buffer shared by smaller values). */
  view(storage: unknown, size: number): unknown;
  /**
   * Storage for the `size` elements of `storage` from element `offset`, sharing them: a compiled plan reads a
   * slice that is one contiguous block of a buffer through it instead of copying it. Backends without it copy.
   */
  readonly window?: (storage: unknown, offset: number, size: number) => unknown;
  /**
   * Fresh per-plan state for {@link PlanContext.shared}; `graph` is the graph the plan runs, for a backend
   * that sizes per-plan resources from its ops before {@link Backend.allocatePlan} (the CPU reserves room for
   * its products' GEMM in the plan's memory).
   */
  planContext(graph?: Graph): unknown;
  /**
   * Storage for all the pooled buffers of one compiled plan at once (contents unspecified), for a backend that
   * places a plan's working memory together: the CPU puts it in a WebAssembly memory of the plan's own, where
   * its SIMD kernels read and write it in place. `shared` is the plan's {@link PlanContext.shared}. Undefined
   * (or a backend without this method): each buffer is allocated by {@link Backend.allocate}.
   */
  allocatePlan?(buffers: readonly { readonly dtype: DType; readonly size: number }[], shared: unknown): unknown[] | undefined;
  /** Plans primitive `op`'s kernel for these input and output types and attributes. */
  plan<P extends KernelName>(op: P, inputs: readonly AbstractValue[], output: AbstractValue, attrs: AttrsOf<P>, context: PlanContext): KernelRun;
  /**
   * One kernel for `add(matmul(a, b), c)` (`inputs`: a, b and c; `attrs`: the product's), where the backend has
   * one that gives the bits of the two ops: the CPU adds the product to c in its GEMM's last step (a bias add
   * after a projection costs no pass of its own). Null where it has none for these operands; a compiled plan
   * then runs the two ops.
   */
  planProductSum?(inputs: readonly AbstractValue[], output: AbstractValue, attrs: AttrsOf<'matmul'>, context: PlanContext): KernelRun | null;
  /** Plans one kernel for a fused elementwise group. */
  planFused(program: FusedProgram, context: PlanContext): FusedRun;
  /**
   * Whether {@link Backend.planFused} reads inputs through {@link FusedProgram.views}: a compiled plan then
   * reads a slice that only fused groups read in place, from the value it slices, instead of copying it.
   */
  readonly fusedInputViews?: boolean;
  /** Whether `op` shares its input's storage instead of computing (a reshape of contiguous storage). */
  aliases(op: KernelName): boolean;
  /**
   * `acc += ct` in place, where `acc` is storage the autodiff engine owns (same shape and dtype). Returns
   * false where the backend has no in-place path, and the engine adds out of place instead.
   */
  accumulate?(acc: unknown, ct: unknown, dtype: DType, size: number): boolean;
  /**
   * The in-place form of a slice's or a gather's VJP for its first input: adds `ct` into `acc` (storage of the
   * input's shape the engine owns) where the op read, instead of building a mostly-zero cotangent. A
   * scan's T step slices of one sequence then cost T block additions, not T full-size tensors. Returns false
   * where the backend has no such path.
   */
  accumulateSparse?<P extends SparseVjpName>(
    op: P,
    acc: unknown,
    ct: unknown,
    inputs: readonly AbstractValue[],
    inputStorage: readonly unknown[],
    attrs: AttrsOf<P>,
  ): boolean;
  /**
   * Compiles a whole optimised graph with the backend's own compiler, for a backend that does better than
   * core's plan of one kernel per node (a GPU backend reads layout ops through views inside its kernels
   * instead of dispatching them). `jit` uses it where it exists (and fusion is on); core's compiler plans
   * the graph with {@link Backend.plan} and {@link Backend.planFused} otherwise.
   */
  compileGraph?(graph: Graph): BackendProgram;
  /** Submits pending work (a GPU backend's command buffer); a no-op where work runs at once. */
  flush(): void;
}
