/**
 * Threefry-2x32 in WGSL and the samplers of core's `random` primitive. Integer arithmetic on u32 is exact in
 * WGSL, so a key gives the same bits as on the CPU. Where the CPU turns bits into numbers in float64, the
 * kernels keep what can be kept exactly in integers:
 * - `uniform` float32 uses 24 bits per number, as the CPU: `[0, 1)` draws (dropout's) are bit-identical, and
 *   other bounds differ from the CPU's double arithmetic by at most an ulp;
 * - `bernoulli` compares the CPU's 53-bit uniform with p exactly, as two integer words against ⌈p·2⁵³⌉;
 * - `normal` and `gumbel` take the same 53 bits, build 1 − u exactly in integers before the logarithm, and
 *   differ from the CPU only by float32 transcendentals (a few ulps).
 */
import { binding, elementKernel, FLOAT_HELPERS, literal, LOG_HELPERS, wgslType, type KernelSpec } from './common.js';
import type { SampleAttrs } from '@tapestry/core';

const THREEFRY = `
fn rotl(x: u32, r: u32) -> u32 { return (x << r) | (x >> (32u - r)); }
fn threefry(k0: u32, k1: u32, c0: u32, c1: u32) -> vec2<u32> {
  let k2 = k0 ^ k1 ^ 0x1bd11bdau;
  var x0 = c0 + k0;
  var x1 = c1 + k1;
  let ra = array<u32, 4>(13u, 15u, 26u, 6u);
  let rb = array<u32, 4>(17u, 29u, 16u, 24u);
  let ks = array<u32, 3>(k0, k1, k2);
  for (var block = 0u; block < 5u; block++) {
    for (var r = 0u; r < 4u; r++) {
      let rot = select(rb[r], ra[r], block % 2u == 0u);
      x0 = x0 + x1;
      x1 = rotl(x1, rot) ^ x0;
    }
    x0 = x0 + ks[(block + 1u) % 3u];
    x1 = x1 + ks[(block + 2u) % 3u] + block + 1u;
  }
  return vec2<u32>(x0, x1);
}
`;

/** Word `w` of the key's stream (the CPU's `randomBits(k0, k1, …)[w]`). */
const STREAM = `
fn stream_word(k0: u32, k1: u32, w: u32) -> u32 { let p = threefry(k0, k1, 0u, w >> 1u); return select(p.y, p.x, (w & 1u) == 0u); }
// the CPU's float64 uniform number u_j = ((b0 >> 5)·2²⁶ + (b1 >> 6)) / 2⁵³ from words 2j, 2j + 1, as two integers
fn wide_uniform(k0: u32, k1: u32, j: u32) -> vec2<u32> { let p = threefry(k0, k1, 0u, j); return vec2<u32>(p.x >> 5u, p.y >> 6u); }
// 1 - u for such a u, exactly as (hi·2²⁶ + lo) / 2⁵³, then rounded to f32 (2⁻²⁷ and 2⁻⁵³ scale the parts)
fn one_minus(u: vec2<u32>) -> f32 {
  var hi: u32; var lo: u32;
  if (u.y == 0u) { hi = 134217728u - u.x; lo = 0u; } else { hi = 134217727u - u.x; lo = 67108864u - u.y; }
  return f32(hi) * 7.450580596923828e-9 + f32(lo) * 1.1102230246251565e-16;
}
`;

/** The key's words from the int32 key tensor bound as `key`. */
const KEY = '  let k0 = bitcast<u32>(key[0]);\n  let k1 = bitcast<u32>(key[1]);';

/** deriveKey: the key of counter (c0, c1) under the key. */
export function deriveKeyKernel(c0: number, c1: number): KernelSpec {
  const decls = `${THREEFRY}\n${binding(0, 'key', 'i32', false)}\n${binding(1, 'y', 'i32', true)}`;
  const body = `${KEY}\n  let w = threefry(k0, k1, ${c0 >>> 0}u, ${c1 >>> 0}u);\n  y[i] = bitcast<i32>(select(w.y, w.x, i == 0u));`;
  const { code, groups } = elementKernel(2, decls, body);
  return { code, groups, bindings: 2, inputs: 1, readOnlyInputs: true };
}

