/**
 * Elementwise ops as WGSL expressions, and the one kernel generator they all run through: a fused group of
 * elementwise members over NumPy-broadcast inputs (a single op is a group of one). Each thread computes one
 * element of the output shape, reads each input at its broadcast offset, evaluates the members in order as
 * `let`s and writes the members that leave the group.
 */
import type { BinaryName, DType, ElementwiseName, FusedInstruction } from '@tapestry/core';

/** The elementwise primitives of one operand (core's elementwise ops less the binary ones, `where` and `cast`). */
type UnaryName = Exclude<ElementwiseName, BinaryName | 'where' | 'cast'>;
import {
  binding,
  broadcastStrides,
  elementKernel,
  FLOAT_HELPERS,
  LOG_HELPERS,
  literal,
  offsetCode,
  sizeOf,
  stridesOf,
  wgslType,
  WORKGROUP,
  type KernelSpec,
} from './common.js';

/** Threads per workgroup of a fused kernel that sums inlined products (see `fusedKernel`). */
const PRODUCT_WORKGROUP = 64;

/**
 * Float helpers written for accuracy where the built-ins are not enough: WGSL's `tanh` may overflow to NaN
 * for large inputs, and it has no `log1p`/`expm1` (expm1 keeps full relative accuracy near 0 by the classic
 * correction of Goldberg's "What every computer scientist should know…"; log1p is in {@link LOG_HELPERS}).
 */
const MATH_HELPERS = `${FLOAT_HELPERS}${LOG_HELPERS}
fn expm1_f(x: f32) -> f32 {
  if (abs(x) < 1e-5) { return x + 0.5 * x * x; }
  let u = exp(x); if (u == 1.0) { return x; } let um = u - 1.0; if (um == -1.0) { return -1.0; }
  if (!is_finite(u)) { return u; }
  // the accurate logarithm: Vulkan lets the built-in log be 2⁻²¹ off near 1, which is all of the correction here
  return um * (x / ln_acc(u));
}
fn tanh_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  if (a >= 10.0) { return sign(x); }
  let u = expm1_f(-2.0 * a);
  return sign(x) * (-u / (u + 2.0));
}
fn sigmoid_f(x: f32) -> f32 { if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); } let e = exp(x); return e / (1.0 + e); }
fn pow_f(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return bitcast<f32>(bits_nan); }
  if (b == 1.0) { return a; }
  if (b == 2.0) { return a * a; }
  let integer = floor(b) == b;
  if (a < 0.0 && !integer) { return bitcast<f32>(bits_nan); }
  let m = abs(a);
  var r: f32;
  if (m == 0.0) { r = select(bitcast<f32>(bits_inf), 0.0, b > 0.0); }
  else if (!is_finite(m)) { r = select(0.0, bitcast<f32>(bits_inf), b > 0.0); }
  else { r = exp2(b * log2(m)); }
  // a negative base to an odd integer power is negative (|b| ≥ 2^24 is always even in f32)
  if (a < 0.0 && abs(b) < 16777216.0 && (i32(b) & 1) == 1) { r = -r; }
  if (a == 0.0 && b < 0.0 && integer && (i32(b) & 1) == 1 && bitcast<u32>(a) == 0x80000000u) { r = -r; }
  return r;
}
`;

/** The expression of a unary op applied to `x` (of `dtype`). */
function unaryExpr(op: UnaryName, x: string, dtype: DType, attrs: unknown): string {
  const int = dtype === 'int32';
  const a = (attrs ?? {}) as Record<string, number>;
  switch (op) {
    case 'neg':
      return `(-${x})`;
    case 'abs':
      return `abs(${x})`;
    case 'square':
      return `(${x} * ${x})`;
    case 'sign':
      return int ? `sign(${x})` : `select(select(${x}, -1.0, ${x} < 0.0), 1.0, ${x} > 0.0)`;
    case 'floor':
      return int ? x : `floor(${x})`;
    case 'exp':
      return `exp(${x})`;
    case 'expm1':
      return `expm1_f(${x})`;
    case 'log':
      return `ln_acc(${x})`;
    case 'log1p':
      return `log1p_f(${x})`;
    case 'sqrt':
      return `sqrt(${x})`;
    case 'cos':
      return `cos(${x})`;
    case 'sin':
      return `sin(${x})`;
    case 'tanh':
      return `tanh_f(${x})`;
    case 'sigmoid':
      return `sigmoid_f(${x})`;
    case 'relu':
      return `select(0.0, ${x}, ${x} > 0.0)`;
    case 'leakyRelu':
      return `select(${x} * ${literal(a.slope!, 'float32')}, ${x}, ${x} > 0.0)`;
    case 'elu':
      return `select(${literal(a.alpha!, 'float32')} * expm1_f(${x}), ${x}, ${x} > 0.0)`;
    case 'softplus': {
      const beta = literal(a.beta!, 'float32');
      return `select(log1p_f(exp(${x} * ${beta})) / ${beta}, ${x}, ${x} * ${beta} > ${literal(a.threshold!, 'float32')})`;
    }
    case 'isFinite':
      return int ? '1i' : `select(0i, 1i, is_finite(${x}))`;
  }
}

