/**
 * The WebAssembly text of the SIMD elementwise functions: each function's expression (or statements) over
 * vectors held in locals, exactly as the JavaScript rows compute it. Two users assemble them: the build, into
 * the elementwise kernels' module (tools/wasm/elementwise-wat.ts, one loop per function), and compiled plans at
 * run time, into one loop per fused group (fused-codegen.ts), so that a value computed either way has the
 * same bits.
 *
 * Only functions whose SIMD instruction rounds exactly as the JavaScript expression does are here (IEEE
 * add, sub, mul, div, sqrt, floor, comparisons, selects); see elementwise-wasm.ts for the argument, and for
 * exp, tanh and sigmoid, which evaluate fast-math.ts's float32 algorithm four lanes at a time, operation for
 * operation (WebAssembly never contracts a multiply and an add, and its float32 arithmetic is IEEE's, subnormals
 * included, as `Math.fround` of the double operation is). @internal
 */
import { float32MathParameters } from '../fast-math.js';

/** An f64 literal that parses back to exactly `value` (hexadecimal significand, so no decimal rounding). */
function f64(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`simd-wat: non-finite constant ${value}`);
  if (value === 0) return Object.is(value, -0) ? '-0x0p+0' : '0x0p+0';
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? '-' : '';
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const mantissa = (bits & 0xfffffffffffffn).toString(16).padStart(13, '0');
  if (exponent === 0) return `${sign}0x0.${mantissa}p-1022`;
  return `${sign}0x1.${mantissa}p${exponent - 1023}`;
}

/** A binary kernel's element expression over the vectors `$x`, `$y` (locals), by dtype. */
export type Expression = (t: 'f32x4' | 'f64x2') => string;

export const arithmetic: Record<string, Expression> = {
  add: (t) => `(${t}.add (local.get $x) (local.get $y))`,
  sub: (t) => `(${t}.sub (local.get $x) (local.get $y))`,
  mul: (t) => `(${t}.mul (local.get $x) (local.get $y))`,
  div: (t) => `(${t}.div (local.get $x) (local.get $y))`,
  // `x > y || x !== x ? x : y`: pmax(y, x) is `y < x ? x : y` (y on ties, as the JS, so max(0, -0) is -0),
  // then x wherever x is NaN
  maximum: (t) => `(v128.bitselect (local.get $x) (${t}.pmax (local.get $y) (local.get $x)) (${t}.ne (local.get $x) (local.get $x)))`,
  minimum: (t) => `(v128.bitselect (local.get $x) (${t}.pmin (local.get $y) (local.get $x)) (${t}.ne (local.get $x) (local.get $x)))`,
};

/** Comparisons: an all-ones lane mask, which becomes the int32 0/1 the JS writes. */
export const comparisons: Record<string, string> = {
  greater: 'gt',
  less: 'lt',
  equal: 'eq',
  greaterEqual: 'ge',
  lessEqual: 'le',
  notEqual: 'ne',
};

/** Unary kernels over `$x` (a local), by dtype; `$p` is the f64 parameter splatted to the dtype. */
export const unary: Record<string, Expression> = {
  neg: (t) => `(${t}.neg (local.get $x))`,
  abs: (t) => `(${t}.abs (local.get $x))`,
  sqrt: (t) => `(${t}.sqrt (local.get $x))`,
  square: (t) => `(${t}.mul (local.get $x) (local.get $x))`,
  floor: (t) => `(${t}.floor (local.get $x))`,
  // `v > 0 ? v : 0`: NaN and -0 give +0, as the comparison is false for them
  relu: (t) => `(v128.and (local.get $x) (${t}.gt (local.get $x) (v128.const i64x2 0 0)))`,
  // `v > 0 ? v : v·p`
  leakyRelu: (t) => `(v128.bitselect (local.get $x) (${t}.mul (local.get $x) (local.get $p)) (${t}.gt (local.get $x) (v128.const i64x2 0 0)))`,
  // `v > 0 ? 1 : v < 0 ? -1 : v` (±0 and NaN pass through)
  sign: (t) => {
    const one = t === 'f32x4' ? '(f32x4.splat (f32.const 1))' : '(f64x2.splat (f64.const 1))';
    const minusOne = t === 'f32x4' ? '(f32x4.splat (f32.const -1))' : '(f64x2.splat (f64.const -1))';
    return `(v128.bitselect ${one} (v128.bitselect ${minusOne} (local.get $x) (${t}.lt (local.get $x) (v128.const i64x2 0 0))) (${t}.gt (local.get $x) (v128.const i64x2 0 0)))`;
  },
};

