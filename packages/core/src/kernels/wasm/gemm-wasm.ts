/**
 * The WebAssembly SIMD float32 GEMM: loads the module assembled from tools/wasm/gemm.wat and runs products in
 * a WebAssembly memory, one instance of the module per memory ({@link GemmSpace}). Operands that lie in that
 * memory are read where they are and a result that lies there is written in place; others are copied in, and
 * the result out (O(n²) against the product's O(n³)). A right operand that many products share can instead be
 * packed once into a block that stays in the memory ({@link PackedB}) and multiplied from there
 * ({@link gemmWasmPackedB}). The module also sums the rows of a matrix ({@link sumRowsWasm}).
 *
 * Eager products run in one shared memory, which only grows, so a call allocates nothing once it is large
 * enough for the biggest product seen; nothing else lives there, so every operand is copied. A compiled plan's
 * buffers live in a memory of their own (`WasmArena`, elementwise-wasm.ts), which reserves a region for a GEMM
 * instance of its own ({@link GemmSpace.inArena}): there a product of two of the plan's values into a third
 * copies nothing. Which memory runs a product is decided by where its result lies (else its operands), so the
 * callers need not know: see {@link gemmWasm}.
 *
 * The module is about 2 KB, so it is compiled synchronously with `new WebAssembly.Module` on first use: that
 * works in Node, in workers and on a browser's main thread (Chrome refuses synchronous compiles only above
 * 4 KB). Where WebAssembly or its SIMD proposal is missing, `WebAssembly.validate` rejects the module and
 * every product stays on the TypeScript kernels.
 *
 * Two builds of the module exist: the plain one, and one whose micro-kernel multiply-adds are relaxed SIMD's
 * `f32x4.relaxed_madd`, which the engine lowers to a fused multiply-add where the processor has one (Chrome
 * from 114; Node 20 with `--experimental-wasm-relaxed-simd`). The relaxed one is chosen at load time where the
 * engine validates it, and every instance is made from the build chosen. Its products are rounded once per
 * multiply-add instead of twice, so they differ from the plain module's in the last bits (both are within the
 * error bound the tests check); within one engine on one machine every run gives the same bits, in whichever
 * memory it runs.
 */
import { GEMM_WASM_BASE64 } from './gemm-bytes.js';
import { GEMM_RELAXED_WASM_BASE64 } from './gemm-relaxed-bytes.js';
import { decodeBase64 } from './load-module.js';
import { ResidentRegion } from './resident-region.js';

/** The signature of "gemm" and "gemmAccumulate" (byte addresses and strides). */
type Gemm = (
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
) => void;

interface GemmExports {
  gemm: Gemm;
  gemmAccumulate: Gemm;
  /** "gemm" adding a bias row (its byte address last) to every row of C; k ≤ 256. */
  gemmBias: (...args: [...Parameters<Gemm>, bias: number]) => void;
  packB(b: number, brs: number, bcs: number, n: number, k: number, dst: number): void;
  gemmPackedB(m: number, n: number, k: number, a: number, ars: number, acs: number, packedB: number, c: number, ldc: number, packA: number): void;
  sumRows(x: number, rows: number, cols: number, dst: number): void;
}

// Blocking of the module (MC rows of A by KC of k per packed block); the packing buffers are sized from them.
const MC = 128;
const KC = 256;
const PAGE = 65536;
/** The packed block of op(A), followed by the 4 × 8 tile of scratch of the kernel's ragged edges (gemm.wat). */
const PACK_A_BYTES = 4 * MC * KC + 128;

const align = (bytes: number): number => (bytes + 63) & ~63;
const round8 = (n: number): number => (n + 7) & ~7;

/** The compiled build of the module chosen here, null where none validates; undefined until first asked. */
let compiled: WebAssembly.Module | null | undefined;

/** Which build of the module runs: the relaxed-SIMD (fused multiply-add) one, the plain SIMD one, or none. */
let variant: 'relaxed' | 'simd' | null = null;

