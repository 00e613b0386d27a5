/**
 * Fast double-precision `exp`, `tanh` and `sigmoid` for the float32 elementwise kernels.
 *
 * `Math.exp` and `Math.tanh` cost 8–13 ns per call in V8, which made them the bulk of a fused LSTM cell. These
 * versions are straight-line code that the optimising compiler inlines into the kernel loop: a table-driven
 * range reduction, a short polynomial and table look-ups instead of bit manipulation. They stay within a few
 * units in the last place of the exact result, so rounded to float32 they agree with `Math.*` rounded to
 * float32 except where the exact value lies almost exactly on a float32 rounding boundary (and then they
 * differ by one float32 ulp). Float64 kernels keep `Math.*`, whose last bits the float64 gradient tests rely on.
 *
 * The reduction: x = n·(ln 2)/128 + r with n = round(128x/ln 2), |r| ≤ (ln 2)/256, and n = 128k + j, so
 * eˣ = 2ᵏ · 2^(j/128) · eʳ. 2^(j/128) comes from a 128-entry table held as a double plus its remainder, eʳ − 1
 * from a degree-5 polynomial (relative error below 3e-17 on |r| ≤ 0.00271), and 2ᵏ from a table of powers of
 * two. Every branch is one the processor predicts: it only leaves the fast path for values near overflow,
 * underflow, zero or NaN.
 */

/** 1.5·2⁵²: adding and subtracting it rounds a double of magnitude below 2⁵¹ to the nearest integer. */
const ROUNDING_SHIFT = 6755399441055744;
/** The table has 2^TABLE_BITS entries: n = k·2^TABLE_BITS + j. */
const TABLE_BITS = 7;
const TABLE_SIZE = 1 << TABLE_BITS;
/** 128 / ln 2. */
const INV_STEP = 184.6649652337873;
/**
 * (ln 2)/128 split as STEP_HI + STEP_LO, STEP_HI rounded to 34 significant bits so that n·STEP_HI is exact for
 * every |n| < 2¹⁹ (any |x| < 2800), which makes x − n·STEP_HI exact.
 */
const STEP_HI = 0.0054152123482253955;
const STEP_LO = -1.0082281460997769e-13;

/**
 * Coefficients of eʳ − 1 ≈ r + r²·(C2 + C3·r + C4·r² + C5·r³) on |r| ≤ (ln 2)/256: a Chebyshev fit of
 * (eʳ − 1 − r)/r² (mpmath, 200 bits), relative error of the whole below 3e-17.
 */
const C2 = 0.4999999999999907;
const C3 = 0.16666666666666533;
const C4 = 0.04166667684879449;
const C5 = 0.008333334787922985;

/** 2^(1/128) as a double plus its remainder (mpmath, 200 bits). */
const ROOT_HI = 1.0054299011128027;
const ROOT_LO = 9.499186535455032e-17;

/**
 * TWO_POW_J_HI[j] + TWO_POW_J_LO[j] = 2^(j/128) to about 2⁻⁹⁷ relative: the hi part is the double nearest
 * 2^(j/128), the lo part what it misses. Built by repeated double-double multiplication by 2^(1/128), which
 * IEEE arithmetic makes identical on every JavaScript engine.
 */
const TWO_POW_J_HI = new Float64Array(TABLE_SIZE);
const TWO_POW_J_LO = new Float64Array(TABLE_SIZE);
fillPowerTables();

function fillPowerTables(): void {
  let hi = 1;
  let lo = 0;
  for (let j = 0; j < TABLE_SIZE; j++) {
    TWO_POW_J_HI[j] = hi;
    TWO_POW_J_LO[j] = lo;
    // (hi + lo)·(ROOT_HI + ROOT_LO): hi·ROOT_HI exactly as a product plus its rounding error (Dekker), the
    // cross terms in plain doubles, then renormalised so that hi is the nearest double to the sum.
    const p = hi * ROOT_HI;
    const [hh, hl] = split(hi);
    const [rh, rl] = split(ROOT_HI);
    const error = hh * rh - p + hh * rl + hl * rh + hl * rl;
    const tail = error + (hi * ROOT_LO + lo * ROOT_HI);
    hi = p + tail;
    lo = tail - (hi - p);
  }
}

/** Veltkamp's split of a double into two halves of 26 significant bits each, whose products are exact. */
function split(a: number): [number, number] {
  const c = 134217729 * a; // 2²⁷ + 1
  const high = c - (c - a);
  return [high, a - high];
}

