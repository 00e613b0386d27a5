/** Chunk-sized scratch arrays for the fused elementwise kernel. */
import { allocate, type DType, type TensorData } from '../dtype.js';
import { wasmRegister, type WasmArena } from './wasm/elementwise-wasm.js';

/**
 * Registers hold at most this many elements (16 KB of float32): a chunk of a row stays in the L2 cache between
 * instructions, and a fused LSTM or GRU cell of a batch of 32 × 128 is one chunk, so each of its instructions
 * is one kernel call per run of the group.
 */
export const CHUNK = 4096;

/**
 * Chunk-sized registers shared by every fused group of a plan: groups run one at a time, so the k-th
 * register of one group can be the k-th of the next, and the few registers in use stay in cache.
 */
export class RegisterFile {
  private readonly files = new Map<DType, TensorData[]>();
  private arena: WasmArena | null = null;

  /**
   * Takes registers from now on from `arena`, the memory of the plan's pooled buffers (see
   * `Backend.allocatePlan`), instead of from the SIMD kernels' shared memory.
   */
  placeIn(arena: WasmArena): void {
    this.arena = arena;
    this.files.clear();
  }

  /** The k-th register of `dtype` (made on first request). */
  get(dtype: DType, k: number): TensorData {
    let file = this.files.get(dtype);
    if (file === undefined) this.files.set(dtype, (file = []));
    // registers in the SIMD kernels' memory are read and written there without copies
    while (file.length <= k) {
      const register = this.arena !== null ? this.arena.register(dtype, file.length, CHUNK) : wasmRegister(dtype, file.length, CHUNK);
      file.push(register ?? allocate(dtype, CHUNK));
    }
    return file[k]!;
  }
}
