/**
 * Where the model runs: `cpu` (core's backend, on one or more threads) or `webgpu` (@tapestry/webgpu, in Node
 * through the `webgpu` package: a real GPU, or Mesa's llvmpipe where there is none). Training state moves
 * between the two with `devicePut` / `deviceGet`; checkpoints are always written from host copies, so a run
 * saved on one device resumes or samples on the other.
 */
import { cpu, deviceGet, devicePut, type Backend } from '@tapestry/core';
import { webgpuDevice } from '@tapestry/webgpu';
import type { TrainingState } from './training.js';

/** The devices `--device` accepts. */
export const DEVICES = ['cpu', 'webgpu'] as const;
/** A device name. */
export type DeviceName = (typeof DEVICES)[number];

/** Dawn's instance: it must stay referenced while its devices are in use, or the process crashes later. */
let gpu: GPU | null = null;

/** Opens `name`: the CPU as it is, or the first WebGPU adapter (an error saying so when there is none). */
export async function openDevice(name: DeviceName): Promise<Backend> {
  if (name === 'cpu') return cpu;
  // Dawn's Vulkan loader wants a runtime directory; a bare container has none
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  // loaded on demand: a CPU run never starts Dawn
  gpu ??= (await import('webgpu')).create([]) as GPU;
  if ((await gpu.requestAdapter()) === null) {
    throw new Error(
      'char-rnn: --device webgpu found no WebGPU adapter (no GPU and no Vulkan driver; on Linux without a GPU, ' +
        "Mesa's llvmpipe provides one: .ci/install-gpu-drivers.sh installs it); use --device cpu",
    );
  }
  return webgpuDevice({ gpu });
}

/**
 * The threads to train on: `--threads` applies to the CPU only. Unset, it is 2 on the CPU and 1 on the GPU;
 * more than one thread with the GPU is refused (each thread would need its own device and the gradients a
 * trip through host memory per step, which is slower than the one device alone).
 */
export function threadsFor(device: DeviceName, threads: number | undefined): number {
  if (device === 'cpu') return threads ?? 2;
  if (threads !== undefined && threads !== 1) {
    throw new Error(`char-rnn: --threads ${threads} applies to --device cpu only; --device webgpu trains on one thread (drop --threads)`);
  }
  return 1;
}

/** The run's tensors (parameters, optimiser state, carried state) placed on `device`. */
export function placeState(state: TrainingState, device: Backend): TrainingState {
  const { params, optState, carry } = devicePut({ params: state.params, optState: state.optState, carry: state.carry }, device);
  return { ...state, params, optState, carry };
}

/** The run's tensors copied back to the CPU (for a checkpoint), once the device's pending work is done. */
export async function stateOnHost(state: TrainingState): Promise<TrainingState> {
  const { params, optState, carry } = await deviceGet({ params: state.params, optState: state.optState, carry: state.carry });
  return { ...state, params, optState, carry };
}
