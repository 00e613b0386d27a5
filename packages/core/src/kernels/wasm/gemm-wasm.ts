/**
 * The WebAssembly SIMD float32 GEMM: loads the module assembled from tools/wasm/gemm.wat and runs products in
 * its one linear memory. Operands are copied in and the result out (O(n²) against the product's O(n³)); the
 * memory only grows, so a call allocates nothing once it is large enough for the biggest product seen. A
 * right operand that many products share can instead be packed once into a block that stays in that memory
 * ({@link PackedB}) and multiplied from there ({@link gemmWasmPackedB}). The module also sums the rows of a
 * matrix ({@link sumRowsWasm}).
 *
 * The module is under 2 KB, so it is compiled synchronously with `new WebAssembly.Module` on first use: that
 * works in Node, in workers and on a browser's main thread (Chrome refuses synchronous compiles only above
 * 4 KB). Where WebAssembly or its SIMD proposal is missing, `WebAssembly.validate` rejects the module and
 * every product stays on the TypeScript kernels.
 *
 * Two builds of the module exist: the plain one, and one whose micro-kernel multiply-adds are relaxed SIMD's
 * `f32x4.relaxed_madd`, which the engine lowers to a fused multiply-add where the processor has one (Chrome
 * from 114; Node 20 with `--experimental-wasm-relaxed-simd`). The relaxed one is chosen at load time where the
 * engine validates it. Its products are rounded once per multiply-add instead of twice, so they differ from
 * the plain module's in the last bits (both are within the error bound the tests check); within one engine on
 * one machine every run gives the same bits.
 */
import { GEMM_WASM_BASE64 } from './gemm-bytes.js';
import { GEMM_RELAXED_WASM_BASE64 } from './gemm-relaxed-bytes.js';
import { decodeBase64 } from './load-module.js';
import { ResidentRegion } from './resident-region.js';

interface GemmExports {
  memory: WebAssembly.Memory;
  gemm(
    m: number,
    n: number,
    k: number,
    a: number,
    ars: number,
    acs: number,
    b: number,
    brs: number,
    bcs: number,
    c: number,
    ldc: number,
    packA: number,
    packB: number,
  ): void;
  packB(b: number, brs: number, bcs: number, n: number, k: number, dst: number): void;
  gemmPackedB(m: number, n: number, k: number, a: number, ars: number, acs: number, packedB: number, c: number, ldc: number, packA: number): void;
  sumRows(x: number, rows: number, cols: number, dst: number): void;
}

// Blocking of the module (MC rows of A by KC of k per packed block); the packing buffers are sized from them.
const MC = 128;
const KC = 256;
const PAGE = 65536;

let exports: GemmExports | null | undefined;
let view = new Float32Array(0);

/** Which build of the module runs: the relaxed-SIMD (fused multiply-add) one, the plain SIMD one, or none. */
let variant: 'relaxed' | 'simd' | null = null;

