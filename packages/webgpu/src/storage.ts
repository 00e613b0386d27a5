/// <reference types="@webgpu/types" />
/** GPU storage: a tensor's elements in a storage buffer, and the pool buffers come from and go back to. */
import { COPY_DST, COPY_SRC, STORAGE } from './buffer-usage.js';

/** The dtypes WGSL can hold: it has no f64. */
export type GpuDType = 'float32' | 'int32';

/** A tensor's elements on the GPU: a storage buffer (possibly larger than needed) holding `size` 32-bit elements. */
export class GpuStorage {
  /** @internal */
  constructor(
    /** The buffer (from the backend's pool). */
    readonly buffer: GPUBuffer,
    /** The element type. */
    readonly dtype: GpuDType,
    /** How many elements it holds. */
    readonly size: number,
    /** For a view (a compiled plan's value in part of a pooled buffer): the storage whose buffer it shares. */
    readonly owner: GpuStorage | null = null,
  ) {}
}

/**
 * Storage buffers by size class (powers of two up to 4 MiB, then multiples of 4 MiB). A released buffer
 * waits until the work already encoded has been submitted before another tensor may take it, so a later
 * upload (a queue write, which runs before any unsubmitted command) cannot overwrite what that work reads.
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private pending: GPUBuffer[] = [];
  /** Bytes held by buffers this pool created. */
  bytes = 0;

  constructor(private readonly device: GPUDevice) {}

  /** A buffer of at least `bytes` bytes. */
  take(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    if (list !== undefined && list.length > 0) return list.pop()!;
    this.bytes += size;
    return this.device.createBuffer({ size, usage: STORAGE | COPY_SRC | COPY_DST });
  }

  /** Gives a buffer back; it becomes reusable after the next submission. */
  give(buffer: GPUBuffer): void {
    this.pending.push(buffer);
  }

  /** Called after a submission: released buffers may be reused. */
  submitted(): void {
    for (const b of this.pending) {
      const list = this.free.get(b.size);
      if (list === undefined) this.free.set(b.size, [b]);
      else list.push(b);
    }
    this.pending = [];
  }

  /** Destroys every pooled buffer. */
  destroy(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
  }
}

const MIB4 = 4 * 1024 * 1024;

function sizeClass(bytes: number): number {
  const b = Math.max(16, bytes);
  if (b >= MIB4) return Math.ceil(b / MIB4) * MIB4;
  return 2 ** Math.ceil(Math.log2(b));
}
