/**
 * Shared pieces of generated WGSL: element types, literals, index arithmetic with the shapes baked in as
 * constants (each shape gets its own pipeline, cached by its source), and the grid that covers n threads.
 */
import { DTypeError, type DType } from '@tapestry/core';

/** Threads per workgroup of the one-thread-per-element kernels. */
export const WORKGROUP = 256;
/** The most workgroups one dispatch dimension may have (WebGPU's default limit). */
const MAX_GROUPS = 65535;

/** The WGSL scalar type that stores `dtype`. */
export function wgslType(dtype: DType, op = 'webgpu'): 'f32' | 'i32' {
  if (dtype === 'float32') return 'f32';
  if (dtype === 'int32') return 'i32';
  throw new DTypeError(`${op}: float64 is not supported on the GPU (WGSL has no f64); cast to float32, or keep this tensor on the CPU`);
}

/** A WGSL literal of a JavaScript number in `dtype` (non-finite floats as bit patterns). */
export function literal(value: number, dtype: DType): string {
  if (dtype === 'int32') return `${value | 0}i`;
  // non-finite values come from private variables: a constant expression may not evaluate to NaN or ±Infinity
  if (Number.isNaN(value)) return 'bitcast<f32>(bits_nan)';
  if (value === Infinity) return 'bitcast<f32>(bits_inf)';
  if (value === -Infinity) return 'bitcast<f32>(bits_ninf)';
  const f = Math.fround(value);
  // a bit pattern keeps every float32 exactly (decimal printing of subnormals and -0 is fragile)
  const bits = new Uint32Array(new Float32Array([f]).buffer)[0]!;
  return `bitcast<f32>(0x${bits.toString(16)}u)`;
}

/** Row-major strides of `shape`. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** The number of elements of `shape`. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * WGSL that computes `target = Σ coordᵢ·strideᵢ` from a flat row-major index `flat` over `shape` (an expression
 * of type u32), where `strides` are the source's strides per axis of `shape` (0 on broadcast axes). Axes of
 * size 1 or stride 0 cost nothing; a source laid out like `shape` is the index itself.
 */
export function offsetCode(target: string, flat: string, shape: readonly number[], strides: readonly number[]): string {
  const own = stridesOf(shape);
  if (shape.every((d, i) => d === 1 || strides[i] === own[i])) return `let ${target} = ${flat};`;
  const terms: string[] = [];
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    const s = strides[i]!;
    if (d === 1 || s === 0) continue;
    const outer = own[i]!;
    const coord = i === 0 ? `(${flat} / ${outer}u)` : outer === 1 ? `(${flat} % ${d}u)` : `((${flat} / ${outer}u) % ${d}u)`;
    terms.push(s === 1 ? coord : `${coord} * ${s}u`);
  }
  return `let ${target} = ${terms.length === 0 ? '0u' : terms.join(' + ')};`;
}

/** The strides of an operand of shape `from` read at every index of the broadcast shape `to` (NumPy rules). */
export function broadcastStrides(from: readonly number[], to: readonly number[]): number[] {
  const own = stridesOf(from);
  const offset = to.length - from.length;
  return to.map((_, i) => {
    const j = i - offset;
    return j < 0 || from[j] === 1 ? 0 : own[j]!;
  });
}

/** A dispatch grid of workgroups that covers `threads` threads of `perGroup` each, and the x-extent in threads. */
export function grid(threads: number, perGroup = WORKGROUP): { groups: [number, number, number]; rowThreads: number } {
  const groups = Math.max(1, Math.ceil(threads / perGroup));
  const x = Math.min(groups, MAX_GROUPS);
  return { groups: [x, Math.ceil(groups / x), 1], rowThreads: x * perGroup };
}

/** The flat thread index of a 2-D grid whose rows are `rowThreads` threads long. */
export function flatIndex(rowThreads: number): string {
  return `gid.x + gid.y * ${rowThreads}u`;
}

