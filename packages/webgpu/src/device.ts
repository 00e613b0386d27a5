/// <reference types="@webgpu/types" />
import { ArgumentError, describeValue } from '@tapestry/core';
import { WebGpuBackend } from './backend.js';
import type { MatmulTiles } from './wgsl/matmul.js';

/** Options of {@link webgpuDevice}. */
export interface WebGpuDeviceOptions {
  /**
   * The WebGPU entry point: `navigator.gpu` in a browser; in Node, the object `create([])` of the `webgpu`
   * package returns (keep it; the backend holds it for the device's life).
   */
  readonly gpu: GPU;
  /** Which adapter to ask for (default: high-performance). */
  readonly powerPreference?: GPUPowerPreference;
  /**
   * Keep kernel loops rolled (see {@link WebGpuBackend.compact}); by default only on a software adapter, where
   * shader compilation dominates.
   */
  readonly compact?: boolean;
  /** How matmul kernels lay out each thread's block (see {@link MatmulTiles}); default `vector`. */
  readonly matmulTiles?: MatmulTiles;
}

/**
 * Opens a WebGPU device and returns the tapestry backend that runs on it. Rejects with an error naming the
 * cause when no adapter exists (in Node on a machine without a GPU: install a Vulkan driver such as Mesa's
 * llvmpipe).
 * @example
 * ```ts
 * const gpu = await webgpuDevice({ gpu: navigator.gpu });
 * ```
 */
export async function webgpuDevice(options: WebGpuDeviceOptions): Promise<WebGpuBackend> {
  const gpu = options?.gpu;
  if (gpu === undefined || gpu === null || typeof gpu.requestAdapter !== 'function') {
    throw new ArgumentError('webgpuDevice: options.gpu must be a GPU object (navigator.gpu, or create([]) from the webgpu package in Node)');
  }
  const tiles = options.matmulTiles;
  if (tiles !== undefined && tiles !== 'vector' && tiles !== 'scalar') {
    throw new ArgumentError(`webgpuDevice: options.matmulTiles must be 'vector' or 'scalar', got ${describeValue(tiles)}`);
  }
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (adapter === null) throw new ArgumentError('webgpuDevice: no WebGPU adapter is available (no GPU, or no Vulkan/Metal/D3D12 driver)');
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    // GPU timestamps, for WebGpuBackend.timeKernels, where the adapter has them
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    requiredLimits: {
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
    },
  });
  const software = adapter.info.isFallbackAdapter === true || adapter.info.architecture === 'software';
  return new WebGpuBackend(device, gpu, options.compact ?? software, tiles ?? 'vector');
}
