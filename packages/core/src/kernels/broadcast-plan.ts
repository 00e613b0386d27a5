import type { StridedLayout } from '../backend/backend.js';
import type { Shape } from '../shape.js';
import { stridesOf } from '../shape.js';
import { broadcastIndex, stridedIndex } from './strided.js';

/**
 * How broadcast operands are walked by an elementwise kernel: the output is viewed as [outer, inner] rows,
 * where `inner` is the longest run of trailing axes over which every operand is either fully present
 * (stride 1) or fully broadcast (stride 0). Each operand's row start comes from a small per-row table, so
 * the hot loop is `o[r·inner + j] = f(a[aRow[r] + j·aStride], b[bRow[r] + j·bStride])`: no division, no
 * per-element index map. A bias add [N, H] + [H] is one row table of N entries and a stride-1 inner loop.
 */
export interface BroadcastPlan {
  readonly outer: number;
  readonly inner: number;
  /** Per operand: the offset of each outer row (null when there is a single row). */
  readonly rows: readonly (Int32Array | null)[];
  /** Per operand: 1 when it varies along the inner run, 0 when it is constant there. */
  readonly strides: readonly number[];
}

/**
 * Plans the walk of operands of the given shapes broadcast to `outShape` (shapes already validated). An
 * operand with a `layouts` entry is read through it; the inner run then only takes trailing axes along
 * which every such operand is contiguous, so its elements are still `j·stride` apart with stride 0 or 1.
 */
export function planBroadcast(shapes: readonly Shape[], outShape: Shape, layouts?: readonly (StridedLayout | null | undefined)[]): BroadcastPlan {
  const rank = outShape.length;
  const aligned = shapes.map((s) => [...new Array<number>(rank - s.length).fill(1), ...s]);
  // each operand's element strides along the output's axes: 0 where it broadcasts
  const elementStrides = shapes.map((s, i) => {
    const own = layouts?.[i]?.strides ?? stridesOf(s);
    const out = new Array<number>(rank).fill(0);
    for (let d = 0; d < s.length; d++) out[d + rank - s.length] = s[d] === 1 ? 0 : own[d]!;
    return out;
  });
  let modes: number[] | undefined;
  // per operand: the stride the next axis inward must have to extend the inner run contiguously
  const expected = shapes.map(() => 1);
  let split = rank;
  for (let d = rank - 1; d >= 0; d--) {
    if (outShape[d] === 1) {
      split = d;
      continue;
    }
    const here = aligned.map((s) => (s[d] === 1 ? 0 : 1));
    if (modes !== undefined && here.some((m, i) => m !== modes![i])) break;
    if (here.some((m, i) => m === 1 && elementStrides[i]![d] !== expected[i])) break;
    modes ??= here;
    for (let i = 0; i < shapes.length; i++) if (here[i] === 1) expected[i] = elementStrides[i]![d]! * outShape[d]!;
    split = d;
  }
  const strides = modes ?? shapes.map(() => 1);
  let inner = 1;
  for (let d = split; d < rank; d++) inner *= outShape[d]!;
  let outer = 1;
  for (let d = 0; d < split; d++) outer *= outShape[d]!;
  const outerShape = outShape.slice(0, split);
  const rows = aligned.map((s, i) => {
    if (outer === 1 && !layouts?.[i]) return null;
    const layout = layouts?.[i];
    if (layout) return stridedIndex(outerShape, elementStrides[i]!.slice(0, split), layout.offset);
    const table = broadcastIndex(s.slice(0, split), outerShape);
    if (strides[i] === 1 && inner !== 1) for (let r = 0; r < table.length; r++) table[r] = table[r]! * inner;
    return table;
  });
  return { outer, inner, rows, strides };
}
