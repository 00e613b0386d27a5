/**
 * Strided copies as runs of contiguous elements: the one algorithm behind slice, pad, transpose and
 * broadcastTo, and behind slice's in-place gradient. A scan's step slice of a [T, N, F] sequence is one run;
 * a transpose whose innermost axis stays innermost is a run per row.
 */
import type { TensorData } from '../dtype.js';
import type { Shape } from '../shape.js';
import { binaryRange } from './elementwise.js';
import { stridedIndex } from './strided.js';
import { copyRowsWasm, WASM_MIN_ELEMENTS } from './wasm/elementwise-wasm.js';

/**
 * Contiguous runs at least this long are copied with `TypedArray.set` rather than element by element: for a
 * char-RNN step's concats (runs of 256 floats and whole [32, 1024] blocks) it is 5–15 times faster, while for
 * runs of a few elements creating the subarray costs more than it saves.
 */
export const COPY_RUN_MIN = 16;

/**
 * A strided view as runs: run r covers `length` elements from `starts[r]` (the innermost axis is contiguous
 * in the source), or single elements when it is not.
 */
export interface Runs {
  /** Where each run starts. */
  readonly starts: Int32Array;
  /** Elements per run. */
  readonly length: number;
  /**
   * The runs cut into maximal blocks of one stride, as triples (first run, runs, stride): the rows of a
   * 3-D transpose [N, T, F] → [T, N, F] are T blocks of N runs `T·F` apart; the rows of a 2-D view, one block.
   */
  readonly blocks: Int32Array;
}

/** `starts` as {@link Runs} of `length`, cut into blocks of one stride. */
function runs(starts: Int32Array, length: number): Runs {
  const blocks: number[] = [];
  for (let first = 0; first < starts.length;) {
    const stride = first + 1 < starts.length ? starts[first + 1]! - starts[first]! : 0;
    let end = first + 1;
    while (end < starts.length && starts[end]! - starts[end - 1]! === stride) end++;
    blocks.push(first, end - first, stride);
    first = end;
  }
  return { starts, length, blocks: Int32Array.from(blocks) };
}

/**
 * The runs of a view of shape `shape` with per-axis `strides` from `base`. Trailing axes the view spans
 * whole (their strides are those of a contiguous array) merge into one run.
 */
export function runsOf(shape: Shape, strides: readonly number[], base: number): Runs {
  let rank = shape.length;
  if (rank === 0) return runs(Int32Array.of(base), 1);
  if (strides[rank - 1] !== 1) return runs(stridedIndex(shape, strides, base), 1);
  let length = shape[rank - 1]!;
  // merge axis k into the run while it is laid out right before the run (stride = the run's length)
  while (rank > 1 && strides[rank - 2] === length) {
    length *= shape[rank - 2]!;
    rank--;
  }
  return runs(stridedIndex(shape.slice(0, rank - 1), strides.slice(0, rank - 1), base), length);
}

let wholeBuffer: ArrayBufferLike | null = null;
let wholeView: TensorData | null = null;

/**
 * A view of the whole buffer of `o` with `o`'s element type, when `x` shares that buffer and type (two
 * buffers of one compiled plan, which live in one WebAssembly memory): runs between them are copied with
 * `copyWithin` at buffer-wide indices, about twice as fast for runs of a few hundred elements as
 * `set(subarray(…))`, which creates a view per run. Null otherwise.
 */
export function sharedView(x: TensorData, o: TensorData): TensorData | null {
  if (x.buffer !== o.buffer || x.constructor !== o.constructor) return null;
  if (wholeBuffer !== o.buffer || wholeView === null || wholeView.constructor !== o.constructor) {
    const type = o.constructor as Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor;
    wholeView = new type(o.buffer as ArrayBuffer, 0, Math.floor(o.buffer.byteLength / o.BYTES_PER_ELEMENT));
    wholeBuffer = o.buffer;
  }
  return wholeView;
}