/** The random primitive: `sample` drawn from the key tensor's stream. */
export function randomKernel(sample: SampleAttrs, n: number): KernelSpec {
  const t = wgslType(sample.dtype, 'random');
  const decls = `${THREEFRY}${STREAM}${FLOAT_HELPERS}${LOG_HELPERS}\n${binding(0, 'key', 'i32', false)}\n${binding(1, 'y', t, true)}`;
  let body: string;
  switch (sample.kind) {
    case 'uniform': {
      const low = literal(sample.low, 'float32');
      const span = literal(sample.high - sample.low, 'float32');
      const u = 'f32(stream_word(k0, k1, i) >> 8u) * 5.9604644775390625e-8';
      // low + span·u rounds once per operation; with low = 0 and span = 1 (dropout) it is u exactly
      body = sample.low === 0 && sample.high === 1 ? `  y[i] = ${u};` : `  y[i] = ${low} + ${span} * (${u});`;
      break;
    }
    case 'bernoulli': {
      // u < p  ⇔  N < ⌈p·2⁵³⌉ for the integer N = u·2⁵³ (p·2⁵³ is exact in double arithmetic)
      const c = Math.ceil(sample.p * 9007199254740992);
      const hi = Math.floor(c / 67108864);
      const lo = c - hi * 67108864;
      const one = sample.dtype === 'int32' ? '1i' : '1.0';
      const zero = sample.dtype === 'int32' ? '0i' : '0.0';
      body = `  let u = wide_uniform(k0, k1, i);\n  y[i] = select(${zero}, ${one}, u.x < ${hi}u || (u.x == ${hi}u && u.y < ${lo}u));`;
      break;
    }
    case 'normal': {
      // Box–Muller on the pair (u_2p, u_2p+1): even elements take the cosine, odd ones the sine
      body = `  let p = i >> 1u;
  let w = wide_uniform(k0, k1, 2u * p);
  // −log(1 − u): for u < 1/2 from log1p(−u) with u itself in f32, since 1 − u rounded to f32 would drop the
  // low bits of a small u (and a small radius would lose most of its digits); else from 1 − u built exactly
  var nlog: f32;
  if (w.x < 67108864u) { nlog = -log1p_f(-(f32(w.x) * 7.450580596923828e-9 + f32(w.y) * 1.1102230246251565e-16)); } else { nlog = -ln_acc(one_minus(w)); }
  let radius = sqrt(2.0 * nlog);
  let v = wide_uniform(k0, k1, 2u * p + 1u);
  let angle = 6.283185307179586 * (f32(v.x) * 7.450580596923828e-9 + f32(v.y) * 1.1102230246251565e-16);
  let z = select(sin(angle), cos(angle), (i & 1u) == 0u);
  y[i] = ${literal(sample.mean, 'float32')} + ${literal(sample.std, 'float32')} * radius * z;`;
      break;
    }
    case 'gumbel': {
      // open = (⌊u·2⁵²⌋ + 1/2) / 2⁵², −log(−log(open)); the inner log from whichever of open and 1 − open is small
      body = `  let u = wide_uniform(k0, k1, i);
  let m_hi = u.x >> 1u;
  let m_lo = ((u.x & 1u) << 25u) | (u.y >> 1u);
  let open = f32(m_hi) * 1.4901161193847656e-8 + (f32(m_lo) + 0.5) * 2.220446049250313e-16;
  let q = f32(67108863u - m_hi) * 1.4901161193847656e-8 + (f32(67108863u - m_lo) + 0.5) * 2.220446049250313e-16;
  var inner: f32;
  if (open < 0.5) { inner = -ln_acc(open); } else { inner = -log1p_f(-q); }
  y[i] = -ln_acc(inner);`;
      break;
    }
  }
  const { code, groups } = elementKernel(n, decls, `${KEY}\n${body}`);
  return { code, groups, bindings: 2, inputs: 1, readOnlyInputs: true };
}