/** POW2[k + POW2_BIAS] = 2ᵏ for every normal power of two, k = −1022…1023. */
const POW2_BIAS = 1022;
const POW2 = new Float64Array(POW2_BIAS + 1024);
// Doubling and halving are exact throughout the normal range.
for (let k = 0, p = 1; k <= 1023; k++, p *= 2) POW2[POW2_BIAS + k] = p;
for (let k = -1, p = 0.5; k >= -1022; k--, p *= 0.5) POW2[POW2_BIAS + k] = p;

/** Below this magnitude eˣ and e⁻ˣ are normal doubles, so one table power of two scales the result. */
const EXP_FAST_LIMIT = 708;
/** At or beyond these, eˣ rounds to Infinity or to 0 (the exact limits are 709.78… and −745.13…). */
const EXP_OVERFLOW = 710;
const EXP_UNDERFLOW = -746;

// The hot helpers are `const` arrow functions: V8 treats a module's const bindings as constants, while a
// function declaration is a mutable binding whose identity inlined code re-checks on every call.

/** eʳ − 1 for |r| ≤ (ln 2)/256, evaluated in two halves for more instruction-level parallelism. */
const expm1Reduced = (r: number): number => {
  const r2 = r * r;
  return r + r2 * (C2 + r * C3 + r2 * (C4 + r * C5));
};

/** eˣ for |x| < 708 (or NaN, which it returns): 2ᵏ · (T_hi + (T_lo + T_hi·(eʳ − 1))). */
const expNormal = (x: number): number => {
  const n = x * INV_STEP + ROUNDING_SHIFT - ROUNDING_SHIFT;
  const r = x - n * STEP_HI - n * STEP_LO;
  const i = n | 0;
  const j = i & (TABLE_SIZE - 1);
  const t = TWO_POW_J_HI[j]!;
  return POW2[(i >> TABLE_BITS) + POW2_BIAS]! * (t + (TWO_POW_J_LO[j]! + t * expm1Reduced(r)));
};

/**
 * eˣ, within about one ulp of the exact value over the whole double range: Infinity from 709.79 up,
 * correctly scaled subnormals below −708.4, 0 below −745.14, NaN for NaN.
 * @example fastExp(1) // 2.718281828459045
 */
export function fastExp(x: number): number {
  return Math.abs(x) < EXP_FAST_LIMIT ? expNormal(x) : expOutsideNormalRange(x);
}

/** {@link fastExp} where eˣ overflows, is subnormal or underflows, and for NaN. */
function expOutsideNormalRange(x: number): number {
  if (x !== x) return x;
  if (x >= EXP_OVERFLOW) return Infinity;
  if (x <= EXP_UNDERFLOW) return 0;
  const n = x * INV_STEP + ROUNDING_SHIFT - ROUNDING_SHIFT;
  const r = x - n * STEP_HI - n * STEP_LO;
  const i = n | 0;
  const j = i & (TABLE_SIZE - 1);
  const t = TWO_POW_J_HI[j]!;
  // 2ᵏ may itself overflow or be subnormal here: scale in two steps, the first exact, so the result is
  // rounded once (to Infinity or to a subnormal) like a single correctly scaled product.
  const k = i >> TABLE_BITS;
  const half = k >> 1;
  return (t + (TWO_POW_J_LO[j]! + t * expm1Reduced(r))) * POW2[half + POW2_BIAS]! * POW2[k - half + POW2_BIAS]!;
}

/**
 * eʸ − 1 for |y| < 708 (or NaN), to about one ulp relative even for tiny y: with n = 128k + j as in
 * {@link fastExp}, eʸ − 1 = 2ᵏ·(T_lo + T_hi·(eʳ − 1)) + (2ᵏ·T_hi − 1), where the second term is exact or, when
 * rounded, larger than 1/2 in magnitude, so nothing cancels.
 */
const expm1Normal = (y: number): number => {
  const n = y * INV_STEP + ROUNDING_SHIFT - ROUNDING_SHIFT;
  const r = y - n * STEP_HI - n * STEP_LO;
  const i = n | 0;
  const j = i & (TABLE_SIZE - 1);
  const t = TWO_POW_J_HI[j]!;
  const s = POW2[(i >> TABLE_BITS) + POW2_BIAS]!;
  return s * (TWO_POW_J_LO[j]! + t * expm1Reduced(r)) + (s * t - 1);
};