/**
 * Whether runs this long between two buffers of one compiled plan are copied by one WebAssembly call per block
 * of one stride ({@link copyRowsWasm}) rather than a `copyWithin` per run: from runs of a cache line or so on,
 * where the per-run cost dominates, and while blocks average at least two runs.
 */
const isRowCopy = (length: number, runCount: number, blockCount: number): boolean => length >= COPY_RUN_MIN && runCount >= 2 * blockCount;

/** Copies the runs of x into o (contiguous) or o's runs from x (contiguous) by blocks, in WebAssembly; false where it cannot. */
function copyBlocksWasm(x: TensorData, o: TensorData, { starts, length, blocks }: Runs, gather: boolean): boolean {
  for (let b = 0; b < blocks.length; b += 3) {
    const first = blocks[b]!;
    const count = blocks[b + 1]!;
    const stride = blocks[b + 2]!;
    const copied = gather
      ? copyRowsWasm(x, starts[first]!, stride, o, first * length, length, count, length)
      : copyRowsWasm(x, first * length, length, o, starts[first]!, stride, count, length);
    // only the first block can fail: the rest share its buffers
    if (!copied) return false;
  }
  return true;
}

/** o (contiguous) ← the runs of x. */
export function gatherRuns(x: TensorData, o: TensorData, runs: Runs): void {
  const { starts, length } = runs;
  if (isRowCopy(length, starts.length, runs.blocks.length / 3) && copyBlocksWasm(x, o, runs, true)) return;
  if (length >= COPY_RUN_MIN) {
    const whole = sharedView(x, o);
    if (whole !== null) {
      const xAt = x.byteOffset / x.BYTES_PER_ELEMENT;
      const oAt = o.byteOffset / o.BYTES_PER_ELEMENT;
      for (let r = 0; r < starts.length; r++) whole.copyWithin(oAt + r * length, xAt + starts[r]!, xAt + starts[r]! + length);
      return;
    }
    for (let r = 0; r < starts.length; r++) o.set(x.subarray(starts[r]!, starts[r]! + length), r * length);
    return;
  }
  let k = 0;
  for (let r = 0; r < starts.length; r++) {
    const s = starts[r]!;
    for (let j = 0; j < length; j++) o[k++] = x[s + j]!;
  }
}

/** The runs of o ← x (contiguous). */
export function scatterRuns(x: TensorData, o: TensorData, runs: Runs): void {
  const { starts, length } = runs;
  if (isRowCopy(length, starts.length, runs.blocks.length / 3) && copyBlocksWasm(x, o, runs, false)) return;
  if (length >= COPY_RUN_MIN) {
    const whole = sharedView(x, o);
    if (whole !== null) {
      const xAt = x.byteOffset / x.BYTES_PER_ELEMENT;
      const oAt = o.byteOffset / o.BYTES_PER_ELEMENT;
      for (let r = 0; r < starts.length; r++) whole.copyWithin(oAt + starts[r]!, xAt + r * length, xAt + (r + 1) * length);
      return;
    }
    for (let r = 0; r < starts.length; r++) o.set(x.subarray(r * length, (r + 1) * length), starts[r]!);
    return;
  }
  let k = 0;
  for (let r = 0; r < starts.length; r++) {
    const s = starts[r]!;
    for (let j = 0; j < length; j++) o[s + j] = x[k++]!;
  }
}

/** The runs of acc += g (contiguous): the in-place transpose of {@link gatherRuns}. */
export function addRuns(g: TensorData, acc: TensorData, { starts, length }: Runs): void {
  let k = 0;
  for (let r = 0; r < starts.length; r++) {
    const s = starts[r]!;
    // long runs go through the add row loop, which runs them on SIMD where it can (same bits)
    if (length >= WASM_MIN_ELEMENTS) binaryRange('add', acc, s, 1, g, k, 1, acc, s, length);
    else for (let j = 0; j < length; j++) acc[s + j]! += g[k + j]!;
    k += length;
  }
}
