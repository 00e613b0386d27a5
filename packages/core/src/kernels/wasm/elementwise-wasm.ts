/**
 * Elementwise row loops in WebAssembly SIMD, behind the row functions of kernels/elementwise.ts and the
 * column sums of kernels/reduce.ts. Each entry point takes a row exactly as its JavaScript counterpart
 * does (typed arrays, offsets, strides 0 or 1), copies the operands into the module's memory in chunks,
 * runs a vector loop and copies the result out; it returns false, having done nothing, for any case it does
 * not cover (other dtypes, other functions, WebAssembly missing), and the caller runs its JavaScript loop.
 *
 * Why copying pays: V8 runs the JavaScript row loops at about 3 ns per element (bounds and type checks on
 * every access of a union-typed array), and `TypedArray.prototype.set` copies at well under 0.1 ns per
 * element, so copy in, SIMD, copy out costs about a seventh of the loop (`pnpm --filter @tapestry/bench run elementwise`).
 *
 * Rows that already live in a module instance's memory are not copied: the fused groups' registers, and
 * every pooled buffer of a compiled plan, which gets an instance of its own ({@link WasmArena}). A kernel runs
 * on the instance holding its output (else its input), reads the operands that instance holds where they
 * are, and takes such a row whole, in one call.
 *
 * Same bits as the JavaScript: float32 add, sub, mul, div and sqrt are correctly rounded in both (the
 * JavaScript rounds an exact-enough double result to float32 once, which for these operations gives the
 * correctly rounded float32); the selects, comparisons and sign manipulations are exact; maximum and minimum
 * reproduce the JavaScript's tie and NaN rules (see tools/wasm/elementwise-wat.ts); float32 exp, tanh and
 * sigmoid evaluate fast-math.ts's float32 algorithm operation for operation, four lanes at a time (WebAssembly
 * never contracts a multiply and an add). NaN results are NaN in both, though not necessarily with the same
 * payload bits.
 * Float64 keeps Math.* exactly: only exact operations run here for float64.
 */
import type { DType, TensorData } from '../../dtype.js';
import { ELEMENTWISE_WASM_BASE64 } from './elementwise-bytes.js';
import { decodeBase64, instantiate } from './load-module.js';

/** A kernel over whole vectors from `o` to `end`, each input advancing by its byte step (0 = broadcast). */
type Binary = (a: number, aStep: number, b: number, bStep: number, o: number, end: number) => void;
type Where = (c: number, cStep: number, a: number, aStep: number, b: number, bStep: number, o: number, end: number) => void;
type Unary = (x: number, xStep: number, o: number, end: number, p: number) => void;
type AddRows = (x: number, rows: number, rowBytes: number, dst: number) => void;
type CopyRows = (src: number, srcStride: number, dst: number, dstStride: number, rows: number, bytes: number) => void;
type ReduceRows = (x: number, rows: number, inner: number, o: number) => void;

interface ElementwiseExports {
  readonly memory: WebAssembly.Memory;
  readonly [kernel: string]: unknown;
}

/**
 * One instance of the module: its memory's views and its kernels by dtype and function name, looked up once
 * when it is instantiated. The memory never grows after that, so the views stay valid.
 */
interface Kernels {
  readonly exports: ElementwiseExports;
  readonly memory: WebAssembly.Memory;
  /** The memory's buffer, to recognise arrays that live in it. */
  readonly buffer: ArrayBufferLike;
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly binary32: Readonly<Record<string, Binary>>;
  readonly binary64: Readonly<Record<string, Binary>>;
  readonly unary32: Readonly<Record<string, Unary>>;
  readonly unary64: Readonly<Record<string, Unary>>;
  readonly where: Readonly<Record<'f32_where_i32' | 'f32_where_f32' | 'f64_where_i32' | 'f64_where_f64', Where>>;
  readonly addRows32: AddRows;
  readonly addRows64: AddRows;
  readonly copyRows: CopyRows;
  readonly reduceRows: Readonly<Record<'sum' | 'max' | 'min', ReduceRows>>;
}

/** The kernels of `exports` whose names start with `prefix`, by the rest of the name. */
function byName<T>(exports: ElementwiseExports, prefix: string, names: readonly string[]): Record<string, T> {
  const table: Record<string, T> = {};
  for (const name of names) if (typeof exports[prefix + name] === 'function') table[name] = exports[prefix + name] as T;
  return table;
}

const BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'greater', 'less', 'equal', 'greaterEqual', 'lessEqual', 'notEqual'];
const UNARY = ['neg', 'abs', 'sqrt', 'square', 'floor', 'relu', 'leakyRelu', 'sign', 'exp', 'tanh', 'sigmoid'];

/** Elements per chunk: four operands of 8 KB (float32) or 16 KB (float64) stay in L1/L2 between copies. */
const CHUNK = 2048;
/** Where the scratch starts: the module keeps no data of its own, so at the bottom of its memory. */
const SCRATCH_AT = 0;
/**
 * Regions that kernels stream together start at different offsets within a 4 KB page. An x86 core takes a
 * load whose address matches a pending store's in its low 12 bits for a possible alias and holds it back
 * ("4K aliasing"), so a kernel reading and writing arrays laid a multiple of 4 KB apart (plan buffers of
 * [32, 128] float32 values, 16 KB each, end to end) ran 2.5 times slower than on arrays a few lines apart.
 * Region i is moved (i · 9 mod 64) cache lines into its page: 9 is coprime with the 64 lines of a page, so
 * 64 consecutive regions all start on different lines.
 */
const PAGE = 4096;
const LINE = 64;
const stagger = (index: number): number => ((index * 9) % (PAGE / LINE)) * LINE;

/** Byte addresses of the three input regions and the output region, each a chunk of float64 (staggered). */
const SCRATCH_BYTES = 8 * CHUNK + PAGE;
const IN0 = SCRATCH_AT;
const IN1 = SCRATCH_AT + SCRATCH_BYTES + stagger(1);
const IN2 = SCRATCH_AT + 2 * SCRATCH_BYTES + stagger(2);
const OUT = SCRATCH_AT + 3 * SCRATCH_BYTES + stagger(3);
/**
 * Registers for compiled plans' fused groups ({@link wasmRegister}): rows the kernels read and write in place,
 * with no copy. REGISTERS per dtype, each REGISTER_ELEMENTS long (8 bytes per element for every dtype),
 * staggered as the scratch is.
 */
const REGISTERS_AT = SCRATCH_AT + 4 * SCRATCH_BYTES;
const REGISTERS = 32;
const REGISTER_ELEMENTS = 4096;
const REGISTER_BYTES = 8 * REGISTER_ELEMENTS + PAGE;
const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];
const END = REGISTERS_AT + DTYPES.length * REGISTERS * REGISTER_BYTES;

/**
 * Below this many elements a row stays in JavaScript: the copies and the call cost a fixed ~0.2 µs, which
 * the JavaScript loop's ~3 ns per element repays only from about 64 elements on; 128 leaves a margin (float32
 * mul, best of many runs on a loaded machine: 64 elements from 0.7× to 1.0× of the JavaScript's speed, 128
 * elements 1.8×, 1024 elements 7.8×; `pnpm --filter @tapestry/bench run elementwise`).
 */
export const WASM_MIN_ELEMENTS = 128;

/** The shared instance, behind eager kernels and plans without a memory of their own. */
let module: Kernels | null | undefined;
/** The compiled module, to instantiate {@link WasmArena}s from (null until it has compiled). */
let compiled: WebAssembly.Module | null = null;
let enabled = true;

/** Sets up an instance: grows its memory to the scratch and registers plus `extra` bytes (once: it never grows again). */
function setUp(exports: ElementwiseExports, extra = 0): Kernels {
  const have = exports.memory.buffer.byteLength;
  if (have < END + extra) exports.memory.grow(Math.ceil((END + extra - have) / 65536));
  const buffer = exports.memory.buffer;
  return {
    exports,
    memory: exports.memory,
    buffer,
    f32: new Float32Array(buffer),
    f64: new Float64Array(buffer),
    i32: new Int32Array(buffer),
    binary32: byName(exports, 'f32_', BINARY),
    binary64: byName(exports, 'f64_', BINARY),
    unary32: byName(exports, 'f32_', UNARY),
    unary64: byName(exports, 'f64_', UNARY),
    where: byName(exports, '', ['f32_where_i32', 'f32_where_f32', 'f64_where_i32', 'f64_where_f64']) as Kernels['where'],
    addRows32: exports.f32_addRows as AddRows,
    addRows64: exports.f64_addRows as AddRows,
    copyRows: exports.copyRows as CopyRows,
    reduceRows: { sum: exports.f32_rowsSum as ReduceRows, max: exports.f32_rowsMax as ReduceRows, min: exports.f32_rowsMin as ReduceRows },
  };
}

