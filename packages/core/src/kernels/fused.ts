/**
 * The fused elementwise kernel: interprets a small program (one instruction per group member) over the
 * group's output in chunks of a row. Values only the group reads live in chunk-sized registers; the
 * others are written straight into their buffers. No code is generated (no `new Function`), so it runs
 * under a strict Content-Security-Policy. Each instruction calls the same row functions as the eager kernels,
 * into registers of the member's dtype, so results round exactly as eager execution does.
 */
import type { FusedProgram, FusedRun } from '../backend/backend.js';
import type { DType, TensorData } from '../dtype.js';
import { planBroadcast, type BroadcastPlan } from './broadcast-plan.js';
import { cpuKernels, type Row1, type Row2, type Row3, type RowKernel } from './cpu-kernels.js';
import { CHUNK, type RegisterFile } from './registers.js';

interface Member {
  readonly arity: 1 | 2 | 3;
  readonly row: Row1 | Row2 | Row3;
  readonly operands: readonly number[];
  /** Where the member's value goes: its index among the stored outputs, or -1 for a register. */
  readonly output: number;
  readonly dtype: DType;
}

/**
 * How many whole rows of a broadcast plan one chunk can take (1: chunks are parts of one row). Rows batch
 * when every operand is, row after row, either the next row of a contiguous array or the same row (a bias
 * [H] added to [N, H]) or the same scalar: then `k` consecutive rows are `k·inner` contiguous elements of the
 * output and of each contiguous operand, and a repeated row is read from a register holding it `k` times. A
 * bias add over rows of 512 then runs as a few calls of 4096 elements instead of a call per row (and rows
 * shorter than the SIMD kernels' minimum reach them at all).
 */
export function rowsPerChunk({ outer, inner, rows, strides }: BroadcastPlan): number {
  if (outer < 2 || 2 * inner > CHUNK) return 1;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k]!;
    const contiguous = strides[k] === 1 && row.every((offset, r) => offset === r * inner);
    if (!isRepeated(row) && !contiguous) return 1;
  }
  return Math.min(outer, Math.floor(CHUNK / inner));
}

/**
 * Plans the kernel of a fused group over the CPU kernels' row functions. External inputs broadcast to the
 * group's shape; stored members are written straight into their storage, the others live in registers.
 */
export function planFused(program: FusedProgram, registers: RegisterFile): FusedRun {
  const plan = planBroadcast(program.inputs.map((x) => x.shape), program.shape);
  const { inner, rows, strides } = plan;
  const batch = rowsPerChunk(plan);
  const width = batch > 1 ? batch * inner : Math.min(inner, CHUNK);
  const counts: Partial<Record<DType, number>> = {};
  const nextRegister = (dtype: DType): TensorData => {
    const k = counts[dtype] ?? 0;
    counts[dtype] = k + 1;
    return registers.get(dtype, k).subarray(0, width);
  };
  let stored = 0;
  const members: Member[] = program.instructions.map((ins) => {
    const kernel = cpuKernels[ins.op] as RowKernel<typeof ins.op>;
    const output = { shape: program.shape, dtype: ins.dtype };
    return { arity: kernel.arity, row: kernel.row(ins.attrs as never, output), operands: ins.operands, output: ins.stored ? stored++ : -1, dtype: ins.dtype };
  });
  const own = members.map((m) => (m.output >= 0 ? null : nextRegister(m.dtype)));
  // batched rows: an operand that repeats one row along the rows is read from a register holding it `batch` times
  const tiles = program.inputs.map((x, k) => (batch > 1 && strides[k] === 1 && isRepeated(rows[k]!) ? nextRegister(x.dtype) : null));
  const tileFrom = rows.map((row) => (row === null ? 0 : row[0]!));
  const chunks = chunkTable(plan, batch, width);
  const inputCount = program.inputs.length;
  const count = members.length;
  const memberArrays: TensorData[] = new Array(count);
  const sources: TensorData[] = new Array(inputCount);
  // Int32Array: offsets stay small integers, so the row loops index with integer arithmetic
  const inputOffsets = new Int32Array(inputCount);
  return (inputs, outputs) => {
    for (let k = 0; k < inputCount; k++) {
      const tile = tiles[k]!;
      const x = inputs[k] as TensorData;
      if (tile === null) {
        sources[k] = x;
        continue;
      }
      // the repeated row, `batch` times: one copy, then doubling
      tile.set(x.subarray(tileFrom[k]!, tileFrom[k]! + inner), 0);
      for (let have = inner; have < width; have *= 2) tile.copyWithin(have, 0, Math.min(have, width - have));
      sources[k] = tile;
    }
    for (let m = 0; m < count; m++) {
      const out = members[m]!.output;
      memberArrays[m] = out < 0 ? own[m]! : (outputs[out] as TensorData);
    }
    const { at: chunkAt, length: chunkLength, offsets } = chunks;
    for (let c = 0; c < chunkAt.length; c++) {
      const at = chunkAt[c]!;
      const n = chunkLength[c]!;
      for (let k = 0; k < inputCount; k++) inputOffsets[k] = offsets[c * inputCount + k]!;
      for (let m = 0; m < count; m++) {
        const member = members[m]!;
        const o = member.operands;
        const dst = memberArrays[m]!;
        const dOff = member.output < 0 ? 0 : at;
        const a0 = o[0]!;
        const x0 = a0 >= 0 ? sources[a0]! : memberArrays[-a0 - 1]!;
        const o0 = a0 >= 0 ? inputOffsets[a0]! : memberOffset(members, a0, at);
        const s0 = a0 >= 0 ? strides[a0]! : 1;
        if (member.arity === 1) {
          (member.row as Row1)(x0, o0, s0, dst, dOff, n);
          continue;
        }
        const a1 = o[1]!;
        const x1 = a1 >= 0 ? sources[a1]! : memberArrays[-a1 - 1]!;
        const o1 = a1 >= 0 ? inputOffsets[a1]! : memberOffset(members, a1, at);
        const s1 = a1 >= 0 ? strides[a1]! : 1;
        if (member.arity === 2) {
          (member.row as Row2)(x0, o0, s0, x1, o1, s1, dst, dOff, n);
          continue;
        }
        const a2 = o[2]!;
        const x2 = a2 >= 0 ? sources[a2]! : memberArrays[-a2 - 1]!;
        const o2 = a2 >= 0 ? inputOffsets[a2]! : memberOffset(members, a2, at);
        (member.row as Row3)(x0, o0, s0, x1, o1, s1, x2, o2, a2 >= 0 ? strides[a2]! : 1, dst, dOff, n);
      }
    }
  };
}

