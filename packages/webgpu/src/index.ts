/**
 * @tapestry/webgpu — the WebGPU backend of tapestry: a WGSL kernel for every primitive, fused elementwise
 * groups as generated kernels, and a compiled step encoded as one command buffer per call. Browser-safe: give
 * it `navigator.gpu`, or in Node the object `create([])` of the `webgpu` package returns.
 * @example
 * ```ts
 * import { webgpuDevice } from '@tapestry/webgpu';
 * const backend = await webgpuDevice({ gpu: navigator.gpu });
 * ```
 * @packageDocumentation
 */
export { webgpuDevice, type WebGpuDeviceOptions } from './device.js';
export { WebGpuBackend, type GpuStats, type GpuTypedArray } from './backend.js';
export { GpuStorage, type GpuDType } from './storage.js';
export type { DotRead, InputRead, OutputWrite } from './wgsl/elementwise.js';
export type { ReduceOp } from './wgsl/reduce.js';
export type { MatmulTiles } from './wgsl/matmul.js';
export { GpuProgram, compileGraph, type CompileGraphOptions } from './program.js';
export type { KernelTime } from './kernel-timer.js';
