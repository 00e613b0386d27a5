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
 * Each function's expression over vectors in locals comes from packages/core/src/kernels/wasm/simd-wat.ts,
 * which compiled plans also assemble into one loop per fused group at run time.
 */
import { arithmetic, comparisons, hoistConstants, transcendental, unary } from '../../packages/core/src/kernels/wasm/simd-wat.js';

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

function transcendentalKernels(): string[] {
  const params = '(param $in i32) (param $inStep i32) (param $o i32) (param $end i32) (param $param f64)';
  return Object.entries(transcendental()).map(([name, expression]) => {
    const { body, setUp, locals } = hoistConstants(expression);
    const declared = ['$x', '$y', '$a', '$z', '$s', '$t', '$n', '$i', '$h', '$r', '$r2', '$z2', ...locals].map((l) => `(local ${l} v128)`).join(' ');
    return `
  (func (export "f32_${name}") ${params} ${declared}
    ${setUp}
    ${loop(['in'], 16, `(local.set $x (v128.load (local.get $in)))${body}`, '(v128.store (local.get $o) (local.get $y))')})`;
  });
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

/**
 * Reductions of float32 rows: o[r] = the sum, maximum or minimum of x[r·inner … r·inner + inner), in order,
 * as reduce.ts folds the innermost axis: a sum in a double (the JavaScript's accumulator is a number),
 * rounded to float32 once at the end; a maximum keeping the first of equal values and any NaN
 * (`v > acc || v !== v`), a minimum likewise. Rows go side by side in the lanes (two per vector for the
 * double sums, four for the others), read element by element down the row, so each lane folds its row in
 * the JavaScript's order; the rows left over are folded one at a time. rows, inner ≥ 1.
 */
function rowReductionKernels(): string[] {
  const params = '(param $x i32) (param $rows i32) (param $inner i32) (param $o i32)';
  const locals =
    '(local $rowBytes i32) (local $p i32) (local $end i32) (local $r i32) (local $acc v128) (local $v v128) (local $s f64) (local $m f32) (local $e f32)';
  const setUp = '(local.set $rowBytes (i32.shl (local.get $inner) (i32.const 2)))';
  // the element loop of one block of rows (from $x), then of one leftover row
  const blockLoop = (lanes: number, load: string, fold: string, store: string) => `
    (block $blocksDone
      (br_if $blocksDone (i32.lt_u (local.get $rows) (i32.const ${lanes})))
      (loop $block
        (local.set $p (local.get $x))
        (local.set $end (i32.add (local.get $x) (local.get $rowBytes)))
        ${fold === 'sum' ? '(local.set $acc (v128.const i64x2 0 0))' : `(local.set $acc (f32x4.splat (f32.const ${fold === 'max' ? '-inf' : 'inf'})))`}
        (loop $element
          ${load}
          ${fold === 'sum' ? '(local.set $acc (f64x2.add (local.get $acc) (local.get $v)))' : `(local.set $acc (v128.bitselect (local.get $v) (local.get $acc) (v128.or (f32x4.${fold === 'max' ? 'gt' : 'lt'} (local.get $v) (local.get $acc)) (f32x4.ne (local.get $v) (local.get $v)))))`}
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (br_if $element (i32.lt_u (local.get $p) (local.get $end))))
        ${store}
        (local.set $o (i32.add (local.get $o) (i32.const ${4 * lanes})))
        (local.set $x (i32.add (local.get $x) (i32.mul (local.get $rowBytes) (i32.const ${lanes}))))
        (local.set $r (i32.add (local.get $r) (i32.const ${lanes})))
        (br_if $block (i32.le_u (i32.add (local.get $r) (i32.const ${lanes})) (local.get $rows)))))`;
  const rest = (fold: string) => `
    (block $rowsDone
      (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
      (loop $row
        (local.set $p (local.get $x))
        (local.set $end (i32.add (local.get $x) (local.get $rowBytes)))
        ${fold === 'sum' ? '(local.set $s (f64.const 0))' : `(local.set $m (f32.const ${fold === 'max' ? '-inf' : 'inf'}))`}
        (loop $element
          ${
            fold === 'sum'
              ? '(local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load (local.get $p)))))'
              : `(local.set $e (f32.load (local.get $p)))
          (local.set $m (select (local.get $e) (local.get $m) (i32.or (f32.${fold === 'max' ? 'gt' : 'lt'} (local.get $e) (local.get $m)) (f32.ne (local.get $e) (local.get $e)))))`
          }
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (br_if $element (i32.lt_u (local.get $p) (local.get $end))))
        (f32.store (local.get $o) ${fold === 'sum' ? '(f32.demote_f64 (local.get $s))' : '(local.get $m)'})
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $row (i32.lt_u (local.get $r) (local.get $rows)))))`;
  // two rows' elements, widened to doubles; four rows' elements as they are
  const pairLoad = `(local.set $v (f64x2.promote_low_f32x4 (v128.load32_lane 1 (i32.add (local.get $p) (local.get $rowBytes)) (v128.load32_zero (local.get $p)))))`;
  const quadLoad = `(local.set $v (v128.load32_lane 3 (i32.add (local.get $p) (i32.mul (local.get $rowBytes) (i32.const 3)))
            (v128.load32_lane 2 (i32.add (local.get $p) (i32.shl (local.get $rowBytes) (i32.const 1)))
              (v128.load32_lane 1 (i32.add (local.get $p) (local.get $rowBytes)) (v128.load32_zero (local.get $p))))))`;
  const pairStore = '(v128.store64_lane 0 (local.get $o) (f32x4.demote_f64x2_zero (local.get $acc)))';
  return [
    `
  (func (export "f32_rowsSum") ${params} ${locals}
    ${setUp}${blockLoop(2, pairLoad, 'sum', pairStore)}${rest('sum')})`,
    ...(['max', 'min'] as const).map(
      (fold) => `
  (func (export "f32_rows${fold === 'max' ? 'Max' : 'Min'}") ${params} ${locals}
    ${setUp}${blockLoop(4, quadLoad, fold, '(v128.store (local.get $o) (local.get $acc))')}${rest(fold)})`,
    ),
  ];
}

/**
 * `rows` rows of `bytes` bytes from `src` to `dst`, each advancing by its stride per row: a strided slice,
 * pad or concatenation between two buffers of a compiled plan in one call. Rows of whole vectors are copied
 * a vector at a time (three times faster than a `memory.copy` per row for rows of 512 bytes, whose call
 * dominates); others with `memory.copy`. The caller ensures the source and destination do not overlap, and
 * that `rows` is at least 1.
 */
function copyKernels(): string[] {
  return [
    `
  (func (export "copyRows") (param $src i32) (param $srcStride i32) (param $dst i32) (param $dstStride i32) (param $rows i32) (param $bytes i32)
    (local $k i32)
    (if (i32.and (local.get $bytes) (i32.const 15))
      (then
        (loop $row
          (memory.copy (local.get $dst) (local.get $src) (local.get $bytes))
          (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
          (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
          (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
          (br_if $row (local.get $rows))))
      (else
        (loop $row
          (local.set $k (i32.const 0))
          (loop $vector
            (v128.store (i32.add (local.get $dst) (local.get $k)) (v128.load (i32.add (local.get $src) (local.get $k))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br_if $vector (i32.lt_u (local.get $k) (local.get $bytes))))
          (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
          (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
          (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
          (br_if $row (local.get $rows))))))`,
  ];
}

/** The whole module's text. */
export function elementwiseWat(): string {
  return `;; Generated by tools/wasm/elementwise-wat.ts; see there.
(module
  (memory (export "memory") 1)
${[...binaryKernels(), ...whereKernels(), ...unaryKernels(), ...transcendentalKernels(), ...sumKernels(), ...rowReductionKernels(), ...copyKernels()].join('\n')})
`;
}
