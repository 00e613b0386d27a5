/**
 * Writes the WebAssembly text of the elementwise SIMD kernels (packages/core/src/kernels/wasm/elementwise-wasm.ts
 * runs them). The module is generated rather than written by hand because it is one small loop per
 * (function, dtype): writing forty loops out would hide the few lines in which they differ.
 *
 * Every kernel is a loop over whole 16-byte vectors from `o` to `end`; the caller rounds lengths up to whole
 * vectors (the scratch past the end is junk that it never copies out). Each input advances by a byte step per
 * vector that the caller passes: 16 for an input that varies along the row, 0 for a broadcast scalar, which
 * the caller has splatted across one vector. So stride-0 and stride-1 operands share one loop.
 *
 * Only functions whose SIMD instruction rounds exactly as the JavaScript expression does are here (IEEE
 * add, sub, mul, div, sqrt, floor, comparisons, selects); see elementwise-wasm.ts for the argument, and for
 * exp, tanh and sigmoid, which evaluate fast-math.ts's double-precision algorithm two lanes at a time.
 */
import { fastMathParameters } from '../../packages/core/src/kernels/fast-math.js';

/**
 * Byte address of fast-math's 2^(j/128) table, (hi, lo) pairs of doubles, in the module's memory: 128 × 16
 * bytes, so it ends at 2048, where the caller's scratch starts (SCRATCH_AT in elementwise-wasm.ts).
 */
const POW_TABLE_AT = 0;

/** An f64 literal that parses back to exactly `value` (hexadecimal significand, so no decimal rounding). */
function f64(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`elementwise-wat: non-finite constant ${value}`);
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

const splat64 = (value: number): string => `(f64x2.splat (f64.const ${f64(value)}))`;

/** A binary kernel's element expression over the vectors `$x`, `$y` (locals), by dtype. */
type Expression = (t: 'f32x4' | 'f64x2') => string;

