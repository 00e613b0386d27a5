/**
 * What this browser offers a run: threads that share memory (a cross-origin-isolated page) and a WebGPU
 * adapter. Probed in the training worker, where the run will use them.
 */
import { defaultThreads } from './config.js';
import type { Capabilities } from './messages.js';

/** The adapter in words: its description, else vendor and architecture. */
export function describeAdapter(adapter: GPUAdapter): string {
  const { description, vendor, architecture } = adapter.info;
  const name = description || [vendor, architecture].filter((s) => s).join(' ') || 'unnamed adapter';
  return isSoftware(adapter) ? `${name}, a software adapter` : name;
}

/** Whether an adapter runs on the CPU (SwiftShader, llvmpipe): correct, but slower than training on the CPU directly. */
export function isSoftware(adapter: GPUAdapter): boolean {
  return adapter.info.isFallbackAdapter === true || /swiftshader|llvmpipe|software/i.test(`${adapter.info.architecture} ${adapter.info.description}`);
}

/** Probes the worker's environment. */
export async function probeCapabilities(scope: { navigator: Navigator; crossOriginIsolated?: boolean }): Promise<Capabilities> {
  const cores = Math.max(1, scope.navigator.hardwareConcurrency || 1);
  const isolated = scope.crossOriginIsolated === true;
  const threadsNote = isolated
    ? `${cores} logical cores; threads share memory (the page is cross-origin isolated)`
    : 'one thread: the page is not cross-origin isolated, so threads cannot share memory (serve it with the COOP/COEP headers in the README)';
  let gpu = false;
  let gpuNote: string;
  let software = true;
  const api = (scope.navigator as Navigator & { gpu?: GPU }).gpu;
  if (api === undefined) {
    gpuNote = 'this browser has no WebGPU (navigator.gpu is missing)';
  } else {
    const adapter = await api.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
    if (adapter === null) {
      gpuNote = 'navigator.gpu gave no adapter (no GPU, or WebGPU is turned off for it)';
    } else {
      gpu = true;
      software = isSoftware(adapter);
      gpuNote = describeAdapter(adapter);
    }
  }
  return {
    cores,
    crossOriginIsolated: isolated,
    maxThreads: isolated ? cores : 1,
    defaultThreads: defaultThreads(cores, isolated),
    threadsNote,
    gpu,
    gpuNote,
    // a software adapter computes on the CPU too, through a GPU's indirections: the CPU stays the default
    defaultDevice: gpu && !software ? 'webgpu' : 'cpu',
  };
}
