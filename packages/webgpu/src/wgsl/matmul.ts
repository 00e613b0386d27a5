/**
 * Batched matrix products op(A)·op(B), op transposing the last two axes of an operand whose flag is set,
 * batch axes broadcast as NumPy does. Tiled and register-blocked: a 16×16 workgroup computes a TM×TN tile of
 * C, each thread an RM×RN block of it, from TK-deep slices of A and B staged in workgroup memory. Blocks of
 * 4×4 and more are read from workgroup memory as vec4s (see {@link MatmulTiles}). The staging loads read
 * along whichever axis is contiguous in memory, so a transposed operand costs no more than a plain one.
 */
import { ArgumentError, formatShape, type DType } from '@tapestry/core';
import { binding, broadcastStrides, sizeOf, wgslType, type KernelSpec } from './common.js';

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

/**
 * How a thread's block of C is laid out and read from workgroup memory. `scalar`: rows ty + 16i and columns
 * tx + 16j, one f32 read per row and column per step along K. `vector`: rows and columns in runs of four
 * (rows 4ty + 64i + r, r < 4), so a step reads a thread's rows and columns as vec4s — a quarter of the reads
 * for the same multiply-adds — and each run of C is four adjacent elements. The vector layout needs blocks of
 * at least 4×4 (products with at least 33 rows and 33 columns); smaller ones keep the scalar layout.
 */
export type MatmulTiles = 'vector' | 'scalar';

/** The kernel of one matmul. */
export function matmulKernel({ a, b, transA, transB }: MatmulShapes, dtype: DType, compact = false, tiles: MatmulTiles = 'vector'): KernelSpec {
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
  // int32 products keep the scalar layout: a vec4 of i32 in workgroup memory would need a second code path
  const vector = tiles === 'vector' && rm >= 4 && rn >= 4 && t === 'f32';
  // Sizes and the batch axes come from params: one pipeline per blocking and pair of transposes. (Baking them
  // in also costs compile time: llvmpipe took seconds over kernels where a broadcast operand's offset was 0.)
  const { dims, aStrides, bStrides } = batchParams(batchShape, broadcastStrides(aBatch, batchShape), broadcastStrides(bBatch, batchShape));
  // compact: loop trip counts that the compiler cannot see (params.zero is 0), so it does not unroll them
  const trips = (count: number) => (compact ? `${count}u + params.zero` : `${count}u`);
  const body = (vector ? vectorTiles : scalarTiles)(rm, rn);
  const operandA: StagedOperand = {
    tile: 'As',
    src: 'a',
    width: tm,
    rowsContiguous: transA,
    at: (mm, kk) => (transA ? `${kk} * M + ${mm}` : `${mm} * K + ${kk}`),
    start: 'row0',
    rows: 'M',
    base: 'a_base',
  };
  const operandB: StagedOperand = {
    tile: 'Bs',
    src: 'b',
    width: tn,
    rowsContiguous: !transB,
    at: (nn, kk) => (transB ? `${nn} * K + ${kk}` : `${kk} * N + ${nn}`),
    start: 'col0',
    rows: 'N',
    base: 'b_base',
  };
  const staging = vector ? stageVector : stage;
  const stageA = staging(operandA, tk, trips);
  const stageB = staging(operandB, tk, trips);
  const cell = vector ? 'vec4<f32>' : 'f32';
  const width = vector ? 4 : 1;
  const code = `${binding(0, 'a', t, false)}
${binding(1, 'b', t, false)}
${binding(2, 'y', t, true)}
struct Params { m: u32, n: u32, k: u32, zero: u32, dims: vec4<u32>, a_str: vec4<u32>, b_str: vec4<u32> }
@group(0) @binding(3) var<uniform> params: Params;
var<workgroup> As: array<${cell}, ${(tk * tm) / width}>;
var<workgroup> Bs: array<${cell}, ${(tk * tn) / width}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let tx = lid.x;
  let ty = lid.y;
  let batch = wg.z;
  let M = params.m;
  let N = params.n;
  let K = params.k;
  var rest = batch;
  var a_batch = 0u;
  var b_batch = 0u;
  for (var d = 3; d >= 0; d--) {
    let c = rest % params.dims[d];
    rest = rest / params.dims[d];
    a_batch += c * params.a_str[d];
    b_batch += c * params.b_str[d];
  }
  let a_base = a_batch * M * K;
  let b_base = b_batch * K * N;
  let c_base = batch * M * N;
  let row0 = wg.y * ${tm}u;
  let col0 = wg.x * ${tn}u;
${body.accumulators}
  for (var k0 = 0u; k0 < K; k0 += ${tk}u) {
${stageA}
${stageB}
    workgroupBarrier();
    for (var kk = 0u; kk < ${trips(tk)}; kk++) {
${body.step}
    }
    workgroupBarrier();
  }
${body.stores}
}
`;
  const params = Uint32Array.of(m, n, k, 0, ...dims, ...aStrides, ...bStrides);
  return { code, groups: [Math.ceil(n / tn), Math.ceil(m / tm), batch], bindings: 3, inputs: 2, readOnlyInputs: true, params };
}