/** The expression of a binary op on `a` and `b` (both of `dtype`; comparisons give i32 0/1). */
function binaryExpr(op: BinaryName, a: string, b: string, dtype: DType): string {
  const int = dtype === 'int32';
  switch (op) {
    case 'add':
      return `(${a} + ${b})`;
    case 'sub':
      return `(${a} - ${b})`;
    case 'mul':
      return `(${a} * ${b})`;
    case 'div':
      return `(${a} / ${b})`;
    case 'pow':
      return `pow_f(${a}, ${b})`;
    // NaN wins, as on the CPU (x > y || x !== x ? x : y)
    case 'maximum':
      return int ? `max(${a}, ${b})` : `select(${b}, ${a}, ${a} > ${b} || is_nan(${a}))`;
    case 'minimum':
      return int ? `min(${a}, ${b})` : `select(${b}, ${a}, ${a} < ${b} || is_nan(${a}))`;
    case 'greater':
      return `select(0i, 1i, ${a} > ${b})`;
    case 'less':
      return `select(0i, 1i, ${a} < ${b})`;
    case 'equal':
      return `select(0i, 1i, ${a} == ${b})`;
    case 'greaterEqual':
      return `select(0i, 1i, ${a} >= ${b})`;
    case 'lessEqual':
      return `select(0i, 1i, ${a} <= ${b})`;
    // NaN != NaN is true on the CPU; a compiler that assumes no NaN could fold it, so test bits too
    case 'notEqual':
      return int ? `select(0i, 1i, ${a} != ${b})` : `select(0i, 1i, ${a} != ${b} || is_nan(${a}) || is_nan(${b}))`;
  }
}

/** The expression converting `x` from `from` to `to` (float → int32 truncates toward zero; NaN gives 0). */
function castExpr(x: string, from: DType, to: DType): string {
  if (from === to) return x;
  if (to === 'int32') return `select(0i, i32(clamp(${x}, -2147483648.0, 2147483520.0)), !is_nan(${x}))`;
  return `f32(${x})`;
}

const COMPARISONS = new Set<string>(['greater', 'less', 'equal', 'greaterEqual', 'lessEqual', 'notEqual']);

/** The dtype of an operand reference (`k ≥ 0` external input k, `-(m + 1)` member m). */
function operandDType(ref: number, inputs: readonly DType[], program: readonly FusedInstruction[]): DType {
  return ref >= 0 ? inputs[ref]! : program[-ref - 1]!.dtype;
}

/**
 * One read of a fused kernel: at each coordinate of the group's shape, element `base + Σ coordᵢ·stridesᵢ` of
 * input buffer `buffer`. A broadcast operand has stride 0 on its broadcast axes; a slice, a transpose or a
 * reshape folded into the kernel (a view, not a copy) has its own base and strides, and several reads may
 * share one buffer (an LSTM's four gate slices of one pre-activation buffer bind it once).
 */
export interface InputRead {
  /** Which input buffer (its binding). */
  readonly buffer: number;
  /** The first element read. */
  readonly base: number;
  /** The step per axis of the group's shape. */
  readonly strides: readonly number[];
  /**
   * Where the read is an element of a matrix product computed in the kernel (an inlined matmul): this read
   * addresses row i of op(A) (`buffer`, `base`, `strides` give element (i, 0)), and `dot` column j of op(B);
   * the value is Σₚ A(i, p)·B(p, j) over p = 0 … depth − 1, summed in that order from 0 as the matmul kernel
   * sums, so it is the same number.
   */
  readonly dot?: DotRead;
}

/** The right operand of an inlined matrix product (see {@link InputRead.dot}). */
export interface DotRead {
  /** Which input buffer holds op(B). */
  readonly buffer: number;
  /** Element (0, j) of op(B) at the group's origin. */
  readonly base: number;
  /** The step per axis of the group's shape in op(B) (along j). */
  readonly strides: readonly number[];
  /** The step of p in op(A), in elements. */
  readonly aStep: number;
  /** The step of p in op(B), in elements. */
  readonly bStep: number;
  /** The length of the sum, K. */
  readonly depth: number;
}

