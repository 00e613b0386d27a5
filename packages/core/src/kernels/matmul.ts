import { allocate, type DType, type TensorData } from '../dtype.js';
import { gemmWasm, gemmWasmPackedB, wasmGemmAvailable, type PackedB } from './wasm/gemm-wasm.js';

/**
 * Below this many multiply-adds (m·n·k) a float32 product stays in TypeScript: copying operands into
 * WebAssembly memory, packing them and padding to whole 4 × 8 tiles costs more than the SIMD kernel saves.
 * Measured with bench/src/matmul.ts and shapes around it: 4³ (64) is twice as fast in TypeScript, 4·4·16
 * and 8·8·4 (256) are even, 8³ (512) is twice as fast in WebAssembly and 32³ over ten times.
 */
export const WASM_MIN_MULTIPLY_ADDS = 256;

/**
 * C[m, n] = op(A) · op(B) for one matrix of a batch, in TypeScript, at the given offsets (C is overwritten).
 * op(A) is A stored [m, k], or with `transA` the transpose of A stored [k, m]; op(B) is B stored [k, n], or
 * with `transB` the transpose of B stored [n, k]. Each case gets a loop order that reads memory
 * contiguously in its innermost loop:
 * - NN and TN: i-p-j, so a row of B is streamed into a row of C; p is unrolled by four so each pass over a
 *   row of C does four multiply-adds per load and store (op(A)'s four values come from a row or a column of
 *   A, read once per pass).
 * - NT: C[i, j] is the dot product of row i of A and row j of B, both contiguous; four j at a time share
 *   each load of A.
 * - TT: row j of the stored B times the stored A gives column j of C (Cᵀ = B·A); it is accumulated in a
 *   contiguous scratch row by the i-p-j scheme and then written down the column.
 * This is the reference kernel (float64, and float32 where WebAssembly SIMD is unavailable or the product is
 * small).
 */
export function gemmTs(
  a: TensorData,
  aOffset: number,
  b: TensorData,
  bOffset: number,
  c: TensorData,
  cOffset: number,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
): void {
  // a one-column B is the same memory transposed or not; as a row it makes C a set of contiguous dot
  // products instead of an i-p-j loop whose innermost loop has one iteration
  if (n === 1) transB = true;
  if (transB && transA) gemmTT(a, aOffset, b, bOffset, c, cOffset, m, n, k);
  else if (transB) gemmNT(a, aOffset, b, bOffset, c, cOffset, m, n, k);
  // op(A)[i, p] is at i·rowStride + p·colStride: a transposed A just swaps the strides
  else gemmRowStream(a, aOffset, transA ? 1 : k, transA ? m : 1, b, bOffset, c, cOffset, m, n, k);
}

/** C[i, :] = Σ_p op(A)[i, p] · B[p, :], op(A)[i, p] = a[aOffset + i·rs + p·cs]. */
function gemmRowStream(
  a: TensorData,
  aOffset: number,
  rs: number,
  cs: number,
  b: TensorData,
  bOffset: number,
  c: TensorData,
  cOffset: number,
  m: number,
  n: number,
  k: number,
): void {
  for (let i = 0; i < m; i++) {
    const row = cOffset + i * n;
    const aRow = aOffset + i * rs;
    c.fill(0, row, row + n);
    let p = 0;
    for (; p + 3 < k; p += 4) {
      const at = aRow + p * cs;
      const a0 = a[at]!,
        a1 = a[at + cs]!,
        a2 = a[at + 2 * cs]!,
        a3 = a[at + 3 * cs]!;
      const b0 = bOffset + p * n,
        b1 = b0 + n,
        b2 = b1 + n,
        b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        c[row + j] = c[row + j]! + a0 * b[b0 + j]! + a1 * b[b1 + j]! + a2 * b[b2 + j]! + a3 * b[b3 + j]!;
      }
    }
    for (; p < k; p++) {
      const av = a[aRow + p * cs]!;
      const b0 = bOffset + p * n;
      for (let j = 0; j < n; j++) c[row + j] = c[row + j]! + av * b[b0 + j]!;
    }
  }
}