/** The module, loaded on first call (null where it cannot load, or until an asynchronous compile is done). */
function loaded(): Kernels | null {
  if (module === undefined) {
    const loaded = instantiate<ElementwiseExports>(decodeBase64(ELEMENTWISE_WASM_BASE64), (ready, from) => {
      compiled = from;
      module = setUp(ready);
    });
    if (loaded === null) {
      module = null;
    } else {
      compiled = loaded.module;
      module = setUp(loaded.exports);
    }
  }
  return module;
}

/** The instances of {@link WasmArena}s by their memory's buffer. */
const arenas = new WeakMap<ArrayBufferLike, Kernels>();
/**
 * The instance found last, checked first: a plan's kernels write into one arena call after call. Held weakly,
 * so that it does not keep the memory of a plan that is gone.
 */
let lastArena: WeakRef<Kernels> | null = null;

/**
 * The instance to run a kernel writing `o` from `x`, unless the kernels are unavailable or turned off: the
 * one whose memory holds `o` (so it is written in place), else the one holding `x`, else the shared one.
 */
function kernelsFor(o: TensorData, x: TensorData): Kernels | null {
  const shared = loaded();
  if (shared === null || !enabled) return null;
  const last = lastArena?.deref();
  if (last !== undefined && o.buffer === last.buffer) return last;
  let arena = arenas.get(o.buffer);
  if (arena === undefined) {
    if (last !== undefined && x.buffer === last.buffer) return last;
    arena = arenas.get(x.buffer);
    if (arena === undefined) return shared;
  }
  lastArena = new WeakRef(arena);
  return arena;
}

/**
 * The instance whose memory is `buffer` (a plan's arena, or the shared instance), while the kernels are on;
 * null otherwise. Kernels called on addresses of an array must be that array's instance's. @internal
 */
export function instanceOf(buffer: ArrayBufferLike): SimdInstance | null {
  const shared = loaded();
  if (shared === null || !enabled) return null;
  if (shared.buffer === buffer) return shared;
  return arenas.get(buffer) ?? null;
}

/** An instance of the SIMD kernels' module, as {@link instanceOf} finds it. @internal */
export type SimdInstance = Pick<Kernels, 'exports' | 'memory' | 'buffer' | 'f32' | 'f64' | 'i32'>;

/**
 * A SIMD kernel that a fused group calls directly, on byte addresses in its instance's memory, instead of
 * through `binaryRange` and its kin, which check and place their operands on every call (a microsecond or two,
 * as long as the kernel itself takes for a few thousand elements). @internal
 */
export interface DirectKernel {
  /** The name of the export. */
  readonly name: string;
  readonly arity: 1 | 2 | 3;
  /** Elements per vector. */
  readonly lanes: number;
  /** Bytes each operand advances per vector when it is read along the row (a splatted scalar advances 0). */
  readonly steps: readonly number[];
  /** Bytes the output advances per vector. */
  readonly outputStep: number;
  /** leakyRelu's slope; 0 for the other kernels. */
  readonly p0: number;
}

const COMPARISONS = new Set(['greater', 'less', 'equal', 'greaterEqual', 'lessEqual', 'notEqual']);

/**
 * The kernel of elementwise op `op` with these attributes, output dtype and operand dtypes, where the module
 * has one that computes exactly what `unaryRange`, `binaryRange` or `whereRange` computes (the same cases as
 * {@link unaryWasm}, {@link binaryWasm} and {@link whereWasm}); null elsewhere. @internal
 */