const arithmetic: Record<string, Expression> = {
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
const comparisons: Record<string, string> = {
  greater: 'gt',
  less: 'lt',
  equal: 'eq',
  greaterEqual: 'ge',
  lessEqual: 'le',
  notEqual: 'ne',
};

/** Unary kernels over `$x` (a local), by dtype; `$p` is the f64 parameter splatted to the dtype. */
const unary: Record<string, Expression> = {
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

/**
 * A loop from `$o` to `$end` (whole vectors): `body` computes `$r` from vectors loaded at the input
 * pointers, then `store` writes it at `$o`. `inputs` name the pointer params, each with an `…Step` param.
 */
function loop(inputs: readonly string[], oStep: number, body: string, store: string): string {
  const advance = inputs.map((p) => `(local.set $${p} (i32.add (local.get $${p}) (local.get $${p}Step)))`).join('\n      ');
  return `
    (loop $vectors
      ${body}
      ${store}
      ${advance}
      (local.set $o (i32.add (local.get $o) (i32.const ${oStep})))
      (br_if $vectors (i32.lt_u (local.get $o) (local.get $end))))`;
}

function binaryKernels(): string[] {
  const out: string[] = [];
  const params = '(param $a i32) (param $aStep i32) (param $b i32) (param $bStep i32) (param $o i32) (param $end i32)';
  const loads = '(local.set $x (v128.load (local.get $a)))\n      (local.set $y (v128.load (local.get $b)))';
  for (const [t, dtype] of [
    ['f32x4', 'f32'],
    ['f64x2', 'f64'],
  ] as const) {
    for (const [name, expression] of Object.entries(arithmetic)) {
      out.push(`
  (func (export "${dtype}_${name}") ${params} (local $x v128) (local $y v128)
    ${loop(['a', 'b'], 16, loads, `(v128.store (local.get $o) ${expression(t)})`)})`);
    }
    for (const [name, op] of Object.entries(comparisons)) {
      // the result is int32: four lanes of f32 map to four int32, two lanes of f64 to two (8 bytes)
      const mask = `(local.set $m (v128.and (${t}.${op} (local.get $x) (local.get $y)) (v128.const i32x4 1 1 1 1)))`;
      const store =
        t === 'f32x4'
          ? '(v128.store (local.get $o) (local.get $m))'
          : '(v128.store64_lane 0 (local.get $o) (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $m) (local.get $m)))';
      out.push(`
  (func (export "${dtype}_${name}") ${params} (local $x v128) (local $y v128) (local $m v128)
    ${loop(['a', 'b'], t === 'f32x4' ? 16 : 8, `${loads}\n      ${mask}`, store)})`);
    }
  }
  return out;
}

function whereKernels(): string[] {
  const params = '(param $c i32) (param $cStep i32) (param $a i32) (param $aStep i32) (param $b i32) (param $bStep i32) (param $o i32) (param $end i32)';
  const select = (mask: string) => `(v128.store (local.get $o) (v128.bitselect (v128.load (local.get $a)) (v128.load (local.get $b)) ${mask}))`;
  // `cond !== 0`: NaN counts as true and -0 as false, as `ne` has it
  return [
    // float32 data, int32 or float32 condition (four lanes each)
    `
  (func (export "f32_where_i32") ${params}
    ${loop(['c', 'a', 'b'], 16, '', select('(i32x4.ne (v128.load (local.get $c)) (v128.const i64x2 0 0))'))})`,
    `
  (func (export "f32_where_f32") ${params}
    ${loop(['c', 'a', 'b'], 16, '', select('(f32x4.ne (v128.load (local.get $c)) (v128.const i64x2 0 0))'))})`,
    // float64 data: an int32 condition gives two lanes per vector (8 bytes), widened to 64-bit masks
    `
  (func (export "f64_where_i32") ${params}
    ${loop(['c', 'a', 'b'], 16, '', select('(i64x2.extend_low_i32x4_s (i32x4.ne (v128.load64_zero (local.get $c)) (v128.const i64x2 0 0)))'))})`,
    `
  (func (export "f64_where_f64") ${params}
    ${loop(['c', 'a', 'b'], 16, '', select('(f64x2.ne (v128.load (local.get $c)) (v128.const i64x2 0 0))'))})`,
  ];
}

function unaryKernels(): string[] {
  const out: string[] = [];
  const params = '(param $in i32) (param $inStep i32) (param $o i32) (param $end i32) (param $param f64)';
  for (const [t, dtype] of [
    ['f32x4', 'f32'],
    ['f64x2', 'f64'],
  ] as const) {
    const p = t === 'f32x4' ? '(f32x4.splat (f32.demote_f64 (local.get $param)))' : '(f64x2.splat (local.get $param))';
    for (const [name, expression] of Object.entries(unary)) {
      out.push(`
  (func (export "${dtype}_${name}") ${params} (local $x v128) (local $p v128)
    (local.set $p ${p})
    ${loop(['in'], 16, '(local.set $x (v128.load (local.get $in)))', `(v128.store (local.get $o) ${expression(t)})`)})`);
    }
  }
  return out;
}

/**
 * fast-math.ts's range reduction for two doubles `$x` (already clamped to where it holds): sets `$t`, `$tl`
 * (the table's 2^(j/128) hi and lo parts), `$s` (2ᵏ) and `$q` (eʳ − 1), in exactly fast-math's order of
 * operations. n = (x·128/ln 2 + 1.5·2⁵²) − 1.5·2⁵² is an integer, which the low 32 bits of the sum hold in
 * two's complement (what `n | 0` gives). The table holds (hi, lo) pairs, one 16-byte load per lane. 2ᵏ is
 * built from its bits (k + 1023 in the exponent field), the value fast-math's table of powers of two holds
 * for every k reachable here.
 */
function reduce(): string {
  const c = fastMathParameters;
  const entry = (lane: number) => `(v128.load offset=${POW_TABLE_AT} (i32x4.extract_lane ${lane} (local.get $j)))`;
  return `
      (local.set $n (f64x2.add (f64x2.mul (local.get $x) ${splat64(c.INV_STEP)}) ${splat64(c.ROUNDING_SHIFT)}))
      (local.set $i (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $n) (local.get $n)))
      (local.set $n (f64x2.sub (local.get $n) ${splat64(c.ROUNDING_SHIFT)}))
      (local.set $r (f64x2.sub (f64x2.sub (local.get $x) (f64x2.mul (local.get $n) ${splat64(c.STEP_HI)})) (f64x2.mul (local.get $n) ${splat64(c.STEP_LO)})))
      (local.set $j (i32x4.shl (v128.and (local.get $i) (v128.const i32x4 ${c.TABLE_SIZE - 1} ${c.TABLE_SIZE - 1} 0 0)) (i32.const 4)))
      (local.set $e0 ${entry(0)})
      (local.set $e1 ${entry(1)})
      (local.set $t (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $e0) (local.get $e1)))
      (local.set $tl (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $e0) (local.get $e1)))
      (local.set $s (i64x2.shl (i64x2.extend_low_i32x4_s (i32x4.add (i32x4.shr_s (local.get $i) (i32.const ${c.TABLE_BITS})) (v128.const i32x4 1023 1023 1023 1023))) (i32.const 52)))
      (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
      (local.set $q (f64x2.add (local.get $r) (f64x2.mul (local.get $r2) (f64x2.add
        (f64x2.add ${splat64(c.C2)} (f64x2.mul (local.get $r) ${splat64(c.C3)}))
        (f64x2.mul (local.get $r2) (f64x2.add ${splat64(c.C4)} (f64x2.mul (local.get $r) ${splat64(c.C5)})))))))`;
}

// pmin/pmax are single instructions (f64x2.min/max are not: they order NaN and signed zeros); a NaN
// argument fails both comparisons and passes through, as min/max would pass it
const clamp = (bound: number) => `(local.set $x (f64x2.pmax (f64x2.pmin (local.get $x) ${splat64(bound)}) ${splat64(-bound)}))`;

/** For each float32 function: the statements turning `$x` (two doubles) into `$y`. */
function transcendental(): Record<string, string> {
  const c = fastMathParameters;
  // eˣ = 2ᵏ·(T_hi + (T_lo + T_hi·(eʳ − 1))). Clamping to ±EXP_FAST_LIMIT leaves every argument that
  // fastExp evaluates this way alone; beyond it a float32 result is +Infinity or +0 either way (NaN stays NaN).
  const expNormal = '(f64x2.mul (local.get $s) (f64x2.add (local.get $t) (f64x2.add (local.get $tl) (f64x2.mul (local.get $t) (local.get $q)))))';
  return {
    exp: `${clamp(c.EXP_FAST_LIMIT)}${reduce()}
      (local.set $y ${expNormal})`,
    // 1 / (1 + e⁻ˣ) with fastExp's argument −x: beyond ±EXP_FAST_LIMIT the float32 result is 1 or +0, which
    // the formula gives at the clamp too
    sigmoid: `${clamp(c.EXP_FAST_LIMIT)}
      (local.set $a (local.get $x))
      (local.set $x (f64x2.neg (local.get $x)))${reduce()}
      (local.set $y (f64x2.div ${splat64(1)} (f64x2.add ${splat64(1)} ${expNormal})))`,
    // −u / (u + 2) with u = e^(−2x) − 1 = 2ᵏ·(T_lo + T_hi·(eʳ − 1)) + (2ᵏ·T_hi − 1) where 0 < |x| < 20;
    // otherwise x > 0 ? 1 : x < 0 ? −1 : x
    tanh: `
      (local.set $a (local.get $x))
      ${clamp(c.TANH_SATURATION)}
      (local.set $x (f64x2.mul ${splat64(-2)} (local.get $x)))${reduce()}
      (local.set $u (f64x2.add (f64x2.mul (local.get $s) (f64x2.add (local.get $tl) (f64x2.mul (local.get $t) (local.get $q))))
        (f64x2.sub (f64x2.mul (local.get $s) (local.get $t)) ${splat64(1)})))
      (local.set $y (v128.bitselect
        (f64x2.div (f64x2.neg (local.get $u)) (f64x2.add (local.get $u) ${splat64(2)}))
        (v128.bitselect ${splat64(1)} (v128.bitselect ${splat64(-1)} (local.get $a) (f64x2.lt (local.get $a) (v128.const i64x2 0 0)))
          (f64x2.gt (local.get $a) (v128.const i64x2 0 0)))
        (v128.and (f64x2.gt (f64x2.abs (local.get $a)) (v128.const i64x2 0 0)) (f64x2.lt (f64x2.abs (local.get $a)) ${splat64(c.TANH_SATURATION)}))))`,
  };
}

function transcendentalKernels(): string[] {
  const params = '(param $in i32) (param $inStep i32) (param $o i32) (param $end i32) (param $param f64)';
  const locals = ['$v', '$x', '$y', '$lo', '$a', '$n', '$r', '$r2', '$i', '$j', '$e0', '$e1', '$t', '$tl', '$s', '$q', '$u']
    .map((l) => `(local ${l} v128)`)
    .join(' ');
  return Object.entries(transcendental()).map(
    ([name, body]) => `
  (func (export "f32_${name}") ${params} ${locals}
    ${loop(
      ['in'],
      16,
      `(local.set $v (v128.load (local.get $in)))
      ;; lanes 0, 1 as doubles
      (local.set $x (f64x2.promote_low_f32x4 (local.get $v)))${body}
      (local.set $lo (local.get $y))
      ;; lanes 2, 3
      (local.set $x (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))${body}`,
      `(v128.store (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $y))))`,
    )})`,
  );
}