/** An f32 literal that parses back to exactly `value` (a float32 value; hexadecimal, so no decimal rounding). */
export function f32(value: number): string {
  if (Math.fround(value) !== value) throw new Error(`simd-wat: ${value} is not a float32 value`);
  return f64(value);
}

const splat32 = (value: number): string => `(f32x4.splat (f32.const ${f32(value)}))`;
const mul = (a: string, b: string): string => `(f32x4.mul ${a} ${b})`;
const add = (a: string, b: string): string => `(f32x4.add ${a} ${b})`;
const get = (local: string): string => `(local.get ${local})`;
/** The float32 bits of 1.5·2²³ + n hold n in their low bits: subtracting these bits gives n as an int32. */
const SHIFT_BITS = 0x4b400000;
const SIGN_BIT = '(v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000)';

/**
 * Statements setting `$y` to e^`argument` (an expression over four float32 lanes), as fast-math.ts's `exp32`
 * computes it, operation for operation: clamp, n = round(t·log₂e) by the rounding shift (whose bits also give
 * n as an integer), r = t − n·LN2_HI − n·LN2_LO, 1 + r + r²·P(r), then times 2^⌊n/2⌋ and 2^(n−⌊n/2⌋), each built
 * from its bits (k + 127 in the exponent field). pmin/pmax are single instructions and pass NaN through.
 *
 * `range` leaves out what an argument known to lie in it never needs, which changes no result: the clamps it
 * already satisfies, and for an argument that keeps eˣ normal (≥ −87, so |n| ≤ 126) the split of 2ⁿ into two
 * factors, which one exact multiplication by 2ⁿ replaces.
 */
function exp32(argument: string, range: { readonly below?: number; readonly above?: number } = {}): string {
  const c = float32MathParameters;
  // P(r) = (P5 + P4·r) + r²·((P3 + P2·r) + r²·(P1 + P0·r)): three independent pairs, a shorter dependency
  // chain than Horner's (each multiply and add waits for the one before), which is what bounds this loop
  const [p0, p1, p2, p3, p4, p5] = c.P;
  const pair = (high: number, low: number): string => add(mul(splat32(high), get('$r')), splat32(low));
  const horner = add(pair(p4, p5), mul(get('$r2'), add(pair(p2, p3), mul(get('$r2'), pair(p0, p1)))));
  const power = (k: string) => `(i32x4.shl (i32x4.add ${k} (v128.const i32x4 127 127 127 127)) (i32.const 23))`;
  const high = range.below !== undefined && range.below <= c.EXP_MAX ? argument : `(f32x4.pmin ${argument} ${splat32(c.EXP_MAX)})`;
  const clamped = range.above !== undefined && range.above >= c.EXP_MIN ? high : `(f32x4.pmax ${high} ${splat32(c.EXP_MIN)})`;
  const normal = range.above !== undefined && range.above >= -87 && range.below !== undefined && range.below <= 87;
  const scale = normal
    ? `(local.set $y ${mul(get('$y'), power(get('$i')))})`
    : `(local.set $h (i32x4.shr_s (local.get $i) (i32.const 1)))
      (local.set $y ${mul(mul(get('$y'), power(get('$h'))), power('(i32x4.sub (local.get $i) (local.get $h))'))})`;
  return `
      (local.set $t ${clamped})
      (local.set $n ${add(mul(get('$t'), splat32(c.LOG2E)), splat32(c.ROUNDING_SHIFT))})
      (local.set $i (i32x4.sub (local.get $n) (v128.const i32x4 ${SHIFT_BITS} ${SHIFT_BITS} ${SHIFT_BITS} ${SHIFT_BITS})))
      (local.set $n (f32x4.sub (local.get $n) ${splat32(c.ROUNDING_SHIFT)}))
      (local.set $r (f32x4.sub (f32x4.sub (local.get $t) ${mul(get('$n'), splat32(c.LN2_HI))}) ${mul(get('$n'), splat32(c.LN2_LO))}))
      (local.set $r2 ${mul(get('$r'), get('$r'))})
      (local.set $y ${add(add(mul(horner, get('$r2')), get('$r')), splat32(1))})
      ${scale}`;
}