/** One storage binding. */
export function binding(index: number, name: string, type: string, writable: boolean): string {
  return `@group(0) @binding(${index}) var<storage, ${writable ? 'read_write' : 'read'}> ${name}: array<${type}>;`;
}

/**
 * WGSL helpers every float kernel may call: NaN tests by bit pattern (compilers may assume no NaN in float
 * compares), and the bit patterns of NaN and ±Infinity (see {@link literal}).
 */
export const FLOAT_HELPERS = `
var<private> bits_nan: u32 = 0x7fc00000u;
var<private> bits_inf: u32 = 0x7f800000u;
var<private> bits_ninf: u32 = 0xff800000u;
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
`;

/** What a generated kernel needs to be dispatched. */
export interface KernelSpec {
  /** The WGSL source (entry point `main`). */
  readonly code: string;
  /** The workgroup counts. */
  readonly groups: readonly [number, number, number];
  /** How many storage bindings it takes: inputs first, then outputs. */
  readonly bindings: number;
  /** How many of them are inputs. */
  readonly inputs: number;
  /**
   * Whether the inputs are bound read-only (all kernels here do: one buffer may then be bound as several
   * inputs, as in `mul(x, x)`, which WebGPU forbids for writable bindings; an output must not be an input).
   */
  readonly readOnlyInputs: boolean;
  /**
   * Sizes passed at run time as a uniform `params` (bound after the storage buffers) instead of baked into
   * the source, so that one pipeline serves many shapes: compiling a pipeline is the slow part of planning.
   */
  readonly params?: Uint32Array<ArrayBuffer>;
}

/**
 * A one-thread-per-element kernel over `n` elements: `body` sees `i` (u32) and runs only for i < n; `perGroup`
 * threads to a workgroup.
 */
export function elementKernel(n: number, declarations: string, body: string, perGroup = WORKGROUP): { code: string; groups: [number, number, number] } {
  const { groups, rowThreads } = grid(n, perGroup);
  const code = `${declarations}
@compute @workgroup_size(${perGroup})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = ${flatIndex(rowThreads)};
  if (i >= ${n}u) { return; }
${body}
}
`;
  return { code, groups };
}

/**
 * Natural logarithms to about two float32 ulps everywhere. Vulkan lets \`log\` be off by 2⁻²¹ absolute on
 * [0.5, 2], which is a large relative error where the result is small (log of 1 − u for small u in the samplers,
 * log1p of small x): so x = m·2ᵉ with m in [√½, √2), and log(m) = 2·atanh(s), s = (m − 1)/(m + 1), by its
 * series (|s| ≤ 0.172: six terms leave a truncation error near 1e-11). log1p(x) takes the series directly
 * for small |x|, and log(1 + x) corrected for the rounding of 1 + x (Goldberg) elsewhere.
 */
export const LOG_HELPERS = `
fn atanh_series2(s: f32) -> f32 {
  let s2 = s * s;
  return 2.0 * s * (1.0 + s2 * (0.33333334 + s2 * (0.2 + s2 * (0.14285715 + s2 * (0.11111111 + s2 * 0.09090909)))));
}
fn ln_acc(x: f32) -> f32 {
  if (!(x > 0.0) || !is_finite(x)) { return log(x); }
  let f = frexp(x);
  var m = f.fract;
  var e = f32(f.exp);
  if (m < 0.70710677) { m = m * 2.0; e = e - 1.0; }
  let t = m - 1.0;
  return e * 0.693145751953125 + (atanh_series2(t / (2.0 + t)) + e * 1.4286068203094172e-6);
}
fn log1p_f(x: f32) -> f32 {
  if (abs(x) < 0.4) { return atanh_series2(x / (2.0 + x)); }
  let u = 1.0 + x;
  if (!is_finite(u) || u <= 0.0) { return log(u); }
  return ln_acc(u) * (x / (u - 1.0));
}
`;
