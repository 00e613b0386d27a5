/**
 * Training on the GPU with `@tapestry/webgpu`: the same step as one CPU thread's (step.ts's `soloStep`: the
 * whole step `jit`-compiled, donating the parameters, the optimiser state and the carried state), run over
 * tensors placed on the GPU with `devicePut`. `jit` compiles it with the backend's own compiler into one
 * command buffer per call. The parameters, the optimiser state and the carried state stay on the GPU from
 * step to step; only a window's ids and the dropout key are uploaded, and the loss is read back
 * asynchronously, one step behind (the engine's depth 2), so the GPU runs a step while the next is encoded.
 */
import { deviceGet, devicePut } from '@tapestry/core';
import { getBatch } from '@tapestry/data';
import type { WebGpuBackend } from '@tapestry/webgpu';
import type { TrainingEngine } from './engine.js';
import { playgroundModel, type Carry, type PlaygroundParams } from './model.js';
import type { ReplicaSetup } from './replica.js';
import { playgroundOptimizer, soloStep, stepKey, stepParts } from './step.js';

/** How the GPU trains. */
export interface GpuCompute {
  readonly device: 'webgpu';
  /** The backend, from `webgpuDevice({ gpu: navigator.gpu })`. */
  readonly backend: WebGpuBackend;
  /** The adapter, in words, for the page. */
  readonly adapter: string;
}

const SOLO = { index: 0, threads: 1 } as const;

/** The model's step on `compute.backend`; the first step of each signature (fresh or carried state) compiles it. */
export function gpuEngine(compute: GpuCompute, setup: ReplicaSetup): TrainingEngine {
  const { backend } = compute;
  const { config } = setup;
  const optimizer = playgroundOptimizer(config);
  const step = soloStep(stepParts(playgroundModel(config, setup.vocabSize), optimizer));
  // the optimiser's state is made where the parameters live (its step counts included)
  let params: PlaygroundParams = devicePut(setup.params, backend);
  let optState: unknown = optimizer.init(params);
  let carry: Carry | undefined;

  return {
    description: `WebGPU (${compute.adapter})`,
    depth: 2,
    step: ({ step: count, window }) => {
      try {
        const { inputs, targets } = devicePut(getBatch(setup.source, window * config.seqLen, config.seqLen), backend);
        if (window === 0) carry = undefined;
        const key = devicePut(stepKey(config.seed, count, SOLO), backend);
        const result = step(params, optState, inputs, targets, carry, key);
        ({ params, optState } = result);
        carry = result.aux;
        // issued now, before the next step is encoded: the copy reads this step's loss whatever runs later
        return result.loss.data().then((data) => data[0]!);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    // every copy is issued before the first await, so all read the same step's parameters
    params: () => deviceGet(params),
    close: () => {},
  };
}