function load(): GemmExports | null {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') return null;
  // validating a module is its feature test: an engine without SIMD (or relaxed SIMD) rejects its code
  for (const [name, base64] of [
    ['relaxed', GEMM_RELAXED_WASM_BASE64],
    ['simd', GEMM_WASM_BASE64],
  ] as const) {
    const bytes = decodeBase64(base64);
    if (!WebAssembly.validate(bytes)) continue;
    try {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
      variant = name;
      return instance.exports as unknown as GemmExports;
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Which build of the GEMM runs here: `'relaxed'` (relaxed SIMD's multiply-add, fused where the processor has
 * FMA), `'simd'` (SIMD128 multiplies and adds) or null (TypeScript kernels only). Loads the module. @internal
 */
export function wasmGemmVariant(): 'relaxed' | 'simd' | null {
  wasmGemmAvailable();
  return variant;
}

/** Whether the WebAssembly SIMD GEMM can run here (compiles the module on first call). @internal */
export function wasmGemmAvailable(): boolean {
  if (exports === undefined) exports = load();
  return exports !== null;
}

const align = (bytes: number): number => (bytes + 63) & ~63;

/** Packed operands that outlive a call live below the scratch of the call in progress (see ResidentRegion). */
const resident = new ResidentRegion();

// a packed operand's memory goes back when the operand is garbage-collected (plans have no dispose step)
const residentBlocks = new FinalizationRegistry<{ at: number; bytes: number }>(({ at, bytes }) => resident.release(at, bytes));

/** Grows the memory to at least `end` bytes and returns the module (the view is refreshed after a grow). */
function memoryUpTo(end: number): GemmExports {
  if (!wasmGemmAvailable()) throw new Error('internal: WebAssembly GEMM used without WebAssembly SIMD');
  const wasm = exports!;
  const have = wasm.memory.buffer.byteLength;
  if (end > have) wasm.memory.grow(Math.ceil((end - have) / PAGE));
  if (view.buffer !== wasm.memory.buffer) view = new Float32Array(wasm.memory.buffer);
  return wasm;
}

/**
 * Where the scratch of one call goes (byte addresses above the resident region): A, B (omitted when
 * `bElements` is 0), C with rows padded to whole 4 × 8 tiles, and the packing buffers.
 */
function scratchLayout(m: number, n: number, k: number, bElements: number) {
  const nPadded = (n + 7) & ~7;
  const aAt = align(resident.top);
  const bAt = aAt + align(4 * m * k);
  const cAt = bAt + align(4 * bElements);
  const packAAt = cAt + align(4 * ((m + 3) & ~3) * nPadded);
  const packBAt = packAAt + align(4 * MC * KC);
  return { nPadded, aAt, bAt, cAt, packAAt, packBAt, end: packBAt + (bElements === 0 ? 0 : 4 * KC * nPadded) };
}

/** Copies the m × n result out of its padded rows at `cAt` into `c` at `cOffset`. */
function copyResult(c: Float32Array, cOffset: number, cAt: number, m: number, n: number, nPadded: number): void {
  const cStart = cAt >> 2;
  if (nPadded !== n) {
    // close up the padded rows in place (rows only move down), then copy out in one piece
    for (let i = 1; i < m; i++) view.copyWithin(cStart + i * n, cStart + i * nPadded, cStart + i * nPadded + n);
  }
  c.set(view.subarray(cStart, cStart + m * n), cOffset);
}

/**
 * C[m, n] = op(A) · op(B) in float32 with WebAssembly SIMD, reading A and B at the given offsets and writing
 * C at `cOffset` (overwriting). op(A) is A[m, k], or the transpose of A stored as [k, m] when `transA`; op(B)
 * is B[k, n], or the transpose of B stored as [n, k] when `transB`. Call only when
 * `wasmGemmAvailable()` is true. @internal
 */
export function gemmWasm(
  a: Float32Array,
  aOffset: number,
  b: Float32Array,
  bOffset: number,
  c: Float32Array,
  cOffset: number,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    c.fill(0, cOffset, cOffset + m * n);
    return;
  }
  const layout = scratchLayout(m, n, k, k * n);
  const wasm = memoryUpTo(layout.end);
  view.set(a.subarray(aOffset, aOffset + m * k), layout.aAt >> 2);
  view.set(b.subarray(bOffset, bOffset + k * n), layout.bAt >> 2);
  // byte strides of op(A)[i, p] and op(B)[p, j]: a transpose swaps them
  wasm.gemm(
    m,
    n,
    k,
    layout.aAt,
    transA ? 4 : 4 * k,
    transA ? 4 * m : 4,
    layout.bAt,
    transB ? 4 : 4 * n,
    transB ? 4 * k : 4,
    layout.cAt,
    4 * layout.nPadded,
    layout.packAAt,
    layout.packBAt,
  );
  copyResult(c, cOffset, layout.cAt, m, n, layout.nPadded);
}

/**
 * A right operand op(B) (k × n) packed into the module's memory once, to be multiplied by many left
 * operands with {@link gemmWasmPackedB} without being copied in and packed again each time. It holds a
 * resident block of 4·k·round8(n) bytes, returned when the object is garbage-collected; {@link packBWasm}
 * (re)fills it. @internal
 */
export class PackedB {
  /** Whether {@link packBWasm} has filled it at least once. */
  filled = false;

  private constructor(
    /** Rows of op(B): the contracted dimension. */
    readonly k: number,
    /** Columns of op(B). */
    readonly n: number,
    /** Byte address of the packed panels in the module's memory. */
    readonly at: number,
  ) {}

  /** Reserves the block for an op(B) of k × n (k, n ≥ 1). */
  static reserve(k: number, n: number): PackedB {
    if (!(k >= 1 && n >= 1)) throw new Error(`internal: PackedB.reserve: k and n must be at least 1, got k = ${k}, n = ${n}`);
    const bytes = align(4 * k * ((n + 7) & ~7));
    const packed = new PackedB(k, n, resident.reserve(bytes));
    residentBlocks.register(packed, { at: packed.at, bytes });
    return packed;
  }
}

/**
 * Packs op(B) into `packed` (its k × n): B stored [k, n] at `bOffset`, or with `transB` its transpose stored
 * [n, k]. Call only when `wasmGemmAvailable()` is true. @internal
 */
export function packBWasm(packed: PackedB, b: Float32Array, bOffset: number, transB: boolean): void {
  const { k, n } = packed;
  const bAt = align(resident.top);
  const wasm = memoryUpTo(bAt + 4 * k * n);
  view.set(b.subarray(bOffset, bOffset + k * n), bAt >> 2);
  wasm.packB(bAt, transB ? 4 : 4 * n, transB ? 4 * k : 4, n, k, packed.at);
  packed.filled = true;
}

/**
 * C[m, n] = op(A) · op(B) with op(B) taken from `packed` (k × n, filled by {@link packBWasm}); A and C as
 * for {@link gemmWasm}, whose results this reproduces bit for bit. @internal
 */
export function gemmWasmPackedB(a: Float32Array, aOffset: number, packed: PackedB, c: Float32Array, cOffset: number, m: number, transA: boolean): void {
  if (!packed.filled) throw new Error('internal: gemmWasmPackedB: the packed operand was never filled');
  const { k, n } = packed;
  if (m === 0) return;
  const layout = scratchLayout(m, n, k, 0);
  const wasm = memoryUpTo(layout.end);
  view.set(a.subarray(aOffset, aOffset + m * k), layout.aAt >> 2);
  wasm.gemmPackedB(m, n, k, layout.aAt, transA ? 4 : 4 * k, transA ? 4 * m : 4, packed.at, layout.cAt, 4 * layout.nPadded, layout.packAAt);
  copyResult(c, cOffset, layout.cAt, m, n, layout.nPadded);
}

/**
 * o[oOffset + j] = Σ_r x[xOffset + r·cols + j] for a rows × cols float32 matrix (the column sums), each column
 * summed from 0 in row order: the same bits as the TypeScript reduction over the leading axes. Call only
 * when `wasmGemmAvailable()` is true. @internal
 */
export function sumRowsWasm(x: Float32Array, xOffset: number, rows: number, cols: number, o: Float32Array, oOffset: number): void {
  if (cols === 0) return;
  if (rows === 0) {
    o.fill(0, oOffset, oOffset + cols);
    return;
  }
  const xAt = align(resident.top);
  const dstAt = xAt + align(4 * rows * cols);
  const wasm = memoryUpTo(dstAt + 4 * cols);
  view.set(x.subarray(xOffset, xOffset + rows * cols), xAt >> 2);
  wasm.sumRows(xAt, rows, cols, dstAt);
  o.set(view.subarray(dstAt >> 2, (dstAt >> 2) + cols), oOffset);
}
