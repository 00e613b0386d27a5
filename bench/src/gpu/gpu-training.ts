/**
 * Runs a char model's whole training step on the GPU: the step traced once into a graph, optimised by core's
 * passes, compiled by `@tapestry/webgpu` into one command buffer per call. Parameters and optimiser state stay
 * on the GPU between steps (each step's results are the next step's inputs); only the batch is uploaded, and
 * the loss is read only when asked.
 */
import { optimize, trace, treeLeaves, Tensor, type Graph } from '@tapestry/core';
import { compileGraph, type CompileGraphOptions, type GpuProgram, type GpuStorage, type KernelTime, type WebGpuBackend } from '@tapestry/webgpu';
import type { CharTraining } from './char-step.js';

/** A compiled training loop on one backend. */
export interface GpuTrainer {
  /** One step on a batch; returns the loss's storage (read it with `backend.read`, or ignore it). */
  step(ids: Tensor, targets: Tensor): GpuStorage;
  /** One step as `step` takes it, with each kernel timed on the GPU (the device needs timestamps). */
  timedStep(ids: Tensor, targets: Tensor): Promise<KernelTime[]>;
  /** The compiled program (its `dispatchesPerCall`, its graph). */
  readonly program: GpuProgram;
  /** The traced and optimised step, as the GPU compiler received it (before its own passes). */
  readonly graph: Graph;
}

/** Compiles `training`'s step for `backend`, traced with the example batch (`options` for the compiler's choices). */
export function gpuTrainer(backend: WebGpuBackend, training: CharTraining, ids: Tensor, targets: Tensor, options: CompileGraphOptions = {}): GpuTrainer {
  const graph = optimize(trace(training.step, training.params, training.optState, ids, targets));
  // Adam's bias corrections are float64 scalars on the CPU; WGSL has no f64
  const program = compileGraph(backend, graph, { ...options, float64: 'float32' });
  const stateLeaves = treeLeaves([training.params, training.optState]).filter((l): l is Tensor => l instanceof Tensor);
  if (graph.outputs.length !== 1 + stateLeaves.length) {
    throw new Error(`gpuTrainer: the step returns ${graph.outputs.length - 1} state tensors for ${stateLeaves.length} it takes`);
  }
  let state: GpuStorage[] = stateLeaves.map((t) => backend.upload(t.dataSync() as Float32Array | Int32Array));
  let batch: GpuStorage[] = [];
  const inputs = (x: Tensor, y: Tensor): GpuStorage[] => {
    for (const s of batch) backend.release(s);
    batch = [backend.upload(x.dataSync() as Float32Array | Int32Array), backend.upload(y.dataSync() as Int32Array)];
    return [...state, ...batch];
  };
  return {
    program,
    graph,
    step: (x, y) => {
      const [loss, ...next] = program.run(inputs(x, y));
      state = next;
      return loss!;
    },
    timedStep: async (x, y) => {
      const { results, times } = await program.timeKernels(inputs(x, y));
      state = results.slice(1);
      return times;
    },
  };
}