/** The chunks a fused kernel runs: where each starts in the output, how long it is, and each input's offset. */
interface ChunkTable {
  readonly at: Int32Array;
  readonly length: Int32Array;
  /** Chunk c's offset of input k at `c · inputs + k`. */
  readonly offsets: Int32Array;
}

/**
 * The chunks of `width` elements: parts of one row each, or with `batch` > 1 (see {@link rowsPerChunk}) runs
 * of `batch` whole rows, in which a contiguous operand is read from the chunk's start, a repeated row from its
 * register (offset 0) and a scalar from its one place.
 */
function chunkTable({ outer, inner, rows, strides }: BroadcastPlan, batch: number, width: number): ChunkTable {
  const inputs = rows.length;
  const perRow = batch > 1 || width === 0 ? 0 : Math.ceil(inner / width);
  const total = batch > 1 ? Math.ceil(outer / batch) : outer * perRow;
  const at = new Int32Array(total);
  const length = new Int32Array(total);
  const offsets = new Int32Array(total * inputs);
  let c = 0;
  if (batch > 1) {
    for (let r = 0; r < outer; r += batch, c++) {
      at[c] = r * inner;
      length[c] = Math.min(batch, outer - r) * inner;
      for (let k = 0; k < inputs; k++) {
        const row = rows[k]!;
        offsets[c * inputs + k] = !isRepeated(row) ? r * inner : strides[k] === 1 ? 0 : row[0]!;
      }
    }
  } else {
    for (let r = 0; r < outer; r++) {
      for (let start = 0; start < inner; start += width, c++) {
        at[c] = r * inner + start;
        length[c] = Math.min(width, inner - start);
        for (let k = 0; k < inputs; k++) offsets[c * inputs + k] = (rows[k] === null ? 0 : rows[k]![r]!) + start * strides[k]!;
      }
    }
  }
  return { at, length, offsets };
}

/** Whether a row table starts every row at one place (the operand repeats one row, or one scalar, along the rows). */
function isRepeated(row: Int32Array): boolean {
  return row.every((offset) => offset === row[0]);
}

/** Where member `-(operand + 1)`'s current chunk starts: 0 in its register, `at` in its storage. */
function memberOffset(members: readonly Member[], operand: number, at: number): number {
  return members[-operand - 1]!.output < 0 ? 0 : at;
}
