/// <reference types="@webgpu/types" />
/**
 * The WebGPU backend: plans a kernel per primitive from shapes and attributes (WGSL generated with the shapes
 * baked in, one cached pipeline per distinct source), and runs planned kernels by encoding dispatches into one
 * open compute pass. Nothing is submitted until `flush` (or a read): a compiled step encodes all its
 * dispatches and flushes once, so a whole training step is one queue submission.
 */
import {
  ArgumentError,
  DTypeError,
  InternalError,
  type AbstractValue,
  type AttrsOf,
  type Backend,
  type BackendProgram,
  type DType,
  type ElementwiseName,
  type FusedInstruction,
  type FusedProgram,
  type FusedRun,
  type Graph,
  type KernelName,
  type KernelRun,
  type SparseVjpName,
  type TensorData,
} from '@tapestry/core';
import { COPY_DST, MAP_READ, UNIFORM } from './buffer-usage.js';
import { KernelTimer, type KernelTime } from './kernel-timer.js';
import { GpuProgram } from './program.js';
import { BufferPool, GpuStorage, type GpuDType } from './storage.js';
import { sizeOf, wgslType, type KernelSpec } from './wgsl/common.js';
import { broadcastReads, fusedKernel, type InputRead, type OutputWrite } from './wgsl/elementwise.js';
import { argmaxKernel, reduceKernel, reduceManyKernel, type ReduceOp } from './wgsl/reduce.js';
import { matmulKernel, type MatmulTiles } from './wgsl/matmul.js';
import {
  broadcastKernel,
  concatKernel,
  copyKernel,
  gatherKernel,
  oneHotKernel,
  padKernel,
  scatterAddKernel,
  sliceKernel,
  transposeKernel,
} from './wgsl/layout.js';
import { deriveKeyKernel, randomKernel } from './wgsl/random.js';
import { accumulateGatherKernel, accumulateKernel, accumulateSliceKernel } from './wgsl/accumulate.js';

/** How many products an inlined product's loop takes per step on a hardware adapter (see `fusedKernel`). */
const PRODUCTS_PER_STEP = 16;
/** Bind groups each planned kernel keeps (see `runner`). */
const BIND_GROUP_CACHE = 4;
/** Accumulation kernels kept planned for the autodiff engine's in-place adds (one per shape it meets). */
const ACCUMULATE_CACHE = 256;

/** Counters a bench reads: how much work reached the GPU, and in how many submissions. */
export interface GpuStats {
  /** Compute dispatches encoded. */
  dispatches: number;
  /** Queue submissions of encoded work (flushes that had work). */
  submissions: number;
  /** Reads back to the CPU (each is a submission of its own copy). */
  reads: number;
  /** Pipelines compiled (one per distinct kernel source). */
  pipelines: number;
}