/** A thread's accumulators, one step along K, and the stores, for the scalar layout (see {@link MatmulTiles}). */
function scalarTiles(rm: number, rn: number): { accumulators: string; step: string; stores: string } {
  const tm = 16 * rm;
  const tn = 16 * rn;
  const step: string[] = [];
  for (let i = 0; i < rm; i++) step.push(`      let a${i} = As[kk * ${tm}u + ty + ${16 * i}u];`);
  for (let j = 0; j < rn; j++) step.push(`      let b${j} = Bs[kk * ${tn}u + tx + ${16 * j}u];`);
  for (let i = 0; i < rm; i++) for (let j = 0; j < rn; j++) step.push(`      c${i}_${j} = c${i}_${j} + a${i} * b${j};`);
  const accs: string[] = [];
  const stores: string[] = [];
  for (let i = 0; i < rm; i++) {
    stores.push(`  { let r = row0 + ty + ${16 * i}u; if (r < M) {`);
    for (let j = 0; j < rn; j++) {
      accs.push(`  var c${i}_${j}: f32 = 0.0;`);
      stores.push(`    { let c = col0 + tx + ${16 * j}u; if (c < N) { y[c_base + r * N + c] = c${i}_${j}; } }`);
    }
    stores.push('  } }');
  }
  return { accumulators: accs.join('\n'), step: step.join('\n'), stores: stores.join('\n') };
}

/**
 * The same for the vector layout: the thread's rows 4ty + 64i + r and columns 4tx + 64j + (0…3). A step along
 * K reads rm/4 vec4s of A's tile and rn/4 of B's, and adds each row's four products to a vec4 accumulator
 * (c{i}_{r}_{j}: row 4ty + 64i + r, columns 4tx + 64j + 0…3). Each element still sums along K in order.
 */
function vectorTiles(rm: number, rn: number): { accumulators: string; step: string; stores: string } {
  const qm = (16 * rm) / 4;
  const qn = (16 * rn) / 4;
  const lanes = ['x', 'y', 'z', 'w'];
  const step: string[] = [];
  for (let i = 0; i < rm / 4; i++) step.push(`      let a${i} = As[kk * ${qm}u + ty + ${16 * i}u];`);
  for (let j = 0; j < rn / 4; j++) step.push(`      let b${j} = Bs[kk * ${qn}u + tx + ${16 * j}u];`);
  for (let i = 0; i < rm / 4; i++)
    for (let r = 0; r < 4; r++) for (let j = 0; j < rn / 4; j++) step.push(`      c${i}_${r}_${j} = c${i}_${r}_${j} + a${i}.${lanes[r]} * b${j};`);
  const accs: string[] = [];
  const stores: string[] = [];
  for (let i = 0; i < rm / 4; i++)
    for (let r = 0; r < 4; r++) {
      stores.push(`  { let r = row0 + 4u * ty + ${64 * i + r}u; if (r < M) {`);
      for (let j = 0; j < rn / 4; j++) {
        accs.push(`  var c${i}_${r}_${j} = vec4<f32>(0.0);`);
        stores.push(`    { let c = col0 + 4u * tx + ${64 * j}u; let at = c_base + r * N + c;`);
        for (let l = 0; l < 4; l++) stores.push(`      if (c + ${l}u < N) { y[at + ${l}u] = c${i}_${r}_${j}.${lanes[l]}; }`);
        stores.push('    }');
      }
      stores.push('  } }');
    }
  return { accumulators: accs.join('\n'), step: step.join('\n'), stores: stores.join('\n') };
}