/** An instance of the compiled module on `memory`. */
const instantiate = (module: WebAssembly.Module, memory: WebAssembly.Memory): GemmExports =>
  new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as GemmExports;

function load(): WebAssembly.Module | null {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') return null;
  // validating a module is its feature test: an engine without SIMD (or relaxed SIMD) rejects its code
  for (const [name, base64] of [
    ['relaxed', GEMM_RELAXED_WASM_BASE64],
    ['simd', GEMM_WASM_BASE64],
  ] as const) {
    const bytes = decodeBase64(base64);
    if (!WebAssembly.validate(bytes)) continue;
    try {
      const module = new WebAssembly.Module(bytes);
      shared = new GemmSpace(module, new WebAssembly.Memory({ initial: 1 }), 0, Infinity);
      variant = name;
      return module;
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
  if (compiled === undefined) compiled = load();
  return compiled !== null;
}

/** Elements copied into and out of GEMM memories so far (for tests and profiles that check what is copied). */
let copiedElements = 0;

/** How many operand and result elements the WebAssembly GEMM has copied in or out since it loaded. @internal */
export function wasmGemmCopiedElements(): number {
  return copiedElements;
}

/**
 * One instance of the GEMM and the region of its memory it works in, from byte `base` to `limit`: blocks that
 * outlive a call (packed operands, see {@link ResidentRegion}) from `base` up, and above them the scratch of
 * the call in progress. The shared space has the whole of a memory of its own and grows it as calls need;
 * a plan's space ({@link GemmSpace.inArena}) has a fixed region of its arena's memory, which never grows, and
 * a call that does not fit there runs in the shared space instead. @internal
 */
export class GemmSpace {
  /** The memory as floats (refreshed when a grow replaces the buffer). */
  view: Float32Array;
  /** The packed operands' blocks, at offsets from `base`. */
  private readonly resident = new ResidentRegion();
  /** The instance's functions, working on `memory`. */
  readonly exports: GemmExports;

  /** An instance of `module` on `memory`, working from byte `base` (64-byte aligned) to `limit` (Infinity: it grows the memory). */
  constructor(
    module: WebAssembly.Module,
    /** The memory the instance works on. */
    readonly memory: WebAssembly.Memory,
    private readonly base: number,
    private readonly limit: number,
  ) {
    this.exports = instantiate(module, memory);
    this.view = new Float32Array(memory.buffer);
  }

  /**
   * The space of a compiled plan: a GEMM instance on the plan's arena memory (which must not grow), working in
   * its `bytes` bytes from `at` (64-byte aligned), registered so that products whose result lies in that memory
   * run there. Null where the WebAssembly GEMM is unavailable.
   */
  static inArena(memory: WebAssembly.Memory, at: number, bytes: number): GemmSpace | null {
    if (!wasmGemmAvailable()) return null;
    const space = new GemmSpace(compiled!, memory, at, at + bytes);
    spaces.set(memory.buffer, space);
    return space;
  }

  /** First byte of the scratch: above the packed operands. */
  get scratch(): number {
    return align(this.base + this.resident.top);
  }

  /** Whether bytes up to `end` can be used, growing the memory where this space may (the shared one). */
  fits(end: number): boolean {
    if (end > this.limit) return false;
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    if (this.view.buffer !== this.memory.buffer) this.view = new Float32Array(this.memory.buffer);
    return true;
  }

  /** The byte address of `x[offset]` where `x` lies in this space's memory; else -1. */
  addressOf(x: Float32Array, offset: number): number {
    return x.buffer === this.memory.buffer ? x.byteOffset + 4 * offset : -1;
  }

  /** A resident block of `bytes` (its byte address), or -1 where it does not fit the region. */
  reserve(bytes: number): number {
    const at = this.resident.reserve(bytes);
    if (this.base + at + bytes <= this.limit && this.fits(this.base + at + bytes)) return this.base + at;
    this.resident.release(at, bytes);
    return -1;
  }

  /** Returns a block from {@link GemmSpace.reserve}. */
  release(at: number, bytes: number): void {
    this.resident.release(at - this.base, bytes);
  }

  /** Copies `count` elements of `x` from `offset` to byte `at` (already made to fit). */
  copyIn(x: Float32Array, offset: number, count: number, at: number): void {
    this.view.set(x.subarray(offset, offset + count), at >> 2);
    copiedElements += count;
  }

  /** Copies `count` results from byte `at` to `c` at `cOffset`. */
  copyOut(c: Float32Array, cOffset: number, count: number, at: number): void {
    c.set(this.view.subarray(at >> 2, (at >> 2) + count), cOffset);
    copiedElements += count;
  }
}

/** The shared space, behind eager products and products of plans without an arena (set when the module loads). */
let shared: GemmSpace | null = null;

/** Plans' spaces by their memory's buffer (which never changes: arena memories do not grow). */
const spaces = new WeakMap<ArrayBufferLike, GemmSpace>();

/** The space to run a product writing `c` from `a`: the one whose memory holds `c`, else `a`'s, else the shared one. */
function spaceFor(c: Float32Array, a: Float32Array): GemmSpace {
  if (!wasmGemmAvailable()) throw new Error('internal: WebAssembly GEMM used without WebAssembly SIMD');
  return spaces.get(c.buffer) ?? spaces.get(a.buffer) ?? shared!;
}

/**
 * The bytes a plan's {@link GemmSpace} needs so that a product of m × k by k × n runs there whatever lies
 * outside the plan's memory: room to copy both operands and the result in, and the packing buffers.
 * @internal
 */
export function gemmScratchBytes(m: number, n: number, k: number): number {
  return align(4 * m * k) + align(4 * k * n) + align(4 * m * n) + align(4 * n) + align(PACK_A_BYTES) + 4 * KC * round8(n);
}

/** The bytes of a {@link PackedB} of k × n in a space. @internal */
export function packedBBytes(k: number, n: number): number {
  return align(4 * k * round8(n));
}

/**
 * C[m, n] = op(A) · op(B) in float32 with WebAssembly SIMD, reading A and B at the given offsets and writing
 * C at `cOffset` (overwriting, or with `accumulate` adding to what C holds: with k ≤ 256 that is the bits of
 * the product followed by an add; or with a `bias`, k ≤ 256, adding the n floats of `bias.array` from
 * `bias.offset` to every row, the bits of the product followed by a bias add). op(A) is A[m, k], or the
 * transpose of A stored as [k, m] when `transA`; op(B)
 * is B[k, n], or the transpose of B stored as [n, k] when `transB`. Runs in the space of the memory that holds
 * C (else A), a compiled plan's, where what lies in it is not copied; else in the shared one. Call only when
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
  accumulate = false,
  bias?: { readonly array: Float32Array; readonly offset: number },
): void {
  if (m === 0 || n === 0) return;
  if (bias !== undefined && (accumulate || k > KC)) throw new Error(`internal: gemmWasm: a bias needs k ≤ ${KC} and no accumulation, got k = ${k}`);
  if (k === 0) {
    if (bias !== undefined) for (let i = 0; i < m; i++) c.set(bias.array.subarray(bias.offset, bias.offset + n), cOffset + i * n);
    else if (!accumulate) c.fill(0, cOffset, cOffset + m * n);
    return;
  }
  const space = spaceFor(c, a);
  if (!gemmIn(space, a, aOffset, b, bOffset, c, cOffset, m, n, k, transA, transB, accumulate, bias)) {
    gemmIn(shared!, a, aOffset, b, bOffset, c, cOffset, m, n, k, transA, transB, accumulate, bias);
  }
}

/** {@link gemmWasm} in `space`; false, having done nothing, where its scratch does not fit there. */
function gemmIn(
  space: GemmSpace,
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
  accumulate: boolean,
  bias?: { readonly array: Float32Array; readonly offset: number },
): boolean {
  // operands and result where they lie in the memory, else in the scratch; then the packing buffers
  const aIn = space.addressOf(a, aOffset);
  const bIn = space.addressOf(b, bOffset);
  const cIn = space.addressOf(c, cOffset);
  const biasIn = bias === undefined ? -1 : space.addressOf(bias.array, bias.offset);
  let end = space.scratch;
  const biasAt = biasIn >= 0 ? biasIn : end;
  if (bias !== undefined && biasIn < 0) end = align(end + 4 * n);
  const aAt = aIn >= 0 ? aIn : end;
  if (aIn < 0) end = align(end + 4 * m * k);
  const bAt = bIn >= 0 ? bIn : end;
  if (bIn < 0) end = align(end + 4 * k * n);
  const cAt = cIn >= 0 ? cIn : end;
  if (cIn < 0) end = align(end + 4 * m * n);
  const packAAt = end;
  const packBAt = align(packAAt + PACK_A_BYTES);
  if (!space.fits(packBAt + 4 * KC * round8(n))) return false;
  if (aIn < 0) space.copyIn(a, aOffset, m * k, aAt);
  if (bIn < 0) space.copyIn(b, bOffset, k * n, bAt);
  if (cIn < 0 && accumulate) space.copyIn(c, cOffset, m * n, cAt);
  if (bias !== undefined && biasIn < 0) space.copyIn(bias.array, bias.offset, n, biasAt);
  // byte strides of op(A)[i, p] and op(B)[p, j]: a transpose swaps them
  const [ars, acs, brs, bcs] = [transA ? 4 : 4 * k, transA ? 4 * m : 4, transB ? 4 : 4 * n, transB ? 4 * k : 4];
  if (bias !== undefined) space.exports.gemmBias(m, n, k, aAt, ars, acs, bAt, brs, bcs, cAt, 4 * n, packAAt, packBAt, biasAt);
  else (accumulate ? space.exports.gemmAccumulate : space.exports.gemm)(m, n, k, aAt, ars, acs, bAt, brs, bcs, cAt, 4 * n, packAAt, packBAt);
  if (cIn < 0) space.copyOut(c, cOffset, m * n, cAt);
  return true;
}

/** Blocks of packed operands go back to their space when the operand is garbage-collected (plans have no dispose step). */
const residentBlocks = new FinalizationRegistry<{ space: GemmSpace; at: number; bytes: number }>(({ space, at, bytes }) => space.release(at, bytes));

/**
 * A right operand op(B) (k × n) packed into a GEMM memory once, to be multiplied by many left operands with
 * {@link gemmWasmPackedB} without being copied in and packed again each time. It holds a resident block of
 * 4·k·round8(n) bytes in its space, returned when the object is garbage-collected; {@link packBWasm}
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
    /** The space whose memory holds it, where the products with it run. */
    readonly space: GemmSpace,
    /** Byte address of the packed panels in that memory. */
    readonly at: number,
  ) {}

  /**
   * Reserves the block for an op(B) of k × n (k, n ≥ 1) in `space` (a compiled plan's, see
   * {@link GemmSpace.inArena}), or in the shared space where none is given or it has no room left.
   */
  static reserve(k: number, n: number, space: GemmSpace | null = null): PackedB {
    if (!(k >= 1 && n >= 1)) throw new Error(`internal: PackedB.reserve: k and n must be at least 1, got k = ${k}, n = ${n}`);
    if (!wasmGemmAvailable()) throw new Error('internal: WebAssembly GEMM used without WebAssembly SIMD');
    const bytes = packedBBytes(k, n);
    let home = space ?? shared!;
    let at = home.reserve(bytes);
    if (at < 0) {
      home = shared!;
      at = home.reserve(bytes);
    }
    const packed = new PackedB(k, n, home, at);
    residentBlocks.register(packed, { space: home, at, bytes });
    return packed;
  }
}

