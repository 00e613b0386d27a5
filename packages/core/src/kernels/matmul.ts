import { allocate, type DType, type TensorData } from '../dtype.js';

/**
 * C[M, N] = A[M, K] · B[K, N] for one matrix of a batch, at the given offsets. The i-k-j loop order streams
 * rows of B and C contiguously (the naive i-j-k order strides down B's columns and misses the cache); the
 * k loop is unrolled by four so each pass over a row of C does four multiply-adds per load and store.
 */
export function matmulInto(
  a: TensorData, aOffset: number, b: TensorData, bOffset: number, c: TensorData, cOffset: number, m: number, k: number, n: number,
): void {
  for (let i = 0; i < m; i++) {
    const row = cOffset + i * n;
    const aRow = aOffset + i * k;
    let p = 0;
    for (; p + 3 < k; p += 4) {
      const a0 = a[aRow + p]!, a1 = a[aRow + p + 1]!, a2 = a[aRow + p + 2]!, a3 = a[aRow + p + 3]!;
      const b0 = bOffset + p * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        c[row + j] = c[row + j]! + a0 * b[b0 + j]! + a1 * b[b1 + j]! + a2 * b[b2 + j]! + a3 * b[b3 + j]!;
      }
    }
    for (; p < k; p++) {
      const av = a[aRow + p]!;
      if (av === 0) continue;
      const b0 = bOffset + p * n;
      for (let j = 0; j < n; j++) c[row + j] = c[row + j]! + av * b[b0 + j]!;
    }
  }
}

/**
 * Batched matrix product: `aIndex[i]`/`bIndex[i]` give the batch entry of A and B used for output batch i
 * (this is how broadcast batch dimensions are realised without copying).
 */
export function batchedMatmulKernel(
  a: TensorData, b: TensorData, batch: number, aIndex: Int32Array, bIndex: Int32Array, m: number, k: number, n: number, dtype: DType,
): TensorData {
  const c = allocate(dtype, batch * m * n);
  for (let t = 0; t < batch; t++) matmulInto(a, aIndex[t]! * m * k, b, bIndex[t]! * k * n, c, t * m * n, m, k, n);
  return c;
}