export function directKernel(op: string, attrs: object | undefined, out: DType, operands: readonly DType[]): DirectKernel | null {
  const wasm = loaded();
  if (wasm === null) return null;
  const data = op === 'where' ? operands[1] : operands[0];
  if (data !== 'float32' && data !== 'float64') return null;
  const wide = data === 'float64';
  const lanes = wide ? 2 : 4;
  const prefix = wide ? 'f64_' : 'f32_';
  if (operands.length === 1 && UNARY.includes(op)) {
    if (out !== data || (wide ? wasm.unary64 : wasm.unary32)[op] === undefined) return null;
    const p0 = op === 'leakyRelu' ? (attrs as { readonly slope: number }).slope : 0;
    // the JavaScript multiplies a float32 by the double slope: the same as float32 arithmetic only where it is a float32
    if (op === 'leakyRelu' && !wide && Math.fround(p0) !== p0) return null;
    return { name: prefix + op, arity: 1, lanes, steps: [16], outputStep: 16, p0 };
  }
  if (operands.length === 2 && BINARY.includes(op)) {
    if (operands[1] !== data || (wide ? wasm.binary64 : wasm.binary32)[op] === undefined) return null;
    const compare = COMPARISONS.has(op);
    if (compare ? out !== 'int32' : out !== data) return null;
    return { name: prefix + op, arity: 2, lanes, steps: [16, 16], outputStep: compare ? 4 * lanes : 16, p0: 0 };
  }
  if (op === 'where' && operands.length === 3) {
    const cond = operands[0];
    if (operands[2] !== data || out !== data || (cond !== 'int32' && cond !== data)) return null;
    // an int32 condition for float64 data advances by two int32 (8 bytes) per vector of two doubles
    const condStep = cond === 'int32' && wide ? 8 : 16;
    return { name: `${prefix}where_${cond === 'int32' ? 'i32' : prefix.slice(0, 3)}`, arity: 3, lanes, steps: [condStep, 16, 16], outputStep: 16, p0: 0 };
  }
  return null;
}

/** Where a fused group splats the scalar of operand `position` (0–2) for a direct kernel call: the input scratch. @internal */
export const splatAddress = (position: number): number => IN0 + 16 * position;

/**
 * Where a fused group's generated kernel finds its arguments (fused-codegen.ts), and how many bytes it may use
 * there: the second input scratch region, which no kernel a group member calls on its own arrays touches. @internal
 */
export const ARGUMENTS = { at: IN1, bytes: 8 * CHUNK } as const;

/** Whether the SIMD kernels are loaded and turned on. */
function kernels(): Kernels | null {
  const wasm = loaded();
  return enabled ? wasm : null;
}

/** Whether the SIMD elementwise kernels run here (loads the module on first call). @internal */
export function elementwiseWasmAvailable(): boolean {
  return kernels() !== null;
}

/**
 * Turns the SIMD elementwise kernels off (every row runs its JavaScript loop) or back on; for tests and
 * benchmarks that compare the two. @internal
 */
export function setElementwiseWasm(on: boolean): void {
  enabled = on;
}

/** The float view of `wasm`'s memory for a Float32Array or Float64Array; else null. */
function floatView(wasm: Kernels, x: TensorData): Float32Array | Float64Array | null {
  if (x instanceof Float32Array) return wasm.f32;
  if (x instanceof Float64Array) return wasm.f64;
  return null;
}

/**
 * A register of `length` (≤ 4096) elements of `dtype` that lives in the SIMD kernels' memory, so that rows
 * read from and written to it are not copied (see the module comment); the `k`-th of its dtype, the same
 * memory on every call. For fused groups' registers, which hold values only while one group runs (plans run
 * one group at a time on a thread). Null where the kernels are not loaded or k ≥ 32: allocate instead.
 * @internal
 */
export function wasmRegister(dtype: DType, k: number, length: number): TensorData | null {
  const wasm = loaded();
  return wasm === null ? null : registerOf(wasm, dtype, k, length);
}

/** The k-th register of `dtype` in `wasm`'s memory, `length` long; null where k ≥ 32 or length > 4096. */
function registerOf(wasm: Kernels, dtype: DType, k: number, length: number): TensorData | null {
  if (k >= REGISTERS || length > REGISTER_ELEMENTS) return null;
  const slot = DTYPES.indexOf(dtype) * REGISTERS + k;
  const at = REGISTERS_AT + slot * REGISTER_BYTES + stagger(slot + 4);
  return viewOf(wasm.buffer, dtype, at, length);
}

/** `length` elements of `dtype` from byte `at` of `buffer`. */
function viewOf(buffer: ArrayBufferLike, dtype: DType, at: number, length: number): TensorData {
  const type = dtype === 'float32' ? Float32Array : dtype === 'float64' ? Float64Array : Int32Array;
  return new type(buffer as ArrayBuffer, at, length);
}