/**
 * Packs op(B) into `packed` (its k × n): B stored [k, n] at `bOffset`, or with `transB` its transpose stored
 * [n, k]; read in place where B lies in the packed operand's memory. Call only when `wasmGemmAvailable()` is
 * true. @internal
 */
export function packBWasm(packed: PackedB, b: Float32Array, bOffset: number, transB: boolean): void {
  const { k, n, space } = packed;
  const bIn = space.addressOf(b, bOffset);
  const bAt = bIn >= 0 ? bIn : space.scratch;
  if (!space.fits(bIn >= 0 ? 0 : bAt + 4 * k * n)) {
    // (a plan's space is sized for its products, so only a region already full of packed operands gets here)
    throw new Error(`internal: packBWasm: no room to copy a ${k} × ${n} operand into its GEMM memory`);
  }
  if (bIn < 0) space.copyIn(b, bOffset, k * n, bAt);
  space.exports.packB(bAt, transB ? 4 : 4 * n, transB ? 4 * k : 4, n, k, packed.at);
  packed.filled = true;
}

/**
 * C[m, n] = op(A) · op(B) with op(B) taken from `packed` (k × n, filled by {@link packBWasm}); A and C as
 * for {@link gemmWasm}, whose results this reproduces bit for bit. Runs in the packed operand's space. @internal
 */
