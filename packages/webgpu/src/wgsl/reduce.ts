/**
 * Reductions over any set of axes (sum, max, min) and argmax. Small reductions take one thread per output,
 * adding in the CPU's order; long ones take a workgroup per output, each thread folding a strided share and
 * the workgroup combining the shares in shared memory (a different order of additions, so sums agree with the
 * CPU within float32 rounding, not bit for bit).
 */
import type { DType } from '@tapestry/core';
import { binding, flatIndex, grid, FLOAT_HELPERS, literal, offsetCode, sizeOf, stridesOf, wgslType, WORKGROUP, type KernelSpec } from './common.js';

/** A reduction a reduce kernel computes: a sum, a maximum or a minimum. */
export type ReduceOp = 'sum' | 'max' | 'min';

/** From this many reduced elements per output on, a workgroup shares the work of one output. */
const COOPERATIVE_FROM = 512;

function identity(op: ReduceOp, dtype: DType): string {
  if (op === 'sum') return literal(0, dtype);
  if (dtype === 'int32') return op === 'max' ? 'i32(-2147483648)' : '2147483647i';
  return literal(op === 'max' ? -Infinity : Infinity, dtype);
}

/** The combining step `acc = acc ⊕ v` (NaN propagates through max/min, as on the CPU). */
function combine(op: ReduceOp, acc: string, v: string, dtype: DType): string {
  if (op === 'sum') return `${acc} = ${acc} + ${v};`;
  const better = op === 'max' ? `${v} > ${acc}` : `${v} < ${acc}`;
  return dtype === 'int32' ? `if (${better}) { ${acc} = ${v}; }` : `if (${better} || is_nan(${v})) { ${acc} = ${v}; }`;
}

/**
 * Where a reduction of `shape` over the sorted `axes` reads: `outputs` results of `r` elements each, with WGSL
 * that sets `base` (the input offset of output `o`) and `off` (the offset of its `r`-th reduced element).
 */
function reductionLayout(shape: readonly number[], axes: readonly number[]): { outputs: number; r: number; base: string; inner: string } {
  const strides = stridesOf(shape);
  const keptAxes = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const keptShape = keptAxes.map((i) => shape[i]!);
  const reducedShape = axes.map((i) => shape[i]!);
  return {
    outputs: sizeOf(keptShape),
    r: sizeOf(reducedShape),
    base: offsetCode(
      'base',
      'o',
      keptShape,
      keptAxes.map((i) => strides[i]!),
    ),
    inner: offsetCode(
      'off',
      'r',
      reducedShape,
      axes.map((i) => strides[i]!),
    ),
  };
}

/** A reduction of `shape` (of `dtype`) over the sorted `axes`. */
export function reduceKernel(op: ReduceOp, shape: readonly number[], axes: readonly number[], dtype: DType): KernelSpec {
  const t = wgslType(dtype, op);
  const { outputs, r, base, inner } = reductionLayout(shape, axes);
  const decls = `${FLOAT_HELPERS}\n${binding(0, 'x', t, false)}\n${binding(1, 'y', t, true)}`;
  if (r < COOPERATIVE_FROM || outputs >= 65535 * 4) {
    const { groups, rowThreads } = grid(outputs);
    const code = `${decls}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let o = ${flatIndex(rowThreads)};
  if (o >= ${outputs}u) { return; }
  ${base}
  var acc: ${t} = ${identity(op, dtype)};
  for (var r = 0u; r < ${r}u; r++) {
    ${inner}
    let v = x[base + off];
    ${combine(op, 'acc', 'v', dtype)}
  }
  y[o] = acc;
}
`;
    return { code, groups, bindings: 2, inputs: 1, readOnlyInputs: true };
  }
  const { groups } = grid(outputs, 1);
  const code = `${decls}
var<workgroup> shared_acc: array<${t}, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = gid.x + gid.y * ${groups[0]}u;
  let live = o < ${outputs}u;
  ${base}
  var acc: ${t} = ${identity(op, dtype)};
  if (live) {
    for (var r = lid; r < ${r}u; r += ${WORKGROUP}u) {
      ${inner}
      let v = x[base + off];
      ${combine(op, 'acc', 'v', dtype)}
    }
  }
  shared_acc[lid] = acc;
  for (var width = ${WORKGROUP / 2}u; width > 0u; width = width / 2u) {
    workgroupBarrier();
    if (lid < width) {
      var a = shared_acc[lid];
      let v = shared_acc[lid + width];
      ${combine(op, 'a', 'v', dtype)}
      shared_acc[lid] = a;
    }
  }
  if (live && lid == 0u) { y[o] = shared_acc[0]; }
}
`;
  return { code, groups, bindings: 2, inputs: 1, readOnlyInputs: true };
}

/** Whether a reduction of `r` elements per output runs one thread per output (the CPU's order of additions). */
export function reducesPerThread(r: number): boolean {
  return r < COOPERATIVE_FROM;
}

/**
 * `count` reductions of the same kind, each of its own input (of `shape`, over the sorted `axes`), in one
 * dispatch: reduction b's results are rows b of the output. A thread per output element computes it for every
 * input in turn, adding in the CPU's order (what {@link reduceKernel} does for short reductions), so a plan that
 * batches an LSTM's per-step bias-gradient sums computes what it would compute one sum at a time.
 */
export function reduceManyKernel(op: ReduceOp, count: number, shape: readonly number[], axes: readonly number[], dtype: DType): KernelSpec {
  const t = wgslType(dtype, op);
  const { outputs, r, base, inner } = reductionLayout(shape, axes);
  const decls = [FLOAT_HELPERS, ...Array.from({ length: count }, (_, b) => binding(b, `x${b}`, t, false)), binding(count, 'y', t, true)].join('\n');
  const each = Array.from(
    { length: count },
    (_, b) => `  {
    var acc: ${t} = ${identity(op, dtype)};
    for (var r = 0u; r < ${r}u; r++) {
      ${inner}
      let v = x${b}[base + off];
      ${combine(op, 'acc', 'v', dtype)}
    }
    y[${b * outputs}u + o] = acc;
  }`,
  ).join('\n');
  const { groups, rowThreads } = grid(outputs);
  const code = `${decls}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let o = ${flatIndex(rowThreads)};
  if (o >= ${outputs}u) { return; }
  ${base}
${each}
}
`;
  return { code, groups, bindings: count + 1, inputs: count, readOnlyInputs: true };
}

/** argmax of `shape` along `axis` (the first index on ties; NaN counts as the largest, as on the CPU). */
export function argmaxKernel(shape: readonly number[], axis: number, dtype: DType): KernelSpec {
  const t = wgslType(dtype, 'argmax');
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  const n = shape[axis]!;
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  const outputs = outer * inner;
  const { groups, rowThreads } = grid(outputs);
  const nan = dtype === 'int32' ? 'false' : 'is_nan(best)';
  const vnan = dtype === 'int32' ? 'false' : 'is_nan(v)';
  const code = `${FLOAT_HELPERS}
${binding(0, 'x', t, false)}
${binding(1, 'y', 'i32', true)}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let o = ${flatIndex(rowThreads)};
  if (o >= ${outputs}u) { return; }
  let base = (o / ${inner}u) * ${n * inner}u + o % ${inner}u;
  var best = x[base];
  var arg = 0i;
  for (var k = 1u; k < ${n}u; k++) {
    if (${nan}) { break; }
    let v = x[base + k * ${inner}u];
    if (v > best || ${vnan}) { best = v; arg = i32(k); }
  }
  y[o] = arg;
}
`;
  return { code, groups, bindings: 2, inputs: 1, readOnlyInputs: true };
}
