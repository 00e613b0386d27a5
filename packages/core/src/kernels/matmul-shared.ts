/**
 * Right operands shared by the products of one compiled plan. Backpropagation through time multiplies the
 * same weight by a new state at every step (`h_t · W_hhᵀ` forwards, `dg_t · W_hh` backwards): T products
 * with one op(B) each way. The WebAssembly GEMM copies op(B) into its memory and packs it into panels on
 * every call, which for a thin left operand (a batch of 32 rows) costs a good part of the product. Within
 * one run of a plan every value is immutable, so the first of those products in run order packs op(B) into
 * a block of WebAssembly memory that stays there, and the others multiply by the packed panels directly.
 */
import type { GraphNode } from '../graph/graph.js';
import { InternalError } from '../errors.js';
import { sizeOf } from '../shape.js';
import { gemmBackend } from './matmul.js';
import { gemmScratchBytes, packedBBytes, PackedB, packBWasm, type GemmSpace } from './wasm/gemm-wasm.js';

/**
 * One op(B) (k × n, of one stored value read with one transpose flag) and the products of a plan that read
 * it. Products register while the plan is built, in the order it runs them: the first registered packs
 * (every run), the later ones read its panels. A value read by one unbatched product only need not be
 * packed here (the ordinary kernel packs it as it goes, for the same cost).
 */
export class SharedRightOperand {
  private users = 0;
  private packed: PackedB | null = null;

  constructor(
    /** Rows of op(B) (the contracted dimension). */
    readonly k: number,
    /** Columns of op(B). */
    readonly n: number,
    /** Whether op(B) is the transpose of the stored matrix. */
    readonly transB: boolean,
    /** The plan's GEMM memory, where the packed block goes (null: the shared one). */
    private readonly space: GemmSpace | null = null,
  ) {}

  /** Registers a product reading this operand; true for the first, which is the one that packs. */
  addUser(): boolean {
    return this.users++ === 0;
  }

  /** Whether more than one product reads it (so that packing once pays); final once the plan is built. */
  get shared(): boolean {
    return this.users > 1;
  }

  /** Packs op(B) from the stored matrix `b` (from element 0) for this run; called by the first user. */
  pack(b: Float32Array): PackedB {
    this.packed ??= PackedB.reserve(this.k, this.n, this.space);
    packBWasm(this.packed, b, 0, this.transB);
    return this.packed;
  }

  /** The panels the first user packed earlier in this run. */
  panels(): PackedB {
    if (this.packed === null || !this.packed.filled) {
      throw new InternalError(
        'internal: a product reusing a packed operand ran before the product that packs it (steps must run in the order they were built)',
      );
    }
    return this.packed;
  }
}

/**
 * The shared right operands of one plan, by the value they read (its storage id in the plan's value
 * table), shape and transpose flag.
 * @example
 * ```ts
 * const shared = new SharedRightOperands();
 * const w = shared.operand(slotOfW, 256, 1024, true); // W_hh [1024, 256] read as op(B) = W_hhᵀ
 * const packs = w.addUser(); // true: this product packs; later products reading W_hhᵀ get false
 * ```
 */
export class SharedRightOperands {
  private readonly operands = new Map<string, SharedRightOperand>();
  private space: GemmSpace | null = null;

  /**
   * Packs operands from now on into `space`, the GEMM memory of the plan's own (see `Backend.allocatePlan`),
   * where the plan's products run without copies, instead of into the shared one.
   */
  placeIn(space: GemmSpace): void {
    this.space = space;
  }

  /** The operand op(B) = `value` (k × n, or its transpose stored n × k with `transB`). */
  operand(value: number, k: number, n: number, transB: boolean): SharedRightOperand {
    const key = `${value}:${k}x${n}:${transB ? 't' : 'n'}`;
    let operand = this.operands.get(key);
    if (operand === undefined) {
      operand = new SharedRightOperand(k, n, transB, this.space);
      this.operands.set(key, operand);
    }
    return operand;
  }
}

/**
 * The bytes of GEMM memory that a plan of these nodes needs in its own memory (see `GemmSpace.inArena`) so
 * that every float32 product on the WebAssembly GEMM runs there: the scratch of its largest product, and a
 * packed block for each op(B) its products may pack (see `matmulKernel` in cpu-kernels.ts: one per value,
 * shape and transpose flag read by a product whose batch entries share one B; values that the plan stores as
 * one, such as a reshape of another, are counted once each, which errs on the large side). Zero where no
 * product runs on the WebAssembly GEMM.
 */
export function planGemmBytes(nodes: readonly GraphNode[]): number {
  let scratch = 0;
  const packed = new Map<string, number>();
  for (const node of nodes) {
    if (node.op !== 'matmul' || node.dtype !== 'float32') continue;
    const { transA, transB } = node.attrs;
    const aShape = nodes[node.inputs[0]!]!.shape;
    const bShape = nodes[node.inputs[1]!]!.shape;
    const m = aShape[aShape.length - (transA ? 1 : 2)]!;
    const k = aShape[aShape.length - (transA ? 2 : 1)]!;
    const n = bShape[bShape.length - (transB ? 2 : 1)]!;
    if (gemmBackend('float32', m, n, k) !== 'wasm') continue;
    scratch = Math.max(scratch, gemmScratchBytes(m, n, k));
    if (sizeOf(bShape.slice(0, -2)) === 1) packed.set(`${node.inputs[1]!}:${k}x${n}:${transB ? 't' : 'n'}`, packedBBytes(k, n));
  }
  let bytes = scratch;
  for (const block of packed.values()) bytes += block;
  return bytes;
}