/** Alignment of arena blocks: a cache line, so that no two blocks share one and every vector is aligned. */
const ARENA_ALIGN = LINE;
const bytesPer = (dtype: DType): number => (dtype === 'float64' ? 8 : 4);
const alignUp = (bytes: number): number => Math.ceil(bytes / ARENA_ALIGN) * ARENA_ALIGN;
/** Where arena block `index` starts: the first address from `next` on at its staggered place in a page. */
function blockStart(next: number, index: number): number {
  const aligned = alignUp(next);
  return aligned + ((stagger(index) - (aligned % PAGE) + PAGE) % PAGE);
}
/** Arenas above this size are not made (the plan allocates ordinary arrays): a 32-bit memory has 4 GiB. */
const ARENA_MAX_BYTES = 1 << 30;

/**
 * The working memory of one compiled plan inside an instance of the SIMD kernels' module of its own: the
 * plan's pooled buffers and its fused groups' registers live in that instance's memory, so the kernels read
 * and write them where they are instead of copying rows in and out (each instance has its own scratch,
 * registers and memory, sized once and never grown, so the views handed out stay valid). Kernels writing
 * an array of an arena run on its instance. @internal
 */
export class WasmArena {
  private next = END;
  private count = 0;

  private constructor(
    private readonly wasm: Kernels,
    private readonly end: number,
    /** Byte address of the region reserved for another module's use (see {@link WasmArena.create}). */
    readonly reservedAt: number,
  ) {}

  /**
   * An arena with room for these blocks (each starting on a 64-byte boundary, staggered within its page, see
   * {@link stagger}) and, after them, a region of
   * `reserve` bytes that another module instantiated on {@link WasmArena.memory} works in (the GEMM's packing
   * buffers and packed operands, gemm-wasm.ts); null where the module is not loaded (or compiled only
   * asynchronously so far), turned off, the arena would be over 1 GiB, or the engine refuses the memory.
   */
  static create(blocks: readonly { readonly dtype: DType; readonly size: number }[], reserve = 0): WasmArena | null {
    if (kernels() === null || compiled === null) return null;
    let end = END;
    blocks.forEach((b, i) => (end = blockStart(end, i) + b.size * bytesPer(b.dtype)));
    const bytes = alignUp(end) - END;
    if (bytes + alignUp(reserve) > ARENA_MAX_BYTES) return null;
    try {
      const wasm = setUp(new WebAssembly.Instance(compiled, {}).exports as unknown as ElementwiseExports, bytes + alignUp(reserve));
      arenas.set(wasm.buffer, wasm);
      return new WasmArena(wasm, END + bytes, END + bytes);
    } catch {
      // the engine's memory limit (a RangeError from grow): the plan allocates ordinary arrays
      return null;
    }
  }

  /** `size` elements of `dtype` (zeroed), the next block of those the arena was sized for. */
  allocate(dtype: DType, size: number): TensorData {
    const at = blockStart(this.next, this.count);
    const bytes = size * bytesPer(dtype);
    if (at + bytes > this.end) throw new Error(`internal: WasmArena.allocate: ${bytes} bytes of ${dtype} do not fit (${this.end - at} left)`);
    this.next = at + bytes;
    this.count++;
    return viewOf(this.wasm.buffer, dtype, at, size);
  }

  /** The arena's memory (it never grows, so views of it stay valid). */
  get memory(): WebAssembly.Memory {
    return this.wasm.memory;
  }

  /** The k-th register of `dtype` in this arena's instance (as {@link wasmRegister}). */
  register(dtype: DType, k: number, length: number): TensorData | null {
    return registerOf(this.wasm, dtype, k, length);
  }
}

/** Copies `n` elements of `x` from `xo` (stride `xs`: 1, or 0 for one element splatted across a vector) to `at`. */
function copyIn(view: Float32Array | Float64Array | Int32Array, x: TensorData, xo: number, xs: number, at: number, n: number): void {
  const start = at >> (view instanceof Float64Array ? 3 : 2);
  if (xs === 0) view.fill(x[xo]!, start, start + 16 / view.BYTES_PER_ELEMENT);
  else view.set(x.subarray(xo, xo + n), start);
}

/**
 * The byte address of `n` elements of `x` from `xo` with stride `xs`: where they are, for a contiguous row of
 * an array in the module's memory (a register), else `scratch`, where they are copied (a stride-0 scalar
 * splatted across a vector).
 */
function input(view: Float32Array | Float64Array | Int32Array, x: TensorData, xo: number, xs: number, scratch: number, n: number): number {
  if (xs !== 0 && x.buffer === view.buffer) return x.byteOffset + xo * x.BYTES_PER_ELEMENT;
  copyIn(view, x, xo, xs, scratch, n);
  return scratch;
}

