/** Operands shared by the GEMM tests: the four transpose combinations and deterministic float32 values. */

/** Every (transA, transB) combination the backward pass uses. */
export const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

/** Deterministic float32 values in [-1, 1) from a seed (a linear congruential sequence). */
export function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}
