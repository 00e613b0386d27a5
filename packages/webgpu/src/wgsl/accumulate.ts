/**
 * In-place gradient accumulation (core's `Backend.accumulate` / `accumulateSparse`): the autodiff engine
 * owns `acc` and adds a cotangent into it on the GPU, instead of allocating `acc + ct` (or a mostly-zero
 * padded or scattered cotangent) per contribution. `acc` is the kernel's one writable binding, read and
 * written by the thread that owns each element, so no two threads touch one element and no atomics are needed.
 */
import type { DType } from '@tapestry/core';
import { binding, elementKernel, offsetCode, sizeOf, stridesOf, wgslType, type KernelSpec } from './common.js';

/** `acc[i] += ct[i]` for `n` elements: the same single rounding per element as the CPU's `+=`. */
export function accumulateKernel(n: number, dtype: DType): KernelSpec {
  const t = wgslType(dtype, 'accumulate');
  const decls = [binding(0, 'ct', t, false), binding(1, 'acc', t, true)].join('\n');
  const { code, groups } = elementKernel(n, decls, '  acc[i] = acc[i] + ct[i];');
  return { code, groups, bindings: 2, inputs: 1, readOnlyInputs: true };
}

/**
 * A slice's VJP added in place: `ct` (of shape `size`) is added into the block of `acc` (of `shape`) that
 * starts at `begin`. One thread per element of `ct`; the block's elements are distinct, so there is no race.
 */
export function accumulateSliceKernel(shape: readonly number[], begin: readonly number[], size: readonly number[], dtype: DType): KernelSpec {
  const t = wgslType(dtype, 'accumulateSparse');
  const strides = stridesOf(shape);
  const base = begin.reduce((total, b, i) => total + b * strides[i]!, 0);
  const decls = [binding(0, 'ct', t, false), binding(1, 'acc', t, true)].join('\n');
  const body = `  ${offsetCode('dst', 'i', size, strides)}\n  acc[${base}u + dst] = acc[${base}u + dst] + ct[i];`;
  const { code, groups } = elementKernel(sizeOf(size), decls, body);
  return { code, groups, bindings: 2, inputs: 1, readOnlyInputs: true };
}

/**
 * A gather's VJP added in place (a scatter-add into `acc`, viewed as [outer, n, inner]): each element
 * [a, j, c] of `acc` adds, in index order, the rows k of `ct` whose index is j. Each thread owns its element,
 * so repeated indices need no atomics, and the additions happen in the CPU's order (`acc += ct[k]` for k
 * ascending): the result is the CPU's bit for bit.
 */
export function accumulateGatherKernel(outer: number, n: number, inner: number, m: number, dtype: DType): KernelSpec {
  const t = wgslType(dtype, 'accumulateSparse');
  const decls = [binding(0, 'ct', t, false), binding(1, 'idx', 'i32', false), binding(2, 'acc', t, true)].join('\n');
  const body = `  let c = i % ${inner}u;
  let j = i32((i / ${inner}u) % ${n}u);
  let a = i / ${inner * n}u;
  var sum = acc[i];
  for (var k = 0u; k < ${m}u; k++) {
    if (idx[k] == j) { sum = sum + ct[(a * ${m}u + k) * ${inner}u + c]; }
  }
  acc[i] = sum;`;
  const { code, groups } = elementKernel(outer * n * inner, decls, body);
  return { code, groups, bindings: 3, inputs: 2, readOnlyInputs: true };
}
