/**
 * Batched matrix products op(A)·op(B), op transposing the last two axes of an operand whose flag is set,
 * batch axes broadcast as NumPy does. Tiled and register-blocked: a 16×16 workgroup computes a TM×TN tile of
 * C, each thread an RM×RN block of it (rows ty + 16i, columns tx + 16j, so its stores are coalesced), from
 * TK-deep slices of A and B staged in workgroup memory. The staging loads read along whichever axis is
 * contiguous in memory, so a transposed operand costs no more than a plain one.
 */
import type { DType } from '@tapestry/core';
import { binding, broadcastStrides, offsetCode, sizeOf, wgslType, type KernelSpec } from './common.js';

/** The shapes of one product: A's and B's stored shapes (rank ≥ 2) and the transposes. */
export interface MatmulShapes {
  readonly a: readonly number[];
  readonly b: readonly number[];
  readonly transA: boolean;
  readonly transB: boolean;
}

/** Per-thread block sizes: bigger blocks reuse each staged value more, but need more work to fill the GPU. */
function blocking(m: number, n: number): { rm: number; rn: number } {
  const pick = (d: number) => (d >= 1024 ? 8 : d > 32 ? 4 : 2);
  const rm = pick(m);
  const rn = pick(n);
  return { rm, rn };
}

/** The kernel of one matmul. */
export function matmulKernel({ a, b, transA, transB }: MatmulShapes, dtype: DType): KernelSpec {
  const t = wgslType(dtype, 'matmul');
  const ra = a.length;
  const rb = b.length;
  const m = transA ? a[ra - 1]! : a[ra - 2]!;
  const k = transA ? a[ra - 2]! : a[ra - 1]!;
  const n = transB ? b[rb - 2]! : b[rb - 1]!;
  const aBatch = a.slice(0, -2);
  const bBatch = b.slice(0, -2);
  const batchShape = broadcastBatch(aBatch, bBatch);
  const batch = sizeOf(batchShape);
  const { rm, rn } = blocking(m, n);
  const tm = 16 * rm;
  const tn = 16 * rn;
  const tk = rm * rn >= 64 ? 8 : 16;
  const aOff = offsetCode('a_base', 'batch', batchShape, broadcastStrides(aBatch, batchShape).map((s) => s * m * k));
  const bOff = offsetCode('b_base', 'batch', batchShape, broadcastStrides(bBatch, batchShape).map((s) => s * k * n));
  const loadA = stage('As', 'a', tm, tk, transA, (mm, kk) => (transA ? `${kk} * ${m}u + ${mm}` : `${mm} * ${k}u + ${kk}`), 'row0', m, k, 'a_base');
  const loadB = stage('Bs', 'b', tn, tk, !transB, (nn, kk) => (transB ? `${nn} * ${k}u + ${kk}` : `${kk} * ${n}u + ${nn}`), 'col0', n, k, 'b_base');
  const lines: string[] = [];
  for (let i = 0; i < rm; i++) lines.push(`      let a${i} = As[kk * ${tm}u + ty + ${16 * i}u];`);
  for (let j = 0; j < rn; j++) lines.push(`      let b${j} = Bs[kk * ${tn}u + tx + ${16 * j}u];`);
  for (let i = 0; i < rm; i++) for (let j = 0; j < rn; j++) lines.push(`      c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});`);
  const accs: string[] = [];
  const stores: string[] = [];
  for (let i = 0; i < rm; i++) {
    stores.push(`  { let r = row0 + ty + ${16 * i}u; if (r < ${m}u) {`);
    for (let j = 0; j < rn; j++) {
      accs.push(`  var c${i}_${j}: f32 = 0.0;`);
      stores.push(`    { let c = col0 + tx + ${16 * j}u; if (c < ${n}u) { y[c_base + r * ${n}u + c] = c${i}_${j}; } }`);
    }
    stores.push('  } }');
  }
  const code = `${binding(0, 'a', t, false)}
${binding(1, 'b', t, false)}
${binding(2, 'y', t, true)}
var<workgroup> As: array<f32, ${tk * tm}>;
var<workgroup> Bs: array<f32, ${tk * tn}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let tx = lid.x;
  let ty = lid.y;
  let batch = wg.z;
  ${aOff}
  ${bOff}
  let c_base = batch * ${m * n}u;
  let row0 = wg.y * ${tm}u;
  let col0 = wg.x * ${tn}u;
${accs.join('\n')}
  for (var k0 = 0u; k0 < ${k}u; k0 += ${tk}u) {
${loadA}
${loadB}
    workgroupBarrier();
    for (var kk = 0u; kk < ${tk}u; kk++) {
${lines.join('\n')}
    }
    workgroupBarrier();
  }
${stores.join('\n')}
}
`;
  return { code, groups: [Math.ceil(n / tn), Math.ceil(m / tm), batch], bindings: 3, inputs: 2, readOnlyInputs: true };
}

/**
 * The loads of one TK-deep slice of an operand into workgroup memory, `tile[kk * width + r]` for the tile's
 * `width` rows (of C's rows or columns) starting at `start`; `rowsContiguous` says whether consecutive rows
 * are consecutive in memory (then consecutive threads take consecutive rows, else consecutive kk).
 */
function stage(
  tile: string, src: string, width: number, tk: number, rowsContiguous: boolean, at: (r: string, kk: string) => string,
  start: string, rows: number, k: number, base: string,
): string {
  const out: string[] = [];
  const count = (width * tk) / 256;
  for (let j = 0; j < count; j++) {
    const e = `(tid + ${256 * j}u)`;
    const r = rowsContiguous ? `${e} % ${width}u` : `${e} / ${tk}u`;
    const kk = rowsContiguous ? `${e} / ${width}u` : `${e} % ${tk}u`;
    out.push(`    { let r = ${r}; let kk = ${kk}; let gr = ${start} + r; let gk = k0 + kk; var v: f32 = 0.0;`);
    out.push(`      if (gr < ${rows}u && gk < ${k}u) { v = ${src}[${base} + ${at('gr', 'gk')}]; }`);
    out.push(`      ${tile}[kk * ${width}u + r] = v; }`);
  }
  return out.join('\n');
}

/** The broadcast of two batch shapes (checked by the op before planning). */
function broadcastBatch(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[i - (rank - a.length)] ?? 1;
    const y = b[i - (rank - b.length)] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}
