/**
 * The fused elementwise kernel: interprets a small program (one instruction per group member) over the
 * group's output in chunks of a row. Values only the group reads live in chunk-sized registers; the
 * others are written straight into their buffers. No code is generated (no `new Function`), so it runs
 * under a strict Content-Security-Policy. Each instruction calls the same row loops as the eager kernels,
 * into registers of the member's dtype, so results round exactly as eager execution does.
 */
import { allocate, type DType, type TensorData } from '../dtype.js';
import { binaryRange, castRange, unaryRange, whereRange, type BinaryCode, type UnaryCode } from '../kernels/elementwise.js';
import { planBroadcast } from '../kernels/broadcast-plan.js';
import { wasmRegister } from '../kernels/wasm/elementwise-wasm.js';
import type { Shape } from '../shape.js';
import type { ElementwiseKind } from './passes/fusion.js';

/** Registers hold at most this many elements: a chunk of a row stays in cache between instructions. */
const CHUNK = 1024;

/**
 * Chunk-sized registers shared by every fused group of a plan: groups run one at a time, so the k-th
 * register of one group can be the k-th of the next, and the few registers in use stay in cache.
 */
export class RegisterFile {
  private readonly files = new Map<DType, TensorData[]>();

  /** The k-th register of `dtype` (made on first request). */
  get(dtype: DType, k: number): TensorData {
    let file = this.files.get(dtype);
    if (file === undefined) this.files.set(dtype, (file = []));
    // registers in the SIMD kernels' memory are read and written there without copies
    while (file.length <= k) file.push(wasmRegister(dtype, file.length, CHUNK) ?? allocate(dtype, CHUNK));
    return file[k]!;
  }
}

/** One member of a fused group. */
export interface FusedInstruction {
  /** How the op takes operands. */
  readonly kind: ElementwiseKind;
  /** The kernel code (the op's name). */
  readonly code: string;
  /** Parameters of parameterised unary ops. */
  readonly p0: number;
  /** Second parameter (softplus threshold). */
  readonly p1: number;
  /** The member's dtype (a cast's target). */
  readonly dtype: DType;
  /** Operands: `k ≥ 0` is external input k, `-(m + 1)` is member m's value. */
  readonly operands: readonly number[];
  /** The slot of the value's storage in the plan's value table, or -1 for a register. */
  readonly slot: number;
}

/**
 * Builds the step of a fused group. `inputSlots`/`inputShapes` describe the external inputs (broadcast to
 * `shape`); `values` is the plan's value table, read when the step runs (inputs change per call).
 */
export function fusedStep(
  program: readonly FusedInstruction[], inputSlots: readonly number[], inputShapes: readonly Shape[], shape: Shape,
  values: TensorData[], registers: RegisterFile,
): () => void {
  const { outer, inner, rows, strides } = planBroadcast(inputShapes, shape);
  const width = Math.min(inner, CHUNK);
  const counts: Partial<Record<DType, number>> = {};
  const own = program.map((ins) => {
    if (ins.slot >= 0) return null;
    const k = counts[ins.dtype] ?? 0;
    counts[ins.dtype] = k + 1;
    return registers.get(ins.dtype, k).subarray(0, width);
  });
  const memberArrays: TensorData[] = new Array(program.length);
  const inputArrays: TensorData[] = new Array(inputSlots.length);
  // Int32Array: offsets stay small integers, so the row loops index with integer arithmetic
  const inputOffsets = new Int32Array(inputSlots.length);
  const count = program.length;
  return () => {
    for (let m = 0; m < count; m++) {
      const slot = program[m]!.slot;
      memberArrays[m] = slot < 0 ? own[m]! : values[slot]!;
    }
    for (let k = 0; k < inputSlots.length; k++) inputArrays[k] = values[inputSlots[k]!]!;
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
          const ins = program[m]!;
          const o = ins.operands;
          const dst = memberArrays[m]!;
          const dOff = ins.slot < 0 ? 0 : at;
          const a0 = o[0]!;
          const x0 = a0 >= 0 ? inputArrays[a0]! : memberArrays[-a0 - 1]!;
          const o0 = a0 >= 0 ? inputOffsets[a0]! : memberOffset(program, a0, at);
          const s0 = a0 >= 0 ? strides[a0]! : 1;
          switch (ins.kind) {
            case 'unary':
              unaryRange(ins.code as UnaryCode, x0, o0, s0, dst, dOff, n, ins.p0, ins.p1);
              break;
            case 'cast':
              castRange(x0, o0, s0, dst, dOff, n, ins.dtype === 'int32');
              break;
            case 'binary': {
              const a1 = o[1]!;
              const x1 = a1 >= 0 ? inputArrays[a1]! : memberArrays[-a1 - 1]!;
              const o1 = a1 >= 0 ? inputOffsets[a1]! : memberOffset(program, a1, at);
              binaryRange(ins.code as BinaryCode, x0, o0, s0, x1, o1, a1 >= 0 ? strides[a1]! : 1, dst, dOff, n);
              break;
            }
            case 'where': {
              const a1 = o[1]!;
              const a2 = o[2]!;
              const x1 = a1 >= 0 ? inputArrays[a1]! : memberArrays[-a1 - 1]!;
              const o1 = a1 >= 0 ? inputOffsets[a1]! : memberOffset(program, a1, at);
              const x2 = a2 >= 0 ? inputArrays[a2]! : memberArrays[-a2 - 1]!;
              const o2 = a2 >= 0 ? inputOffsets[a2]! : memberOffset(program, a2, at);
              whereRange(x0, o0, s0, x1, o1, a1 >= 0 ? strides[a1]! : 1, x2, o2, a2 >= 0 ? strides[a2]! : 1, dst, dOff, n);
              break;
            }
          }
        }
      }
    }
  };
}

/** Where member `-(operand + 1)`'s current chunk starts: 0 in its register, `at` in its buffer. */
function memberOffset(program: readonly FusedInstruction[], operand: number, at: number): number {
  return program[-operand - 1]!.slot < 0 ? 0 : at;
}
