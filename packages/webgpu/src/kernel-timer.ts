/// <reference types="@webgpu/types" />
/**
 * GPU time per kernel, from timestamp queries: while a timer is active the backend gives every dispatch a
 * compute pass of its own whose start and end the GPU stamps (`timestampWrites`), labels it with what the
 * caller is running, and afterwards resolves the stamps into milliseconds. One pass per dispatch adds a little
 * to each kernel's cost (the GPU drains between passes), so the times say where a step's GPU time goes, not
 * what the step costs as one pass.
 */

import { COPY_DST, COPY_SRC, MAP_READ, QUERY_RESOLVE } from './buffer-usage.js';

/** Timestamps per query set (WebGPU caps a set at 4096 queries): two per dispatch. */
const QUERIES_PER_SET = 4096;

/** One dispatch's time on the GPU. */
export interface KernelTime {
  /** What the dispatch ran: the label set when it was encoded (a {@link GpuProgram}'s kind of kernel). */
  readonly kernel: string;
  /** From the start of its pass to the end, in milliseconds. */
  readonly ms: number;
}

/** The timer of one timed stretch of encoding (see the module description). */
export class KernelTimer {
  private readonly sets: GPUQuerySet[] = [];
  private readonly labels: string[] = [];
  /** The label given to the dispatches encoded from now on. */
  label = 'kernel';

  constructor(private readonly device: GPUDevice) {}

  /** The timestamp writes of the next dispatch's pass (creating a query set when the last is full). */
  nextPass(): GPUComputePassTimestampWrites {
    const k = this.labels.length;
    this.labels.push(this.label);
    const slot = (2 * k) % QUERIES_PER_SET;
    if (slot === 0) this.sets.push(this.device.createQuerySet({ type: 'timestamp', count: QUERIES_PER_SET }));
    return { querySet: this.sets[this.sets.length - 1]!, beginningOfPassWriteIndex: slot, endOfPassWriteIndex: slot + 1 };
  }

  /**
   * Encodes the resolution of every stamp into `encoder` (after the last timed pass has ended); once that
   * work is submitted, `read` gives the times in encoding order.
   */
  resolve(encoder: GPUCommandEncoder): { read: () => Promise<KernelTime[]> } {
    const count = this.labels.length;
    if (count === 0) return { read: () => Promise.resolve([]) };
    const bytes = 2 * count * 8;
    const resolved = this.device.createBuffer({ size: bytes, usage: QUERY_RESOLVE | COPY_SRC });
    const staging = this.device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
    this.sets.forEach((set, s) => {
      const queries = Math.min(QUERIES_PER_SET, 2 * count - s * QUERIES_PER_SET);
      encoder.resolveQuerySet(set, 0, queries, resolved, s * QUERIES_PER_SET * 8);
    });
    encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
    return {
      read: async () => {
        try {
          await staging.mapAsync(MAP_READ);
          const stamps = new BigInt64Array(staging.getMappedRange(0, bytes).slice(0));
          staging.unmap();
          // nanoseconds; a device may stamp passes it runs back to back in either order, so never below 0
          return this.labels.map((kernel, k) => ({ kernel, ms: Math.max(0, Number(stamps[2 * k + 1]! - stamps[2 * k]!)) / 1e6 }));
        } finally {
          staging.destroy();
          resolved.destroy();
          for (const set of this.sets) set.destroy();
        }
      },
    };
  }
}