/** C[i, j] = A[i, :] · Bs[j, :] with A stored [m, k] and B stored [n, k]. */
function gemmNT(a: TensorData, aOffset: number, b: TensorData, bOffset: number, c: TensorData, cOffset: number, m: number, n: number, k: number): void {
  for (let i = 0; i < m; i++) {
    const aRow = aOffset + i * k;
    const row = cOffset + i * n;
    let j = 0;
    for (; j + 3 < n; j += 4) {
      const b0 = bOffset + j * k,
        b1 = b0 + k,
        b2 = b1 + k,
        b3 = b2 + k;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      for (let p = 0; p < k; p++) {
        const av = a[aRow + p]!;
        s0 += av * b[b0 + p]!;
        s1 += av * b[b1 + p]!;
        s2 += av * b[b2 + p]!;
        s3 += av * b[b3 + p]!;
      }
      c[row + j] = s0;
      c[row + j + 1] = s1;
      c[row + j + 2] = s2;
      c[row + j + 3] = s3;
    }
    for (; j < n; j++) {
      const b0 = bOffset + j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[aRow + p]! * b[b0 + p]!;
      c[row + j] = s;
    }
  }
}

/** C = Aᵀ·Bᵀ with A stored [k, m] and B stored [n, k]: column j of C is Σ_p Bs[j, p] · As[p, :]. */
function gemmTT(a: TensorData, aOffset: number, b: TensorData, bOffset: number, c: TensorData, cOffset: number, m: number, n: number, k: number): void {
  const column = allocate('float64', m) as Float64Array;
  for (let j = 0; j < n; j++) {
    column.fill(0);
    const bRow = bOffset + j * k;
    for (let p = 0; p < k; p++) {
      const bv = b[bRow + p]!;
      const aRow = aOffset + p * m;
      for (let i = 0; i < m; i++) column[i] = column[i]! + bv * a[aRow + i]!;
    }
    for (let i = 0; i < m; i++) c[cOffset + i * n + j] = column[i]!;
  }
}

/** The backend a product of this dtype and size runs on. */
export function gemmBackend(dtype: DType, m: number, n: number, k: number): 'wasm' | 'ts' {
  // a single dot product (m = n = 1) would fill 1 lane of a 4 × 8 tile: TypeScript is faster at any k
  const wasm = dtype === 'float32' && m * n > 1 && m * n * k >= WASM_MIN_MULTIPLY_ADDS && wasmGemmAvailable();
  return wasm ? 'wasm' : 'ts';
}

/**
 * Batched C = op(A) · op(B): `aIndex[t]`/`bIndex[t]` give the batch entry of A and B used for output batch t
 * (this is how broadcast batch dimensions are realised without copying). Stored matrices are [m, k] or
 * [k, m] (transA) for A and [k, n] or [n, k] (transB) for B. The backend is chosen by `gemmBackend`:
 * float32 products of at least `WASM_MIN_MULTIPLY_ADDS` multiply-adds (other than single dot products) run
 * on the WebAssembly SIMD kernel where it is available, everything else on `gemmTs`.
 */
export function batchedGemm(
  a: TensorData,
  b: TensorData,
  batch: number,
  aIndex: Int32Array,
  bIndex: Int32Array,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  dtype: DType,
): TensorData {
  const c = allocate(dtype, batch * m * n);
  batchedGemmInto(a, b, c, batch, aIndex, bIndex, m, n, k, transA, transB, dtype);
  return c;
}

/** {@link batchedGemm} into existing storage `c` (overwritten); allocates nothing. */
export function batchedGemmInto(
  a: TensorData,
  b: TensorData,
  c: TensorData,
  batch: number,
  aIndex: Int32Array,
  bIndex: Int32Array,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  dtype: DType,
): void {
  const wasm = gemmBackend(dtype, m, n, k) === 'wasm';
  for (let t = 0; t < batch; t++) {
    const aOffset = aIndex[t]! * m * k;
    const bOffset = bIndex[t]! * k * n;
    if (wasm) gemmWasm(a as Float32Array, aOffset, b as Float32Array, bOffset, c as Float32Array, t * m * n, m, n, k, transA, transB);
    else gemmTs(a, aOffset, b, bOffset, c, t * m * n, m, n, k, transA, transB);
  }
}

/**
 * {@link batchedGemmInto} for float32 products on the WebAssembly backend whose every batch entry reads the
 * same op(B), already packed: output batch t is op(A entry `aIndex[t]`) · op(B), m × `packed.n` with
 * contraction `packed.k`. The results are bit-identical to {@link batchedGemmInto}'s.
 */
export function batchedGemmPackedBInto(a: Float32Array, packed: PackedB, c: Float32Array, batch: number, aIndex: Int32Array, m: number, transA: boolean): void {
  const { k, n } = packed;
  for (let t = 0; t < batch; t++) gemmWasmPackedB(a, aIndex[t]! * m * k, packed, c, t * m * n, m, transA);
}
