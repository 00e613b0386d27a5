/**
 * The WebAssembly SIMD float32 GEMM: loads the module assembled from tools/wasm/gemm.wat and runs products in
 * its one linear memory. Operands are copied in and the result out (O(n²) against the product's O(n³)); the
 * memory only grows, so a call allocates nothing once it is large enough for the biggest product seen.
 *
 * The module is about 1 KB, so it is compiled synchronously with `new WebAssembly.Module` on first use: that
 * works in Node, in workers and on a browser's main thread (Chrome refuses synchronous compiles only above
 * 4 KB). Where WebAssembly or its SIMD proposal is missing, `WebAssembly.validate` rejects the module and
 * every product stays on the TypeScript kernels.
 */
import { GEMM_WASM_BASE64 } from './gemm-bytes.js';

interface GemmExports {
  memory: WebAssembly.Memory;
  gemm(
    m: number, n: number, k: number,
    a: number, ars: number, acs: number,
    b: number, brs: number, bcs: number,
    c: number, ldc: number, packA: number, packB: number,
  ): void;
}

// Blocking of the module (MC rows of A by KC of k per packed block); the packing buffers are sized from them.
const MC = 128;
const KC = 256;
const PAGE = 65536;

let exports: GemmExports | null | undefined;
let view = new Float32Array(0);

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    value = (value << 6) | alphabet.indexOf(clean[i]!);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

function load(): GemmExports | null {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') return null;
  const bytes = decodeBase64(GEMM_WASM_BASE64);
  // validating the module itself is the SIMD feature test: an engine without SIMD rejects its v128 code
  if (!WebAssembly.validate(bytes)) return null;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    return instance.exports as unknown as GemmExports;
  } catch {
    return null;
  }
}

/** Whether the WebAssembly SIMD GEMM can run here (compiles the module on first call). @internal */
export function wasmGemmAvailable(): boolean {
  if (exports === undefined) exports = load();
  return exports !== null;
}

const align = (bytes: number): number => (bytes + 63) & ~63;

/**
 * C[m, n] = op(A) · op(B) in float32 with WebAssembly SIMD, reading A and B at the given offsets and writing
 * C at `cOffset` (overwriting). op(A) is A[m, k], or the transpose of A stored as [k, m] when `transA`; op(B)
 * is B[k, n], or the transpose of B stored as [n, k] when `transB`. Call only when
 * `wasmGemmAvailable()` is true. @internal
 */
export function gemmWasm(
  a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, c: Float32Array, cOffset: number,
  m: number, n: number, k: number, transA: boolean, transB: boolean,
): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    c.fill(0, cOffset, cOffset + m * n);
    return;
  }
  if (!wasmGemmAvailable()) throw new Error('internal: gemmWasm called without WebAssembly SIMD');
  const wasm = exports!;
  const mPadded = (m + 3) & ~3;
  const nPadded = (n + 7) & ~7;
  const aAt = 0;
  const bAt = aAt + align(4 * m * k);
  const cAt = bAt + align(4 * k * n);
  const packAAt = cAt + align(4 * mPadded * nPadded);
  const packBAt = packAAt + align(4 * MC * KC);
  const end = packBAt + 4 * KC * nPadded;
  const have = wasm.memory.buffer.byteLength;
  if (end > have) wasm.memory.grow(Math.ceil((end - have) / PAGE));
  if (view.buffer !== wasm.memory.buffer) view = new Float32Array(wasm.memory.buffer);

  view.set(a.subarray(aOffset, aOffset + m * k), aAt >> 2);
  view.set(b.subarray(bOffset, bOffset + k * n), bAt >> 2);
  // byte strides of op(A)[i, p] and op(B)[p, j]: a transpose swaps them
  wasm.gemm(
    m, n, k,
    aAt, transA ? 4 : 4 * k, transA ? 4 * m : 4,
    bAt, transB ? 4 : 4 * n, transB ? 4 * k : 4,
    cAt, 4 * nPadded, packAAt, packBAt,
  );

  const cStart = cAt >> 2;
  if (nPadded !== n) {
    // close up the padded rows in place (rows only move down), then copy out in one piece
    for (let i = 1; i < m; i++) view.copyWithin(cStart + i * n, cStart + i * nPadded, cStart + i * nPadded + n);
  }
  c.set(view.subarray(cStart, cStart + m * n), cOffset);
}