/**
 * Where a kernel writes `n` elements for `o` from `oo` (it writes whole vectors of `lanes`): in place for an
 * array in the module's memory when n is a whole number of vectors (so nothing past the row is touched),
 * else at OUT, to be copied out by {@link output}.
 */
function outputAt(view: Float32Array | Float64Array | Int32Array, o: TensorData, oo: number, n: number, lanes: number): number {
  return o.buffer === view.buffer && n % lanes === 0 ? o.byteOffset + oo * o.BYTES_PER_ELEMENT : OUT;
}

/** Whether input `x` with stride `xs` is read without a copy per chunk: a row in `view`'s memory, or a broadcast scalar. */
const inPlace = (view: Float32Array | Float64Array | Int32Array, x: TensorData, xs: number): boolean => xs === 0 || x.buffer === view.buffer;

/**
 * Elements per kernel call for a row of `n` written to `o`: all of them where nothing is copied (every operand
 * in place, see {@link inPlace}, and `o` too), else a chunk, what the scratch regions hold.
 */
const span = (out: Float32Array | Float64Array | Int32Array, o: TensorData, n: number, lanes: number, inputsInPlace: boolean): number =>
  inputsInPlace && o.buffer === out.buffer && n % lanes === 0 ? n : CHUNK;

/** Copies `n` results from OUT to `o` at `oo`, unless the kernel wrote them in place (`at` ≠ OUT). */
function output(view: Float32Array | Float64Array | Int32Array, at: number, o: TensorData, oo: number, n: number): void {
  if (at !== OUT) return;
  const first = OUT / view.BYTES_PER_ELEMENT;
  o.set(view.subarray(first, first + n), oo);
}

/**
 * `o[oo + j] = f(a[ao + j·as], b[bo + j·bs])` for j < n (strides 0 or 1), as kernels/elementwise.ts's
 * `binaryRange` computes it; false (nothing done) where this function or these dtypes have no kernel.
 * @internal
 */
export function binaryWasm(
  code: string,
  a: TensorData,
  ao: number,
  as: number,
  b: TensorData,
  bo: number,
  bs: number,
  o: TensorData,
  oo: number,
  n: number,
): boolean {
  const wasm = kernelsFor(o, a);
  if (wasm === null) return false;
  const view = floatView(wasm, a);
  if (view === null || a.constructor !== b.constructor) return false;
  const wide = view === wasm.f64;
  const kernel = (wide ? wasm.binary64 : wasm.binary32)[code];
  if (kernel === undefined) return false;
  const compare = !(code === 'add' || code === 'sub' || code === 'mul' || code === 'div' || code === 'maximum' || code === 'minimum');
  // comparisons write int32; the others write the operands' dtype
  if (compare ? !(o instanceof Int32Array) : o.constructor !== a.constructor) return false;
  const lanes = wide ? 2 : 4;
  const out = compare ? wasm.i32 : view;
  const outBytes = compare ? 4 * lanes : 16;
  let aAt = as === 0 ? input(view, a, ao, 0, IN0, 1) : IN0;
  let bAt = bs === 0 ? input(view, b, bo, 0, IN1, 1) : IN1;
  const step = span(out, o, n, lanes, inPlace(view, a, as) && inPlace(view, b, bs));
  for (let s = 0; s < n; s += step) {
    const len = Math.min(step, n - s);
    const vectors = Math.ceil(len / lanes);
    if (as !== 0) aAt = input(view, a, ao + s, 1, IN0, len);
    if (bs !== 0) bAt = input(view, b, bo + s, 1, IN1, len);
    const oAt = outputAt(out, o, oo + s, len, lanes);
    kernel(aAt, as === 0 ? 0 : 16, bAt, bs === 0 ? 0 : 16, oAt, oAt + vectors * outBytes);
    output(out, oAt, o, oo + s, len);
  }
  return true;
}