/**
 * Where a fused kernel writes one stored member: at each coordinate of the group's shape, element
 * `base + Σ coordᵢ·stridesᵢ` of output buffer `buffer` (a member that is one part of a concat writes its
 * columns of the concat's buffer, so the concat is no kernel of its own).
 */
export interface OutputWrite {
  /** Which output buffer (counted from the first output binding). */
  readonly buffer: number;
  /** The first element written. */
  readonly base: number;
  /** The step per axis of the group's shape. */
  readonly strides: readonly number[];
}

/**
 * The kernel of a fused elementwise group: input buffers of `buffers`' dtypes, read by `reads` (an operand
 * `k ≥ 0` is read k); the members with `stored` set are written, in member order, as `writes` says (default:
 * each to an output buffer of its own, in order), to the bindings after the inputs. Inlined products take
 * `productsPerStep` products per step of their loop (1: rolled; see `dotLoop`).
 */
export function fusedKernel(
  program: readonly FusedInstruction[],
  buffers: readonly DType[],
  reads: readonly InputRead[],
  shape: readonly number[],
  writes: readonly OutputWrite[] = ownWrites(program.filter((ins) => ins.stored).length, shape),
  productsPerStep = 1,
): KernelSpec {
  const n = sizeOf(shape);
  const inputDTypes = reads.map((r) => buffers[r.buffer]!);
  const decls: string[] = [MATH_HELPERS];
  const body: string[] = [];
  // the reads' bases are uniforms, not constants: an LSTM's T time steps read T slices of one buffer with one
  // pipeline (compiling pipelines is the slow part of planning), and each step binds its own bases. An inlined
  // product's B base and depth follow them (a depth the compiler cannot see keeps the loop a loop).
  const dots = reads.flatMap((r, k) => (r.dot === undefined ? [] : [{ k, dot: r.dot }]));
  const uniforms = [...reads.map((r) => r.base), ...dots.flatMap(({ dot }) => [dot.base, dot.depth])];
  const bases = uniforms.some((u) => u !== 0) ? Uint32Array.from(uniforms) : undefined;
  const uniform = (u: number) => (bases === undefined ? '0u' : `bases[${u >> 2}][${u & 3}]`);
  const outputs = writes.reduce((n, w) => Math.max(n, w.buffer + 1), 0);
  if (bases !== undefined)
    decls.push(`@group(0) @binding(${buffers.length + outputs}) var<uniform> bases: array<vec4<u32>, ${Math.ceil(uniforms.length / 4)}>;`);
  buffers.forEach((dtype, b) => decls.push(binding(b, `x${b}`, wgslType(dtype), false)));
  // inlined products of one depth share a loop (an LSTM gate kernel's four slices of h W_hhᵀ): their loads
  // are independent, so a thread has several in flight; each accumulator still sums p = 0, 1, … in order
  const loops = new Map<number, { k: number; u: number; dot: DotRead }[]>();
  reads.forEach((read, k) => {
    body.push(`  ${offsetCode(`o${k}`, 'i', shape, read.strides)}`);
    if (read.dot === undefined) {
      body.push(`  let v${k} = x${read.buffer}[${bases === undefined ? '' : `${uniform(k)} + `}o${k}];`);
      return;
    }
    const d = read.dot;
    const u = reads.length + 2 * dots.findIndex((x) => x.k === k);
    body.push(`  ${offsetCode(`q${k}`, 'i', shape, d.strides)}`);
    body.push(`  var v${k}: f32 = 0.0;`);
    body.push(`  let pa${k} = ${uniform(k)} + o${k};`);
    body.push(`  let pb${k} = ${uniform(u)} + q${k};`);
    const loop = loops.get(d.depth) ?? [];
    loop.push({ k, u, dot: d });
    loops.set(d.depth, loop);
  });
  for (const loop of loops.values()) body.push(dotLoop(loop, reads, uniform(loop[0]!.u + 1), productsPerStep));
  const ref = (r: number) => (r >= 0 ? `v${r}` : `m${-r - 1}`);
  const stored = program.filter((ins) => ins.stored);
  for (let b = 0; b < outputs; b++) {
    const dtype = stored[writes.findIndex((w) => w.buffer === b)]!.dtype;
    decls.push(binding(buffers.length + b, `y${b}`, wgslType(dtype), true));
  }
  let written = 0;
  program.forEach((ins, m) => {
    const ops = ins.operands.map(ref);
    let expr: string;
    if (ins.op === 'where') expr = `select(${ops[2]}, ${ops[1]}, ${ops[0]} != 0i)`;
    else if (ins.op === 'cast') expr = castExpr(ops[0]!, operandDType(ins.operands[0]!, inputDTypes, program), ins.dtype);
    else if (ins.operands.length === 1) expr = unaryExpr(ins.op as UnaryName, ops[0]!, operandDType(ins.operands[0]!, inputDTypes, program), ins.attrs);
    else expr = binaryExpr(ins.op as BinaryName, ops[0]!, ops[1]!, operandDType(ins.operands[0]!, inputDTypes, program));
    if (COMPARISONS.has(ins.op) && ins.dtype !== 'int32') expr = `f32(${expr})`;
    body.push(`  let m${m}: ${wgslType(ins.dtype)} = ${expr};`);
    if (ins.stored) {
      const w = writes[written++]!;
      const own = stridesOf(shape);
      if (w.base === 0 && w.strides.every((st, a) => shape[a] === 1 || st === own[a])) body.push(`  y${w.buffer}[i] = m${m};`);
      else body.push(`  { ${offsetCode('at', 'i', shape, w.strides)} y${w.buffer}[${w.base}u + at] = m${m}; }`);
    }
  });
  // a kernel that sums products is a long loop per thread over few elements (an LSTM step's 32 × 256): small
  // workgroups spread those threads over 4× more of the GPU's cores, each with its own cache and load units
  const { code, groups } = elementKernel(n, decls.join('\n'), body.join('\n'), dots.length > 0 ? PRODUCT_WORKGROUP : WORKGROUP);
  const spec = { code, groups, bindings: buffers.length + outputs, inputs: buffers.length, readOnlyInputs: true };
  if (bases === undefined) return spec;
  // a uniform array's elements are 16 bytes apart: one vec4 holds four bases
  const params = new Uint32Array(Math.ceil(uniforms.length / 4) * 4);
  params.set(bases);
  return { ...spec, params };
}