/** How one operand is staged into workgroup memory (see {@link stage}). */
interface StagedOperand {
  /** The workgroup array it fills. */
  readonly tile: string;
  /** The storage binding it reads. */
  readonly src: string;
  /** The tile's rows: C's rows (A) or columns (B) per workgroup. */
  readonly width: number;
  /** Whether consecutive rows are consecutive in memory (then consecutive threads take consecutive rows, else consecutive kk). */
  readonly rowsContiguous: boolean;
  /** The offset of row `r`, element `kk` along K, as WGSL. */
  readonly at: (r: string, kk: string) => string;
  /** The tile's first row (WGSL). */
  readonly start: string;
  /** How many rows the operand has (WGSL). */
  readonly rows: string;
  /** The operand's offset for this workgroup's batch entry (WGSL). */
  readonly base: string;
}

/**
 * The loads of one TK-deep slice of an operand into workgroup memory, `tile[kk * width + r]` for the tile's
 * `width` rows starting at `start`, zero beyond the operand's rows or K.
 */
function stage({ tile, src, width, rowsContiguous, at, start, rows, base }: StagedOperand, tk: number, trips: (count: number) => string): string {
  const out: string[] = [];
  const count = (width * tk) / 256;
  out.push(`    for (var j = 0u; j < ${trips(count)}; j++) {`);
  {
    const e = '(tid + 256u * j)';
    const r = rowsContiguous ? `${e} % ${width}u` : `${e} / ${tk}u`;
    const kk = rowsContiguous ? `${e} / ${width}u` : `${e} % ${tk}u`;
    out.push(`    { let r = ${r}; let kk = ${kk}; let gr = ${start} + r; let gk = k0 + kk; var v: f32 = 0.0;`);
    out.push(`      if (gr < ${rows} && gk < K) { v = ${src}[${base} + ${at('gr', 'gk')}]; }`);
    out.push(`      ${tile}[kk * ${width}u + r] = v; }`);
  }
  out.push('    }');
  return out.join('\n');
}

/**
 * {@link stage} for the vector layout: each vec4 of the tile holds four adjacent rows (of C's rows or columns)
 * at one kk, `tile[kk * width / 4 + q]` for rows start + 4q … start + 4q + 3; a thread loads whole vec4s.
 */
function stageVector({ tile, src, width, rowsContiguous, at, start, rows, base }: StagedOperand, tk: number, trips: (count: number) => string): string {
  const quads = width / 4;
  const out: string[] = [];
  out.push(`    for (var j = 0u; j < ${trips((quads * tk) / 256)}; j++) {`);
  const e = '(tid + 256u * j)';
  const q = rowsContiguous ? `${e} % ${quads}u` : `${e} / ${tk}u`;
  const kk = rowsContiguous ? `${e} / ${quads}u` : `${e} % ${tk}u`;
  out.push(`    { let q = ${q}; let kk = ${kk}; let gr = ${start} + 4u * q; let gk = k0 + kk; var v = vec4<f32>(0.0);`);
  out.push('      if (gk < K) {');
  for (let r = 0; r < 4; r++) out.push(`        if (gr + ${r}u < ${rows}) { v[${r}] = ${src}[${base} + ${at(`(gr + ${r}u)`, 'gk')}]; }`);
  out.push('      }');
  out.push(`      ${tile}[kk * ${quads}u + q] = v; }`);
  out.push('    }');
  return out.join('\n');
}

/**
 * The batch axes as four (size, A stride, B stride) triples, leading ones padded with size 1: adjacent axes
 * that both operands step through alike (or both broadcast alike) merge into one, so up to four remain.
 */
function batchParams(shape: readonly number[], a: readonly number[], b: readonly number[]): { dims: number[]; aStrides: number[]; bStrides: number[] } {
  const dims: number[] = [];
  const as: number[] = [];
  const bs: number[] = [];
  shape.forEach((d, i) => {
    if (d === 1) return;
    const last = dims.length - 1;
    // axis i merges into the previous one when each operand's stride there is (this size × its stride here), or both 0
    if (last >= 0 && as[last] === a[i]! * d && bs[last] === b[i]! * d) {
      dims[last] = dims[last]! * d;
      as[last] = a[i]!;
      bs[last] = b[i]!;
      return;
    }
    dims.push(d);
    as.push(a[i]!);
    bs.push(b[i]!);
  });
  if (dims.length > 4) throw new ArgumentError(`matmul: at most 4 independent batch axes on the GPU, got batch shape ${formatShape(shape)}`);
  while (dims.length < 4) {
    dims.unshift(1);
    as.unshift(0);
    bs.unshift(0);
  }
  return { dims, aStrides: as, bStrides: bs };
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
