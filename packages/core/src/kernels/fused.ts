/**
 * The fused elementwise kernel: interprets a small program (one instruction per group member) over the
 * group's output in chunks of a row. Values only the group reads live in chunk-sized registers; the
 * others are written straight into their buffers. No code is generated (no `new Function`), so it runs
 * under a strict Content-Security-Policy. Each instruction calls the same row functions as the eager kernels,
 * into registers of the member's dtype, so results round exactly as eager execution does.
 */
import type { FusedProgram, FusedRun } from '../backend/backend.js';
import type { DType, TensorData } from '../dtype.js';
import { planBroadcast } from './broadcast-plan.js';
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
 * Plans the kernel of a fused group over the CPU kernels' row functions. External inputs broadcast to the
 * group's shape; stored members are written straight into their storage, the others live in registers.
 */
export function planFused(program: FusedProgram, registers: RegisterFile): FusedRun {
  const { outer, inner, rows, strides } = planBroadcast(program.inputs.map((x) => x.shape), program.shape);
  const width = Math.min(inner, CHUNK);
  const counts: Partial<Record<DType, number>> = {};
  let stored = 0;
  const members: Member[] = program.instructions.map((ins) => {
    const kernel = cpuKernels[ins.op] as RowKernel<typeof ins.op>;
    const output = { shape: program.shape, dtype: ins.dtype };
    return { arity: kernel.arity, row: kernel.row(ins.attrs as never, output), operands: ins.operands, output: ins.stored ? stored++ : -1, dtype: ins.dtype };
  });
  const own = members.map((m) => {
    if (m.output >= 0) return null;
    const k = counts[m.dtype] ?? 0;
    counts[m.dtype] = k + 1;
    return registers.get(m.dtype, k).subarray(0, width);
  });
  const count = members.length;
  const memberArrays: TensorData[] = new Array(count);
  // Int32Array: offsets stay small integers, so the row loops index with integer arithmetic
  const inputOffsets = new Int32Array(program.inputs.length);
  return (inputs, outputs) => {
    const inputArrays = inputs as readonly TensorData[];
    for (let m = 0; m < count; m++) {
      const out = members[m]!.output;
      memberArrays[m] = out < 0 ? own[m]! : (outputs[out] as TensorData);
    }
    for (let r = 0; r < outer; r++) {
      const base = r * inner;
      for (let start = 0; start < inner; start += width) {
        const n = Math.min(width, inner - start);
        for (let k = 0; k < inputOffsets.length; k++) {
          const row = rows[k]!;
          inputOffsets[k] = (row === null ? 0 : row[r]!) + start * strides[k]!;
        }
        const at = base + start;
        for (let m = 0; m < count; m++) {
          const member = members[m]!;
          const o = member.operands;
          const dst = memberArrays[m]!;
          const dOff = member.output < 0 ? 0 : at;
          const a0 = o[0]!;
          const x0 = a0 >= 0 ? inputArrays[a0]! : memberArrays[-a0 - 1]!;
          const o0 = a0 >= 0 ? inputOffsets[a0]! : memberOffset(members, a0, at);
          const s0 = a0 >= 0 ? strides[a0]! : 1;
          if (member.arity === 1) {
            (member.row as Row1)(x0, o0, s0, dst, dOff, n);
            continue;
          }
          const a1 = o[1]!;
          const x1 = a1 >= 0 ? inputArrays[a1]! : memberArrays[-a1 - 1]!;
          const o1 = a1 >= 0 ? inputOffsets[a1]! : memberOffset(members, a1, at);
          const s1 = a1 >= 0 ? strides[a1]! : 1;
          if (member.arity === 2) {
            (member.row as Row2)(x0, o0, s0, x1, o1, s1, dst, dOff, n);
            continue;
          }
          const a2 = o[2]!;
          const x2 = a2 >= 0 ? inputArrays[a2]! : memberArrays[-a2 - 1]!;
          const o2 = a2 >= 0 ? inputOffsets[a2]! : memberOffset(members, a2, at);
          (member.row as Row3)(x0, o0, s0, x1, o1, s1, x2, o2, a2 >= 0 ? strides[a2]! : 1, dst, dOff, n);
        }
      }
    }
  };
}

/** Where member `-(operand + 1)`'s current chunk starts: 0 in its register, `at` in its storage. */
function memberOffset(members: readonly Member[], operand: number, at: number): number {
  return members[-operand - 1]!.output < 0 ? 0 : at;
}