/** For each float32 function: the statements turning `$x` (four float32 lanes) into `$y`, as fast-math.ts. */
export function transcendental(): Record<string, string> {
  const c = float32MathParameters;
  // Q(z) = (Q4 + Q3·z) + z²·((Q2 + Q1·z) + z²·Q0), as exp32's P
  const [q0, q1, q2, q3, q4] = c.Q;
  const pair = (high: number, low: number): string => add(mul(splat32(high), get('$z')), splat32(low));
  const q = add(pair(q3, q4), mul(get('$z2'), add(pair(q1, q2), mul(get('$z2'), splat32(q0)))));
  return {
    exp: exp32(get('$x')),
    // tanh(|x|) by both formulas, the polynomial chosen below 0.625, then x's sign bit or-ed on; the
    // exponential's |x| clamped at 9.5, as fast-math.ts explains
    tanh: `
      (local.set $a (f32x4.abs (local.get $x)))
      (local.set $z ${mul(get('$a'), get('$a'))})
      (local.set $z2 ${mul(get('$z'), get('$z'))})
      (local.set $s ${add(mul(mul(q, get('$z')), get('$a')), get('$a'))})${exp32(mul(splat32(-2), `(f32x4.pmin (local.get $a) ${splat32(c.TANH_ONE)})`), { above: -2 * c.TANH_ONE, below: 0 })}
      (local.set $y (f32x4.div (f32x4.sub ${splat32(1)} (local.get $y)) ${add(splat32(1), get('$y'))}))
      (local.set $y (v128.or
        (v128.bitselect (local.get $s) (local.get $y) (f32x4.lt (local.get $a) ${splat32(c.TANH_SMALL)}))
        (v128.and (local.get $x) ${SIGN_BIT})))`,
    // (x ≥ 0 ? 1 : e) / (1 + e) with e = e^(−|x|)
    sigmoid: `${exp32('(f32x4.neg (f32x4.abs (local.get $x)))', { below: 0 })}
      (local.set $y (f32x4.div
        (v128.bitselect ${splat32(1)} (local.get $y) (f32x4.ge (local.get $x) (v128.const i64x2 0 0)))
        ${add(splat32(1), get('$y'))}))`,
  };
}

/**
 * `body` with each distinct vector constant (a splatted f32.const or a v128.const) read from a local set once
 * before the loop: V8 rebuilds a splat or a v128.const on every iteration where it appears inside the loop,
 * which for the polynomials here doubled the work.
 */
export function hoistConstants(body: string): { body: string; setUp: string; locals: string[] } {
  const names = new Map<string, string>();
  const hoisted = body.replace(/\(f32x4\.splat \(f32\.const [^()]+\)\)|\(v128\.const [^()]+\)/g, (constant) => {
    if (!names.has(constant)) names.set(constant, `$k${names.size}`);
    return `(local.get ${names.get(constant)})`;
  });
  return {
    body: hoisted,
    setUp: [...names].map(([constant, local]) => `(local.set ${local} ${constant})`).join('\n    '),
    locals: [...names.values()],
  };
}
