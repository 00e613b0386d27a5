/**
 * Training on the GPU with `@tapestry/webgpu`: the same step as the CPU's (step.ts), traced once per
 * signature, optimised by core's passes and compiled by `compileGraph` into one command buffer per call. The
 * parameters, the optimiser state and the carried state stay on the GPU from step to step; only a window's
 * ids and the dropout key are uploaded, and the loss is read back asynchronously, one step behind, so the
 * GPU runs a step while the next is encoded.
 *
 * Why `compileGraph` and not core's `jit` over GPU tensors: `jit` traces with the arguments where they live,
 * and two things in this step do not run that way today. A recurrent layer starts from zeros it creates on
 * the CPU, which a trace over GPU parameters refuses to mix with them (`matmul: inputs live on two backends:
 * input 0 [8, 48] on cpu and input 1 [192, 48] on webgpu`); and Adam computes its bias corrections as float64
 * scalars (PyTorch's double-precision arithmetic), which WGSL cannot hold. Tracing with CPU examples (only
 * shapes are read) and `compileGraph(…, { float64: 'float32' })`, the option `@tapestry/webgpu` documents for
 * exactly that bookkeeping, runs the same step on the GPU; every tensor op is float32 on both devices.
 */
import { optimize, Tensor, tensor, trace, treeLeaves, treeStructure, treeUnflatten, zeros, type Graph } from '@tapestry/core';
import { getBatch } from '@tapestry/data';
import { compileGraph, type GpuProgram, type GpuStorage, type WebGpuBackend } from '@tapestry/webgpu';
import type { TrainingEngine } from './engine.js';
import { playgroundModel, type Carry, type PlaygroundParams } from './model.js';
import type { ReplicaSetup } from './replica.js';
import { playgroundOptimizer, stepKey, stepParts } from './step.js';

/** How the GPU trains. */
export interface GpuCompute {
  readonly device: 'webgpu';
  /** The backend, from `webgpuDevice({ gpu: navigator.gpu })`. */
  readonly backend: WebGpuBackend;
  /** The adapter, in words, for the page. */
  readonly adapter: string;
}

/** A tree shaped like the step's tensor trees, with GPU storage at the leaves. */
type OnGpu = unknown;

const SOLO = { index: 0, threads: 1 } as const;

/** One compiled signature: the program, and its graph (whose output leaves give the result `[params, optState, carry, loss]`). */
interface Compiled {
  readonly program: GpuProgram;
  readonly graph: Graph;
}

/** Compiles the model's step for `compute.backend`; the first step of each signature compiles its program. */
export function gpuEngine(compute: GpuCompute, setup: ReplicaSetup): TrainingEngine {
  const { backend } = compute;
  const { config } = setup;
  const model = playgroundModel(config, setup.vocabSize);
  const optimizer = playgroundOptimizer(config);
  const parts = stepParts(model, optimizer);
  const whole = (params: PlaygroundParams, optState: unknown, inputs: Tensor, targets: Tensor, carry: Carry | undefined, key: Tensor) => {
    const [[loss, next], grads] = parts.gradients(params, inputs, targets, carry, key);
    const updated = parts.update(params, optState, grads);
    return [updated.params, updated.optState, next, loss] as const;
  };

  // CPU examples of the arguments, for tracing: the signature is all a trace reads
  const paramsExample = setup.params;
  const optExample = optimizer.init(paramsExample);
  const upload = (tree: unknown): OnGpu => {
    const leaves = treeLeaves(tree).map((leaf) => (leaf instanceof Tensor ? backend.upload(leaf.dataSync() as Float32Array | Int32Array) : leaf));
    return treeUnflatten(treeStructure(tree), leaves);
  };
  let params: OnGpu = upload(paramsExample);
  let optState: OnGpu = upload(optExample);
  let carry: OnGpu | undefined;
  let carryExample: Carry | undefined;
  let batch: GpuStorage[] = [];
  const programs = new Map<string, Compiled>();

  const compiled = (inputs: Tensor, targets: Tensor, key: Tensor): Compiled => {
    const signature = `${carry === undefined ? 'fresh' : 'carried'}:${inputs.shape.join('x')}`;
    let c = programs.get(signature);
    if (c === undefined) {
      const graph = optimize(trace(whole, paramsExample, optExample, inputs, targets, carry === undefined ? undefined : carryExample, key));
      c = { program: compileGraph(backend, graph, { float64: 'float32' }), graph };
      programs.set(signature, c);
      // the carried state's shapes, from the graph's results, for tracing the carried signature
      carryExample ??= exampleOf(graph, 2) as Carry;
    }
    return c;
  };

  return {
    description: `WebGPU (${compute.adapter})`,
    depth: 2,
    step: ({ step, window }) => {
      try {
        const { inputs, targets } = getBatch(setup.source, window * config.seqLen, config.seqLen);
        if (window === 0) carry = undefined;
        const key = stepKey(config.seed, step, SOLO);
        const { program, graph } = compiled(inputs, targets, key);
        for (const s of batch) backend.release(s);
        batch = [inputs, targets, key].map((t) => backend.upload(t.dataSync() as Int32Array));
        const given = new Map<Tensor, GpuStorage>([
          [inputs, batch[0]!],
          [targets, batch[1]!],
          [key, batch[2]!],
        ]);
        // the graph's inputs are the tensor leaves of the arguments, in tree order
        const leaves = treeLeaves([params, optState, inputs, targets, carry, key]);
        const outputs = program.run(
          leaves.filter((_, i) => typeof graph.inputLeaves[i] === 'number').map((leaf) => (leaf instanceof Tensor ? given.get(leaf)! : (leaf as GpuStorage))),
        );
        const [nextParams, nextOpt, nextCarry, loss] = resultOf(graph, outputs) as [OnGpu, OnGpu, OnGpu, GpuStorage];
        params = nextParams;
        optState = nextOpt;
        carry = nextCarry;
        // issued now, before the next step is encoded: the copy reads this step's loss whatever runs later
        return backend.read(loss).then((data) => data[0]!);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    params: async () => {
      const storages = treeLeaves(params) as GpuStorage[];
      const shapes = treeLeaves(paramsExample) as Tensor[];
      // every copy is submitted before the first await, so all read the same step's parameters
      const data = await Promise.all(storages.map((s) => backend.read(s)));
      return treeUnflatten(
        treeStructure(paramsExample),
        data.map((d, i) => tensor(d, { shape: shapes[i]!.shape, dtype: shapes[i]!.dtype })),
      ) as PlaygroundParams;
    },
    close: () => {
      for (const s of batch) backend.release(s);
      batch = [];
    },
  };
}

/** The step's result tree with each output's storage in place of its node. */
function resultOf(graph: Graph, outputs: readonly GpuStorage[]): unknown {
  let k = 0;
  const leaves = graph.outputLeaves.map((leaf) => (typeof leaf === 'number' ? outputs[k++]! : leaf.static));
  return treeUnflatten(graph.outputDef, leaves);
}

/** Zeros shaped like entry `index` of the step's result, as CPU tensors. */
function exampleOf(graph: Graph, index: number): unknown {
  const leaves = graph.outputLeaves.map((leaf) => {
    if (typeof leaf !== 'number') return leaf.static;
    const node = graph.nodes[leaf]!;
    return zeros(node.shape, node.dtype);
  });
  return (treeUnflatten(graph.outputDef, leaves) as unknown[])[index];
}