const UNARY = new Set<string>([
  'neg',
  'exp',
  'expm1',
  'log',
  'log1p',
  'sqrt',
  'abs',
  'square',
  'sign',
  'cos',
  'sin',
  'floor',
  'tanh',
  'sigmoid',
  'relu',
  'leakyRelu',
  'elu',
  'softplus',
  'isFinite',
]);
const BINARY = new Set<string>(['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'greater', 'less', 'equal', 'greaterEqual', 'lessEqual', 'notEqual']);

/** The typed array that holds a read of `dtype`. */
export type GpuTypedArray = Float32Array | Int32Array;

/**
 * The WebGPU backend over one `GPUDevice`, a core `Backend`: `devicePut(tree, backend)` places tensors on it,
 * ops on them run here, `await t.data()` reads them back. Make one with {@link webgpuDevice}.
 */
export class WebGpuBackend implements Backend {
  /** The backend's name. */
  readonly name = 'webgpu';
  /** The dtypes it stores: WGSL has no f64. */
  readonly dtypes: readonly DType[] = ['float32', 'int32'];
  /** Work counters (reset them freely). */
  readonly stats: GpuStats = { dispatches: 0, submissions: 0, reads: 0, pipelines: 0 };
  /** The most storage buffers one kernel may bind. */
  readonly maxBindings: number;
  /** Whether the device stamps times on the GPU, so {@link WebGpuBackend.timeKernels} can time kernels. */
  readonly timestamps: boolean;

  private readonly pool: BufferPool;
  /** Storage handed to core (eager results, uploads): its buffer goes back to the pool when it is collected. */
  private readonly collected = new FinalizationRegistry<GPUBuffer>((buffer) => this.pool.give(buffer));
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  /** Planned accumulation kernels by source: the engine adds per backward step, with few distinct shapes. */
  private readonly accumulators = new Map<string, (ins: readonly GpuStorage[], outs: readonly GpuStorage[]) => void>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** The pipeline the open pass last set (a pass starts with none). */
  private passPipeline: GPUComputePipeline | null = null;
  /** While {@link WebGpuBackend.timeKernels} encodes: every dispatch gets a timed pass of its own. */
  private timer: KernelTimer | null = null;
  private error: string | null = null;

  /** @internal */
  constructor(
    /** The device. */
    readonly device: GPUDevice,
    /**
     * The `GPU` object the device came from. Held for the device's whole life: in Node, Dawn's instance dies
     * with it, and a device used after that crashes the process.
     */
    readonly gpu: GPU,
    /**
     * Whether kernels keep their inner loops rolled: for software adapters (Mesa's llvmpipe), where compiling
     * an unrolled matmul takes 5–10× longer than a rolled one and compile time dominates. Same arithmetic.
     */
    readonly compact = false,
    /**
     * How the matmul kernel lays out a thread's block of C (see {@link MatmulTiles}): `vector` by default;
     * `scalar` for comparison (the GPU bench times both).
     */
    readonly matmulTiles: MatmulTiles = 'vector',
  ) {
    this.pool = new BufferPool(device);
    this.maxBindings = device.limits.maxStorageBuffersPerShaderStage;
    this.timestamps = device.features.has('timestamp-query');
    device.addEventListener('uncapturederror', (event) => {
      this.error ??= (event as GPUUncapturedErrorEvent).error.message;
    });
  }

  /**
   * New storage for `size` elements of `dtype` (contents undefined until a kernel writes them); its buffer is
   * pooled again once the storage is collected, or at once by {@link WebGpuBackend.release}.
   */
  allocate(dtype: DType, size: number): GpuStorage {
    const t = gpuDType(dtype, 'allocate');
    const s = new GpuStorage(this.pool.take(size * 4), t, size);
    this.collected.register(s, s.buffer, s);
    return s;
  }

  /** Copies a typed array to new storage. */
  upload(data: Float32Array | Int32Array | Float64Array): GpuStorage {
    if (data instanceof Float64Array) gpuDType('float64', 'upload');
    const dtype: GpuDType = data instanceof Int32Array ? 'int32' : 'float32';
    const s = new GpuStorage(this.pool.take(data.byteLength), dtype, data.length);
    this.collected.register(s, s.buffer, s);
    if (data.length > 0) this.device.queue.writeBuffer(s.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return s;
  }

  /** Storage holding a copy of host data (core's `devicePut`); its buffer is pooled again once the storage is collected. */
  fromHost(data: TensorData): GpuStorage {
    // upload registers the storage for collection once: registering it twice would give its buffer back to
    // the pool twice, and two later tensors would share it
    return this.upload(data);
  }

  /** A copy of storage on the host, once the pending work is done (core's `await t.data()`). */
  toHost(storage: unknown): Promise<TensorData> {
    return this.read(storage as GpuStorage);
  }

  /** Storage for the first `size` elements of `storage` (shares its buffer, and keeps it alive). */
  view(storage: unknown, size: number): GpuStorage {
    const s = storage as GpuStorage;
    return s.size === size ? s : new GpuStorage(s.buffer, s.dtype, size, s);
  }

  /** Per-plan state: none (each kernel holds its own pipeline, params and bind groups). */
  planContext(): unknown {
    return null;
  }

  /**
   * Compiles a whole graph with this package's compiler, {@link GpuProgram} (layout ops read through views
   * inside the kernels that use them, batched reductions, concatenations written in place): core's `jit`
   * runs graphs on this backend through it, one command buffer per call.
   */
  compileGraph(graph: Graph): BackendProgram {
    const program = new GpuProgram(this, graph);
    return { freshResults: program.freshResults, run: (inputs, storageFor) => program.runFresh(inputs as GpuStorage[], storageFor) };
  }

  /** Whether `op` shares its input's storage: a reshape (storage is contiguous). */
  aliases(op: KernelName): boolean {
    return op === 'reshape';
  }

  /**
   * `acc += ct` in place on the GPU (core's autodiff engine accumulating a cotangent into storage it owns):
   * one dispatch, no allocation and no read back to the CPU.
   */
  accumulate(acc: unknown, ct: unknown, dtype: DType, size: number): boolean {
    if (size === 0) return true;
    this.accumulator(accumulateKernel(size, gpuDType(dtype, 'accumulate')))([ct as GpuStorage], [acc as GpuStorage]);
    return true;
  }

  /**
   * A slice's or a gather's VJP for its first input added into `acc` in place on the GPU: the slice's block
   * gets `ct` added, or the gathered rows get theirs scatter-added (indices read on the GPU, in the CPU's
   * order, so the sums are the CPU's bit for bit). Nothing is read back and no zero cotangent is built.
   */
  accumulateSparse<P extends SparseVjpName>(
    op: P,
    acc: unknown,
    ct: unknown,
    inputs: readonly AbstractValue[],
    inputStorage: readonly unknown[],
    attrs: AttrsOf<P>,
  ): boolean {
    const x = inputs[0]!;
    const dtype = gpuDType(x.dtype, 'accumulateSparse');
    if (sizeOf(x.shape) === 0) return true;
    if (op === 'slice') {
      const { begin, size } = attrs as AttrsOf<'slice'>;
      if (sizeOf(size) === 0) return true;
      this.accumulator(accumulateSliceKernel(x.shape, begin, size, dtype))([ct as GpuStorage], [acc as GpuStorage]);
    } else {
      const [outer, n, inner] = axisBlocks(x.shape, (attrs as AttrsOf<'gather'>).axis);
      const m = sizeOf(inputs[1]!.shape);
      if (m === 0) return true;
      this.accumulator(accumulateGatherKernel(outer, n, inner, m, dtype))([ct as GpuStorage, inputStorage[1] as GpuStorage], [acc as GpuStorage]);
    }
    return true;
  }

  /** The planned kernel of an accumulation spec (kept: the engine meets the same few shapes every step). */
  private accumulator(spec: KernelSpec): (ins: readonly GpuStorage[], outs: readonly GpuStorage[]) => void {
    let run = this.accumulators.get(spec.code);
    if (run === undefined) {
      if (this.accumulators.size === ACCUMULATE_CACHE) this.accumulators.delete(this.accumulators.keys().next().value!);
      run = this.runner(spec, null);
      this.accumulators.set(spec.code, run);
    }
    return run;
  }

  /** Gives storage back to the pool (after the work already encoded has been submitted). */
  release(s: GpuStorage): void {
    this.collected.unregister(s);
    this.pool.give(s.buffer);
  }

  /** Submits everything encoded so far and waits for it; then copies `s` back. */
  async read(s: GpuStorage): Promise<GpuTypedArray> {
    this.flush();
    this.stats.reads++;
    const bytes = s.size * 4;
    const out = s.dtype === 'int32' ? new Int32Array(s.size) : new Float32Array(s.size);
    if (bytes === 0) return out;
    const staging = this.device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(s.buffer, 0, staging, 0, bytes);
    this.device.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(1);
      const view = staging.getMappedRange(0, bytes);
      new Uint8Array(out.buffer).set(new Uint8Array(view));
      staging.unmap();
    } finally {
      staging.destroy();
    }
    this.throwIfFailed();
    return out;
  }

  /**
   * Runs `encode`, which encodes work on this backend (a {@link GpuProgram} call, eager ops), with each of its
   * dispatches in a compute pass of its own stamped by the GPU, and resolves to every dispatch's GPU time in
   * encoding order, labelled by the last `label(kernel)` call before it. The work is submitted (as one command
   * buffer) before the promise settles. Needs the adapter feature `timestamp-query` ({@link timestamps}).
   * Separate passes let the GPU drain between kernels, so each time is the kernel's alone, a little more than
   * it costs inside one pass.
   * @example
   * ```ts
   * const times = await backend.timeKernels((label) => { label('product'); matmul(a, b); });
   * ```
   */
  async timeKernels(encode: (label: (kernel: string) => void) => void): Promise<KernelTime[]> {
    if (!this.timestamps) {
      throw new ArgumentError("webgpu: timeKernels needs the adapter feature 'timestamp-query', which this device does not have");
    }
    if (this.timer !== null) throw new ArgumentError('webgpu: timeKernels calls cannot be nested');
    this.flush();
    const timer = new KernelTimer(this.device);
    this.timer = timer;
    try {
      encode((kernel) => (timer.label = kernel));
    } finally {
      this.timer = null;
      this.pass?.end();
      this.pass = null;
    }
    if (this.encoder === null) return [];
    const { read } = timer.resolve(this.encoder);
    this.flush();
    const times = await read();
    this.throwIfFailed();
    return times;
  }

  /** Submits the encoded work as one command buffer (a no-op when nothing is pending). */
  flush(): void {
    if (this.encoder === null) return;
    this.pass?.end();
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.pass = null;
    this.stats.submissions++;
    this.pool.submitted();
  }

  /** Waits until the GPU has finished everything submitted. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfFailed();
  }

  /** Destroys the device and its buffers. */
  destroy(): void {
    this.flush();
    this.pool.destroy();
    this.device.destroy();
  }

  /** Plans the kernel of one primitive for the given input and output types. */
  plan<P extends KernelName>(op: P, inputs: readonly AbstractValue[], output: AbstractValue, attrs: AttrsOf<P>): KernelRun {
    for (const v of [...inputs, output]) gpuDType(v.dtype, op);
    const specs = this.specsOf(op, inputs, output, attrs);
    if (sizeOf(output.shape) === 0) return () => {};
    const runs = specs.map(({ spec, inputs: which }) => this.runner(spec, which));
    return (ins, out) => {
      for (const run of runs) run(ins as readonly GpuStorage[], [out as GpuStorage]);
    };
  }

  /**
   * Plans one generated kernel for a fused elementwise group: its outputs are the members marked `stored`,
   * in member order.
   */
  planFused(program: FusedProgram): FusedRun {
    const { inputs, shape } = program;
    const buffers = inputs.map((v) => gpuDType(v.dtype, 'fused'));
    const reads = broadcastReads(inputs, shape);
    if (fusedKernel(program.instructions, buffers, reads, shape).bindings <= this.maxBindings) {
      return this.planFusedReads(program.instructions, buffers, reads, shape) as FusedRun;
    }
    return this.planFusedApart(program);
  }

  /**
   * A fused group that binds more buffers than the device allows (core's fusion does not know the limit),
   * run member by member: each member a one-member group, and the values the group kept in registers in
   * buffers of their own, held for the plan's life.
   */
  private planFusedApart(program: FusedProgram): FusedRun {
    const { instructions, inputs, shape } = program;
    const size = Math.max(1, sizeOf(shape));
    let stored = 0;
    const outIndex = instructions.map((m) => (m.stored ? stored++ : -1));
    const temps = instructions.map((m) => (m.stored ? null : this.allocate(m.dtype, size)));
    const runs = instructions.map((m) =>
      this.planFused({
        instructions: [{ ...m, operands: m.operands.map((_, j) => j), stored: true }],
        inputs: m.operands.map((k) => (k >= 0 ? inputs[k]! : { shape, dtype: instructions[-k - 1]!.dtype })),
        shape,
      }),
    );
    const valueOf = (m: number, outs: readonly unknown[]): unknown => (outIndex[m]! >= 0 ? outs[outIndex[m]!] : temps[m]);
    return (ins, outs) => {
      instructions.forEach((m, i) =>
        runs[i]!(
          m.operands.map((k) => (k >= 0 ? ins[k] : valueOf(-k - 1, outs))),
          [valueOf(i, outs)],
        ),
      );
    };
  }

  /**
   * {@link WebGpuBackend.planFused} over input buffers read through views (a compiled program folds slices,
   * transposes and broadcasts into the kernels that read them, instead of copying them first), and stored
   * members written where `writes` says (a concat's parts into the concat's buffer); `outs` are then the
   * distinct output buffers.
   */
  planFusedReads(
    instructions: readonly FusedInstruction[],
    buffers: readonly DType[],
    reads: readonly InputRead[],
    shape: readonly number[],
    writes?: readonly OutputWrite[],
  ): (ins: readonly GpuStorage[], outs: readonly GpuStorage[]) => void {
    for (const ins of instructions) gpuDType(ins.dtype, ins.op);
    // on hardware, an inlined product's loop takes 16 products a step (see dotLoop); rolled for llvmpipe
    const spec = fusedKernel(instructions, buffers, reads, shape, writes, this.compact ? 1 : PRODUCTS_PER_STEP);
    if (spec.bindings > this.maxBindings) {
      throw new ArgumentError(`webgpu: a fused group binds ${spec.bindings} buffers, more than this device's ${this.maxBindings}`);
    }
    if (sizeOf(shape) === 0) return () => {};
    return this.runner(spec, null);
  }

  /**
   * One kernel for `count` reductions of the same kind, each of its own input of type `input` (over the sorted
   * `axes`, short enough for one thread per output): reduction b's results are rows b of the output buffer.
   */
  planReduceMany(
    op: ReduceOp,
    count: number,
    input: AbstractValue,
    axes: readonly number[],
  ): (ins: readonly GpuStorage[], outs: readonly GpuStorage[]) => void {
    const spec = reduceManyKernel(op, count, input.shape, axes, gpuDType(input.dtype, op));
    if (spec.bindings > this.maxBindings) {
      throw new ArgumentError(`webgpu: ${count} batched reductions bind ${spec.bindings} buffers, more than this device's ${this.maxBindings}`);
    }
    return this.runner(spec, null);
  }

  private specsOf(op: KernelName, inputs: readonly AbstractValue[], output: AbstractValue, attrs: unknown): { spec: KernelSpec; inputs: number[] | null }[] {
    const one = (spec: KernelSpec) => [{ spec, inputs: null }];
    const x = inputs[0]!;
    const a = attrs as Record<string, never>;
    if (UNARY.has(op) || BINARY.has(op) || op === 'where' || op === 'cast') {
      const program: FusedInstruction[] = [
        { op: op as ElementwiseName, attrs: attrs as AttrsOf<ElementwiseName>, dtype: output.dtype, operands: inputs.map((_, k) => k), stored: true },
      ];
      return one(
        fusedKernel(
          program,
          inputs.map((v) => v.dtype),
          broadcastReads(inputs, output.shape),
          output.shape,
        ),
      );
    }
    switch (op) {
      case 'sum':
      case 'max':
      case 'min':
        return one(reduceKernel(op, x.shape, a.axes as readonly number[], x.dtype));
      case 'argmax':
        return one(argmaxKernel(x.shape, a.axis as number, x.dtype));
      case 'oneHot':
        return one(oneHotKernel(sizeOf(x.shape), a.depth as number, output.dtype));
      case 'matmul':
        return one(
          matmulKernel({ a: x.shape, b: inputs[1]!.shape, transA: a.transA as boolean, transB: a.transB as boolean }, x.dtype, this.compact, this.matmulTiles),
        );
      case 'reshape':
        return one(copyKernel(sizeOf(x.shape), x.dtype));
      case 'transpose':
        return one(transposeKernel(x.shape, a.perm as readonly number[], x.dtype));
      case 'broadcastTo':
        return one(broadcastKernel(x.shape, output.shape, x.dtype));
      case 'slice':
        return one(sliceKernel(x.shape, a.begin as readonly number[], a.size as readonly number[], x.dtype));
      case 'pad':
        return one(padKernel(x.shape, a.begin as readonly number[], output.shape, x.dtype));
      case 'concat': {
        const axis = a.axis as number;
        const per = this.maxBindings - 1;
        const out: { spec: KernelSpec; inputs: number[] }[] = [];
        let column = 0;
        for (let first = 0; first < inputs.length; first += per) {
          const which = inputs
            .map((_, k) => k)
            .slice(first, first + per)
            .filter((k) => sizeOf(inputs[k]!.shape) > 0);
          if (which.length === 0) continue;
          const shapes = which.map((k) => inputs[k]!.shape);
          out.push({ spec: concatKernel(shapes, axis, output.shape, column, x.dtype), inputs: which });
          column += shapes.reduce((p, s) => p + sizeOf(s.slice(axis)), 0);
        }
        return out;
      }
      case 'gather': {
        const [outer, n, inner] = axisBlocks(x.shape, a.axis as number);
        return one(gatherKernel(outer, n, inner, sizeOf(inputs[1]!.shape), x.dtype));
      }
      case 'scatterAdd': {
        const [outer, n, inner] = axisBlocks(a.shape as readonly number[], a.axis as number);
        return one(scatterAddKernel(outer, n, inner, sizeOf(inputs[1]!.shape), x.dtype));
      }
      case 'deriveKey':
        return one(deriveKeyKernel(a.c0 as number, a.c1 as number));
      case 'random':
        return one(randomKernel(attrs as AttrsOf<'random'>, sizeOf(output.shape)));
      default:
        throw new InternalError(`webgpu: no kernel for primitive '${op}'`);
    }
  }

  /** A function that encodes `spec` over the given inputs (a subset `which` of them, or all) and outputs. */
  private runner(spec: KernelSpec, which: readonly number[] | null): (ins: readonly GpuStorage[], outs: readonly GpuStorage[]) => void {
    const pipeline = this.pipeline(spec);
    let params: GPUBuffer | null = null;
    if (spec.params !== undefined) {
      params = this.device.createBuffer({ size: Math.max(16, spec.params.byteLength), usage: UNIFORM | COPY_DST });
      this.device.queue.writeBuffer(params, 0, spec.params);
    }
    // a compiled program runs over the same buffers every call, or two sets in turn (its results cycle, and
    // the next call's inputs are the last call's results): a few cached bind groups cover it
    const cache: { buffers: GPUBuffer[]; group: GPUBindGroup }[] = [];
    const buffers: GPUBuffer[] = new Array(spec.bindings);
    return (ins, outs) => {
      let k = 0;
      if (which === null) for (const s of ins) buffers[k++] = s.buffer;
      else for (const j of which) buffers[k++] = ins[j]!.buffer;
      for (const s of outs) buffers[k++] = s.buffer;
      for (let j = spec.inputs; j < k; j++) {
        for (let i = 0; i < spec.inputs; i++) {
          if (buffers[i] === buffers[j]) throw new InternalError("webgpu: a kernel's output storage is also one of its inputs; give it its own storage");
        }
      }
      let group = cache.find((c) => c.buffers.every((b, j) => b === buffers[j]))?.group;
      if (group === undefined) {
        group = this.device.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [...buffers, ...(params === null ? [] : [params])].map((buffer, binding) => ({ binding, resource: { buffer } })),
        });
        if (cache.length === BIND_GROUP_CACHE) cache.shift();
        cache.push({ buffers: buffers.slice(), group });
      }
      const pass = this.computePass();
      // a layer's time steps run one kernel after another: each call into the binding costs microseconds
      if (this.passPipeline !== pipeline) {
        pass.setPipeline(pipeline);
        this.passPipeline = pipeline;
      }
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(spec.groups[0], spec.groups[1], spec.groups[2]);
      this.stats.dispatches++;
      if (this.timer !== null) {
        // a timed dispatch has its pass to itself
        pass.end();
        this.pass = null;
      }
    };
  }

  private computePass(): GPUComputePassEncoder {
    if (this.pass === null) {
      this.encoder ??= this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass(this.timer === null ? undefined : { timestampWrites: this.timer.nextPass() });
      this.passPipeline = null;
    }
    return this.pass;
  }

  private pipeline(spec: KernelSpec): GPUComputePipeline {
    const key = `${this.layoutKey(spec)}\n${spec.code}`;
    let p = this.pipelines.get(key);
    if (p === undefined) {
      const module = this.device.createShaderModule({ code: spec.code });
      p = this.device.createComputePipeline({
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [this.layout(spec)] }),
        compute: { module, entryPoint: 'main' },
      });
      this.pipelines.set(key, p);
      this.stats.pipelines++;
    }
    return p;
  }

  /** An explicit layout, so a binding a kernel happens not to read is still part of it. */
  private layout(spec: KernelSpec): GPUBindGroupLayout {
    const key = this.layoutKey(spec);
    let l = this.layouts.get(key);
    if (l === undefined) {
      const entries: GPUBindGroupLayoutEntry[] = [];
      for (let b = 0; b < spec.bindings; b++) {
        const type: GPUBufferBindingType = b < spec.inputs && spec.readOnlyInputs ? 'read-only-storage' : 'storage';
        entries.push({ binding: b, visibility: 4 /* GPUShaderStage.COMPUTE */, buffer: { type } });
      }
      if (spec.params !== undefined) entries.push({ binding: spec.bindings, visibility: 4, buffer: { type: 'uniform' } });
      l = this.device.createBindGroupLayout({ entries });
      this.layouts.set(key, l);
    }
    return l;
  }

  private layoutKey(spec: KernelSpec): string {
    return `${spec.readOnlyInputs ? 'r' : 'w'}${spec.inputs}/${spec.bindings}${spec.params === undefined ? '' : 'p'}`;
  }

  private throwIfFailed(): void {
    if (this.error !== null) {
      const message = this.error;
      this.error = null;
      throw new InternalError(`webgpu: the device reported an error: ${message}`);
    }
  }
}

/** `dtype` if the GPU stores it; float64 is an error that says why. */
function gpuDType(dtype: DType, op: string): GpuDType {
  if (dtype === 'float64') {
    throw new DTypeError(`${op}: float64 is not supported on the GPU (WGSL has no f64); cast to float32, or keep this tensor on the CPU`);
  }
  wgslType(dtype, op);
  return dtype;
}

/** `shape` viewed as [outer, n, inner] around `axis`. */
function axisBlocks(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}