/**
 * The loop that sums inlined products of one depth (`depth`, a WGSL expression). The body is unrolled so that
 * it takes about `productsPerStep` products over all its accumulators (at most 8 steps of p; 1 keeps it
 * rolled), then a remainder loop finishes: on a GPU the loads of an unrolled body are issued together, so a
 * thread waits on memory once per body rather than once per product. Each sum keeps its order. Products that
 * read the same row of A (an LSTM's four gate slices, all of h's row) share its loads.
 */
function dotLoop(loop: readonly { k: number; dot: DotRead }[], reads: readonly InputRead[], depth: string, productsPerStep: number): string {
  const steps = Math.max(1, Math.min(8, Math.floor(productsPerStep / loop.length)));
  // products that read the same row of the same A (the four gate slices of one h row) load it once per p
  const rowKey = ({ k, dot }: { k: number; dot: DotRead }) => `${reads[k]!.buffer}|${reads[k]!.base}|${reads[k]!.strides.join(',')}|${dot.aStep}`;
  const firstWithRow = new Map<string, number>();
  for (const m of loop) if (!firstWithRow.has(rowKey(m))) firstWithRow.set(rowKey(m), m.k);
  const body = (p: string, s: number): string[] => {
    const lines: string[] = [];
    for (const k of firstWithRow.values()) {
      const d = loop.find((m) => m.k === k)!.dot;
      lines.push(`      let a${k}_${s} = x${reads[k]!.buffer}[pa${k} + ${p} * ${d.aStep}u];`);
    }
    for (const m of loop) {
      const a = `a${firstWithRow.get(rowKey(m))!}_${s}`;
      lines.push(`      v${m.k} = v${m.k} + ${a} * x${m.dot.buffer}[pb${m.k} + ${p} * ${m.dot.bStep}u];`);
    }
    return lines;
  };
  const lines = ['  {', '    var p = 0u;'];
  if (steps > 1) {
    lines.push(`    for (; p + ${steps}u <= ${depth}; p += ${steps}u) {`);
    for (let s = 0; s < steps; s++) lines.push(...body(s === 0 ? 'p' : `(p + ${s}u)`, s));
    lines.push('    }');
  }
  lines.push(`    for (; p < ${depth}; p++) {`, ...body('p', 0), '    }', '  }');
  return lines.join('\n');
}

/** `n` stored members, each written whole to an output buffer of its own. */
function ownWrites(n: number, shape: readonly number[]): OutputWrite[] {
  return Array.from({ length: n }, (_, k) => ({ buffer: k, base: 0, strides: stridesOf(shape) }));
}

/** Each of `inputs` in its own buffer, read broadcast to `shape` (NumPy rules): a group as core plans it. */
export function broadcastReads(inputs: readonly { readonly shape: readonly number[] }[], shape: readonly number[]): InputRead[] {
  return inputs.map((v, k) => ({ buffer: k, base: 0, strides: broadcastStrides(v.shape, shape) }));
}