/** `o[oo + j] = cond[co + j·cs] !== 0 ? a[…] : b[…]`, as `whereRange`; false where not covered. @internal */
export function whereWasm(
  cond: TensorData,
  co: number,
  cs: number,
  a: TensorData,
  ao: number,
  as: number,
  b: TensorData,
  bo: number,
  bs: number,
  o: TensorData,
  oo: number,
  n: number,
): boolean {
  const wasm = kernelsFor(o, a);
  if (wasm === null) return false;
  const view = floatView(wasm, a);
  if (view === null || a.constructor !== b.constructor || o.constructor !== a.constructor) return false;
  const wide = view === wasm.f64;
  let condView: Float32Array | Float64Array | Int32Array;
  let kernel: Where;
  if (cond instanceof Int32Array) {
    condView = wasm.i32;
    kernel = wide ? wasm.where.f64_where_i32 : wasm.where.f32_where_i32;
  } else if (cond.constructor === a.constructor) {
    condView = view;
    kernel = wide ? wasm.where.f64_where_f64 : wasm.where.f32_where_f32;
  } else {
    return false;
  }
  const lanes = wide ? 2 : 4;
  // an int32 condition for float64 data advances by two int32 (8 bytes) per vector of two doubles
  const condStep = condView === wasm.i32 && wide ? 8 : 16;
  let cAt = cs === 0 ? input(condView, cond, co, 0, IN0, 1) : IN0;
  let aAt = as === 0 ? input(view, a, ao, 0, IN1, 1) : IN1;
  let bAt = bs === 0 ? input(view, b, bo, 0, IN2, 1) : IN2;
  const step = span(view, o, n, lanes, inPlace(condView, cond, cs) && inPlace(view, a, as) && inPlace(view, b, bs));
  for (let s = 0; s < n; s += step) {
    const len = Math.min(step, n - s);
    const vectors = Math.ceil(len / lanes);
    if (cs !== 0) cAt = input(condView, cond, co + s, 1, IN0, len);
    if (as !== 0) aAt = input(view, a, ao + s, 1, IN1, len);
    if (bs !== 0) bAt = input(view, b, bo + s, 1, IN2, len);
    const oAt = outputAt(view, o, oo + s, len, lanes);
    kernel(cAt, cs === 0 ? 0 : condStep, aAt, as === 0 ? 0 : 16, bAt, bs === 0 ? 0 : 16, oAt, oAt + vectors * 16);
    output(view, oAt, o, oo + s, len);
  }
  return true;
}

/**
 * `o[oo + i] = f(x[xo + i·xs])` for i < n, as `unaryRange`; `p0` is the parameter of leakyRelu. False where
 * not covered (float64 exp, tanh and sigmoid among them: those keep Math.*). @internal
 */
export function unaryWasm(code: string, x: TensorData, xo: number, xs: number, o: TensorData, oo: number, n: number, p0: number): boolean {
  const wasm = kernelsFor(o, x);
  if (wasm === null) return false;
  const view = floatView(wasm, x);
  if (view === null || o.constructor !== x.constructor) return false;
  const wide = view === wasm.f64;
  const kernel = (wide ? wasm.unary64 : wasm.unary32)[code];
  if (kernel === undefined) return false;
  // the JavaScript multiplies a float32 by the double p0: the same as float32 arithmetic only where p0 is a float32
  if (code === 'leakyRelu' && !wide && Math.fround(p0) !== p0) return false;
  const lanes = wide ? 2 : 4;
  let xAt = xs === 0 ? input(view, x, xo, 0, IN0, 1) : IN0;
  const step = span(view, o, n, lanes, inPlace(view, x, xs));
  for (let s = 0; s < n; s += step) {
    const len = Math.min(step, n - s);
    const vectors = Math.ceil(len / lanes);
    if (xs !== 0) xAt = input(view, x, xo + s, 1, IN0, len);
    const oAt = outputAt(view, o, oo + s, len, lanes);
    kernel(xAt, xs === 0 ? 0 : 16, oAt, oAt + vectors * 16, p0);
    output(view, oAt, o, oo + s, len);
  }
  return true;
}

/**
 * `o[j] = Σ_r x[r·cols + j]` for j < cols, r < rows (whole arrays, summed from 0 row after row: reduce.ts's
 * order), where x and o both live in one instance's memory (a compiled plan's buffers): the rows and the sums
 * are read and written where they are, in one call. False (nothing done) otherwise, or where `cols` is not a
 * whole number of vectors. @internal
 */
export function sumColumnsInPlaceWasm(x: TensorData, rows: number, cols: number, o: TensorData): boolean {
  const wasm = kernelsFor(o, x);
  if (wasm === null || rows < 1 || cols < 1 || x.buffer !== wasm.buffer || o.buffer !== wasm.buffer) return false;
  const view = floatView(wasm, x);
  if (view === null || o.constructor !== x.constructor) return false;
  const wide = view === wasm.f64;
  if (cols % (wide ? 2 : 4) !== 0) return false;
  o.fill(0, 0, cols);
  (wide ? wasm.addRows64 : wasm.addRows32)(x.byteOffset, rows, cols * view.BYTES_PER_ELEMENT, o.byteOffset);
  return true;
}

