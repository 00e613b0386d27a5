/**
 * Threefry-2x32 (20 rounds), the counter-based generator of Salmon et al. (2011) that JAX uses: a keyed
 * bijection of 64-bit counters, so any element of any stream can be computed independently and the same
 * key gives the same bits on every platform. Integer-only (adds and rotates on uint32).
 *
 * The rounds are written out, with the rotation amounts and key words as constants and locals: about
 * twice as fast as looping over arrays of them, which matters once every training step draws dropout masks.
 */

// the rounds stay unrolled two statements a line, one line per round, to read as the spec's table
// prettier-ignore
/** Encrypts the counter pair (c0, c1) under key (k0, k1); writes the two output words into `out`. */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number, out: Uint32Array, at: number): void {
  const k2 = (k0 ^ k1 ^ 0x1bd11bda) | 0;
  let x0 = (c0 + k0) | 0;
  let x1 = (c1 + k1) | 0;
  // five blocks of four rounds (rotations 13 15 26 6, then 17 29 16 24), a key injection after each
  x0 = (x0 + x1) | 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + k1) | 0; x1 = (x1 + k2 + 1) | 0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  x0 = (x0 + k2) | 0; x1 = (x1 + k0 + 2) | 0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + k0) | 0; x1 = (x1 + k1 + 3) | 0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  x0 = (x0 + k1) | 0; x1 = (x1 + k2 + 4) | 0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + k2) | 0; x1 = (x1 + k0 + 5) | 0;
  out[at] = x0;
  out[at + 1] = x1;
}

/** The two words of the key derived from key (k0, k1) and counter (c0, c1): `split` uses (1, i), `foldIn` (2, data). */
export function deriveKeyWords(k0: number, k1: number, c0: number, c1: number): [number, number] {
  const words = new Uint32Array(2);
  threefry2x32(k0, k1, c0, c1, words, 0);
  return [words[0]!, words[1]!];
}

/** `count` pseudo-random uint32 words of the stream of key (k0, k1). */
export function randomBits(k0: number, k1: number, count: number): Uint32Array {
  const out = new Uint32Array(count + (count % 2));
  for (let i = 0; i < out.length; i += 2) threefry2x32(k0, k1, 0, i >>> 1, out, i);
  return count % 2 === 0 ? out : out.subarray(0, count);
}

/** The two uint32 words of a key tensor's storage (int32 [2]). */
export function keyWords(data: ArrayLike<number>): [number, number] {
  return [data[0]! >>> 0, data[1]! >>> 0];
}
