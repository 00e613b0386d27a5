/**
 * The static memory plan: every intermediate value gets a buffer for the steps it is live in (from the step
 * that writes it to the last step that reads it or a reshape of it), and buffers are reused by liveness, so
 * a compiled graph allocates its working memory once. Inputs, constants and results are not pooled:
 * results get fresh storage each call because callers keep them.
 */
import type { DType } from '../dtype.js';
import { sizeOf } from '../shape.js';
import type { Graph } from './graph.js';
import type { Schedule } from './schedule.js';

/** One buffer of the plan. */
interface PlannedBuffer {
  /** Its element type. */
  readonly dtype: DType;
  /** Its length in elements: the largest value it holds. */
  size: number;
}

/** Which buffer holds each pooled value, and when each value is live. */
export interface MemoryPlan {
  /** The buffers to allocate once. */
  readonly buffers: readonly PlannedBuffer[];
  /** Per node: its buffer's index, or -1 (not pooled: input, constant, result, register, alias). */
  readonly bufferOf: Int32Array;
  /** Per node: the step that writes it (-1 when no step does). */
  readonly defined: Int32Array;
  /** Per node: the last step that reads it or an alias of it (its definition when nothing does). */
  readonly lastUse: Int32Array;
}

/**
 * Assigns buffers in step order: before a step runs, each value it writes takes the smallest free buffer
 * of its dtype that fits (or a new one); after it, the buffers of values read for the last time are freed.
 * A step's outputs are allocated before its inputs are freed, so no kernel writes over what it reads.
 */
export function planMemory(graph: Graph, schedule: Schedule): MemoryPlan {
  const n = graph.nodes.length;
  const defined = new Int32Array(n).fill(-1);
  const lastUse = new Int32Array(n).fill(-1);
  // a concat whose inputs are computed into it is written by each of their steps: defined at the first
  schedule.writes.forEach((ids, s) =>
    ids.forEach((id) => {
      if (defined[id]! < 0) defined[id] = s;
      if (s > lastUse[id]!) lastUse[id] = s;
    }),
  );
  schedule.reads.forEach((ids, s) =>
    ids.forEach((id) => {
      if (s > lastUse[id]!) lastUse[id] = s;
    }),
  );

  const buffers: PlannedBuffer[] = [];
  const bufferOf = new Int32Array(n).fill(-1);
  const free: number[] = [];
  const dying: number[][] = schedule.steps.map(() => []);
  for (let s = 0; s < schedule.steps.length; s++) {
    for (const id of schedule.writes[s]!) {
      if (schedule.storage[id] !== 'pooled' || bufferOf[id]! >= 0) continue;
      const node = graph.nodes[id]!;
      const size = sizeOf(node.shape);
      let best = -1;
      for (let f = 0; f < free.length; f++) {
        const b = buffers[free[f]!]!;
        if (b.dtype === node.dtype && b.size >= size && (best < 0 || b.size < buffers[free[best]!]!.size)) best = f;
      }
      if (best >= 0) bufferOf[id] = free.splice(best, 1)[0]!;
      else {
        bufferOf[id] = buffers.length;
        buffers.push({ dtype: node.dtype, size });
      }
      dying[lastUse[id]!]!.push(id);
    }
    for (const id of dying[s]!) free.push(bufferOf[id]!);
  }
  return { buffers, bufferOf, defined, lastUse };
}
