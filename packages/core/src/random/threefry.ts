/**
 * Threefry-2x32 (20 rounds), the counter-based generator of Salmon et al. (2011) that JAX uses: a keyed
 * bijection of 64-bit counters, so any element of any stream can be computed independently and the same
 * key gives the same bits on every platform. Integer-only (Math.imul-free adds and rotates on uint32).
 */
const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24];

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

/** Encrypts the counter pair (c0, c1) under key (k0, k1); writes the two output words into `out`. */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number, out: Uint32Array, at: number): void {
  const k2 = (k0 ^ k1 ^ 0x1bd11bda) >>> 0;
  const ks = [k0 >>> 0, k1 >>> 0, k2];
  let x0 = (c0 + ks[0]!) >>> 0;
  let x1 = (c1 + ks[1]!) >>> 0;
  for (let block = 0; block < 5; block++) {
    const base = (block % 2) * 4;
    for (let r = 0; r < 4; r++) {
      x0 = (x0 + x1) >>> 0;
      x1 = rotl(x1, ROTATIONS[base + r]!) ^ x0;
    }
    // key injection after every four rounds
    x0 = (x0 + ks[(block + 1) % 3]!) >>> 0;
    x1 = (x1 + ks[(block + 2) % 3]! + block + 1) >>> 0;
  }
  out[at] = x0;
  out[at + 1] = x1;
}

/** `count` pseudo-random uint32 words of the stream of key (k0, k1). */
export function randomBits(k0: number, k1: number, count: number): Uint32Array {
  const out = new Uint32Array(count + (count % 2));
  for (let i = 0; i < out.length; i += 2) threefry2x32(k0, k1, 0, i >>> 1, out, i);
  return count % 2 === 0 ? out : out.subarray(0, count);
}