/**
 * Copies `rows` rows of `length` elements from `x` (row r at `xo + r·xStride`) to `o` (row r at
 * `oo + r·oStride`) in one call, where both arrays live in the same instance's memory (two buffers of a
 * compiled plan): a slice, pad or concatenation of rows of a few hundred elements then costs one call instead
 * of a `copyWithin` per row (W1's gate slices and their gradients' concatenations: 128 rows of 128 floats a
 * time step). False, having done nothing, otherwise. @internal
 */
export function copyRowsWasm(x: TensorData, xo: number, xStride: number, o: TensorData, oo: number, oStride: number, rows: number, length: number): boolean {
  if (x.buffer !== o.buffer || rows < 1) return false;
  const wasm = kernelsFor(o, x);
  if (wasm === null || wasm.buffer !== o.buffer) return false;
  const size = o.BYTES_PER_ELEMENT;
  const src = x.byteOffset + xo * size;
  const dst = o.byteOffset + oo * size;
  // the kernel copies forward a vector at a time: the two arrays must not overlap (distinct plan buffers never do)
  if (x.byteOffset < o.byteOffset + o.byteLength && o.byteOffset < x.byteOffset + x.byteLength) return false;
  wasm.copyRows(src, xStride * size, dst, oStride * size, rows, length * size);
  return true;
}

/**
 * `o[r]` = the sum, maximum or minimum of row r of a rows × inner float32 matrix `x`, folded in order as
 * reduce.ts folds the innermost axis (a sum in a double, rounded once), where `x` and `o` (rows long) both live
 * in one instance's memory (a compiled plan's buffers): read and written in place, in one call, a few rows to
 * a vector. False (nothing done) otherwise. @internal
 */
export function reduceRowsWasm(code: 'sum' | 'max' | 'min', x: TensorData, rows: number, inner: number, o: TensorData): boolean {
  if (!(x instanceof Float32Array) || !(o instanceof Float32Array) || x.buffer !== o.buffer || rows < 1 || inner < 1) return false;
  const wasm = kernelsFor(o, x);
  if (wasm === null || wasm.buffer !== o.buffer) return false;
  wasm.reduceRows[code](x.byteOffset, rows, inner, o.byteOffset);
  return true;
}

/**
 * `o[oo + j] += Σ_r x[xo + r·cols + j]` for j < cols, r < rows, adding row after row (one rounding per add, the
 * order of reduce.ts when the innermost axis is kept). False where not covered. @internal
 */
export function addRowsWasm(x: TensorData, xo: number, rows: number, cols: number, o: TensorData, oo: number): boolean {
  const wasm = kernelsFor(o, x);
  if (wasm === null) return false;
  const view = floatView(wasm, x);
  if (view === null || o.constructor !== x.constructor) return false;
  const wide = view === wasm.f64;
  const kernel = wide ? wasm.addRows64 : wasm.addRows32;
  const lanes = wide ? 2 : 4;
  const size = view.BYTES_PER_ELEMENT;
  // a block of columns (a whole number of vectors) as the accumulator at OUT, the rows of that block packed
  // contiguously below it, as many as fit in the three input regions
  const width = Math.min(cols, CHUNK);
  const padded = Math.ceil(width / lanes) * lanes;
  const rowsPerBlock = Math.max(1, Math.floor((3 * 8 * CHUNK) / (size * padded)));
  for (let j = 0; j < cols; j += width) {
    const w = Math.min(width, cols - j);
    const pw = Math.ceil(w / lanes) * lanes;
    const acc = OUT / size;
    view.set(o.subarray(oo + j, oo + j + w), acc);
    for (let r = 0; r < rows; r += rowsPerBlock) {
      const count = Math.min(rowsPerBlock, rows - r);
      const base = IN0 / size;
      const from = xo + r * cols + j;
      // whole rows of whole vectors are contiguous in x as in the block: one copy
      if (w === cols && pw === w) view.set(x.subarray(from, from + count * w), base);
      else for (let q = 0; q < count; q++) view.set(x.subarray(from + q * cols, from + q * cols + w), base + q * pw);
      kernel(IN0, count, pw * size, OUT);
    }
    o.set(view.subarray(acc, acc + w), oo + j);
  }
  return true;
}