/**
 * Column sums into `dst`: dst[j] += Σ_r x[r·cols + j] in row order, one rounding per add (reduce.ts's order
 * when the reduced axes are not the innermost). `cols` is a whole number of vectors here.
 */
function sumKernels(): string[] {
  return [
    ['f32x4', 'f32'],
    ['f64x2', 'f64'],
  ].map(
    ([t, dtype]) => `
  (func (export "${dtype}_addRows") (param $x i32) (param $rows i32) (param $rowBytes i32) (param $dst i32)
    (local $d i32) (local $end i32) (local $r i32)
    (local.set $end (i32.add (local.get $dst) (local.get $rowBytes)))
    (loop $row
      (local.set $d (local.get $dst))
      (loop $vector
        (v128.store (local.get $d) (${t}.add (v128.load (local.get $d)) (v128.load (local.get $x))))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br_if $vector (i32.lt_u (local.get $d) (local.get $end))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $row (i32.lt_u (local.get $r) (local.get $rows)))))`,
  );
}

/** The whole module's text. */
export function elementwiseWat(): string {
  return `;; Generated by tools/wasm/elementwise-wat.ts; see there.
(module
  (memory (export "memory") 1)
${[...binaryKernels(), ...whereKernels(), ...unaryKernels(), ...transcendentalKernels(), ...sumKernels()].join('\n')})
`;
}