export function gemmWasmPackedB(a: Float32Array, aOffset: number, packed: PackedB, c: Float32Array, cOffset: number, m: number, transA: boolean): void {
  if (!packed.filled) throw new Error('internal: gemmWasmPackedB: the packed operand was never filled');
  const { k, n, space } = packed;
  if (m === 0) return;
  const aIn = space.addressOf(a, aOffset);
  const cIn = space.addressOf(c, cOffset);
  let end = space.scratch;
  const aAt = aIn >= 0 ? aIn : end;
  if (aIn < 0) end = align(end + 4 * m * k);
  const cAt = cIn >= 0 ? cIn : end;
  if (cIn < 0) end = align(end + 4 * m * n);
  if (!space.fits(end + PACK_A_BYTES)) throw new Error(`internal: gemmWasmPackedB: no room for a ${m} × ${k} operand in its GEMM memory`);
  if (aIn < 0) space.copyIn(a, aOffset, m * k, aAt);
  space.exports.gemmPackedB(m, n, k, aAt, transA ? 4 : 4 * k, transA ? 4 * m : 4, packed.at, cAt, 4 * n, end);
  if (cIn < 0) space.copyOut(c, cOffset, m * n, cAt);
}

/**
 * o[oOffset + j] = Σ_r x[xOffset + r·cols + j] for a rows × cols float32 matrix (the column sums), each column
 * summed from 0 in row order: the same bits as the TypeScript reduction over the leading axes. Runs in the
 * shared space. Call only when `wasmGemmAvailable()` is true. @internal
 */
export function sumRowsWasm(x: Float32Array, xOffset: number, rows: number, cols: number, o: Float32Array, oOffset: number): void {
  if (cols === 0) return;
  if (rows === 0) {
    o.fill(0, oOffset, oOffset + cols);
    return;
  }
  if (!wasmGemmAvailable()) throw new Error('internal: WebAssembly GEMM used without WebAssembly SIMD');
  const space = shared!;
  const xAt = space.scratch;
  const dstAt = xAt + align(4 * rows * cols);
  space.fits(dstAt + 4 * cols);
  space.view.set(x.subarray(xOffset, xOffset + rows * cols), xAt >> 2);
  space.exports.sumRows(xAt, rows, cols, dstAt);
  o.set(space.view.subarray(dstAt >> 2, (dstAt >> 2) + cols), oOffset);
}