/** From this |x| on, tanh(x) is ±1 in double precision (from 19.06 on, in fact). */
const TANH_SATURATION = 20;

/**
 * The constants and tables above, for the WebAssembly kernels (kernels/wasm/elementwise-wasm.ts) that evaluate
 * the same algorithm two lanes at a time and must give the same bits. @internal
 */
export const fastMathParameters = {
  ROUNDING_SHIFT,
  TABLE_BITS,
  TABLE_SIZE,
  INV_STEP,
  STEP_HI,
  STEP_LO,
  C2,
  C3,
  C4,
  C5,
  TWO_POW_J_HI,
  TWO_POW_J_LO,
  EXP_FAST_LIMIT,
  TANH_SATURATION,
} as const;

/**
 * tanh(x), within a few ulps of the exact value: tanh(x) = −u/(u + 2) with u = e^(−2x) − 1, which keeps full
 * relative accuracy near 0 (where tanh(x) ≈ x) and never cancels; ±1 for large |x|, ±0 for ±0, NaN for NaN.
 * @example fastTanh(0.5) // 0.46211715726000974
 */
export function fastTanh(x: number): number {
  const a = Math.abs(x);
  if (a > 0 && a < TANH_SATURATION) {
    const u = expm1Normal(-2 * x);
    return -u / (u + 2);
  }
  return x > 0 ? 1 : x < 0 ? -1 : x; // x is ±0 or NaN in the last case
}

/**
 * The logistic sigmoid 1/(1 + e⁻ˣ), within a few ulps of the exact value. The formula never cancels for either
 * sign; from −708 down e⁻ˣ would overflow, and there sigmoid(x) = eˣ to double precision (subnormal, then 0).
 * 1 for large x, NaN for NaN.
 * @example fastSigmoid(0) // 0.5
 */
export function fastSigmoid(x: number): number {
  if (Math.abs(x) < EXP_FAST_LIMIT) return 1 / (1 + expNormal(-x));
  return x > 0 ? 1 : fastExp(x); // fastExp also passes NaN through
}

/**
 * `o[oo + i] = eˣ` of `x[xo + i·xs]` for i < n, by {@link fastExp} (rounded to float32 by the store). These
 * loops see only Float32Arrays, so V8 keeps their element accesses monomorphic.
 */
export function expFloat32Range(x: Float32Array, xo: number, xs: number, o: Float32Array, oo: number, n: number): void {
  if (xs !== 1) {
    for (let i = 0; i < n; i++) o[oo + i] = fastExp(x[xo + i * xs]!);
    return;
  }
  // Two elements per iteration: V8 re-checks the arrays and the loop bounds on every iteration (it does not
  // hoist those checks out of loops), so pairing elements halves that overhead, about a fifth of the time.
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const a = fastExp(x[xo + i]!);
    const b = fastExp(x[xo + i + 1]!);
    o[oo + i] = a;
    o[oo + i + 1] = b;
  }
  if (i < n) o[oo + i] = fastExp(x[xo + i]!);
}

/** `o[oo + i] = tanh(x[xo + i·xs])` for i < n, by {@link fastTanh}; as {@link expFloat32Range}. */
export function tanhFloat32Range(x: Float32Array, xo: number, xs: number, o: Float32Array, oo: number, n: number): void {
  if (xs !== 1) {
    for (let i = 0; i < n; i++) o[oo + i] = fastTanh(x[xo + i * xs]!);
    return;
  }
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const a = fastTanh(x[xo + i]!);
    const b = fastTanh(x[xo + i + 1]!);
    o[oo + i] = a;
    o[oo + i + 1] = b;
  }
  if (i < n) o[oo + i] = fastTanh(x[xo + i]!);
}

/** `o[oo + i] = sigmoid(x[xo + i·xs])` for i < n, by {@link fastSigmoid}; as {@link expFloat32Range}. */
export function sigmoidFloat32Range(x: Float32Array, xo: number, xs: number, o: Float32Array, oo: number, n: number): void {
  if (xs !== 1) {
    for (let i = 0; i < n; i++) o[oo + i] = fastSigmoid(x[xo + i * xs]!);
    return;
  }
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const a = fastSigmoid(x[xo + i]!);
    const b = fastSigmoid(x[xo + i + 1]!);
    o[oo + i] = a;
    o[oo + i + 1] = b;
  }
  if (i < n) o[oo + i] = fastSigmoid(x[xo + i]!);
}
