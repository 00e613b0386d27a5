/**
 * Layout ops: each output element is one thread that computes where its value comes from (reshape, transpose,
 * broadcastTo, slice, pad, concat) with the shapes baked in. pad writes its zeros itself, so no op needs its
 * output cleared beforehand.
 */
import type { DType } from '@tapestry/core';
import { binding, broadcastStrides, elementKernel, offsetCode, sizeOf, stridesOf, wgslType, type KernelSpec } from './common.js';

function kernel(n: number, dtype: DType, inputs: number, body: string, op: string): KernelSpec {
  const t = wgslType(dtype, op);
  const decls = [...Array.from({ length: inputs }, (_, k) => binding(k, `x${k}`, t, false)), binding(inputs, 'y', t, true)].join('\n');
  const { code, groups } = elementKernel(n, decls, body);
  return { code, groups, bindings: inputs + 1, inputs, readOnlyInputs: true };
}

/** A plain copy of `n` elements (reshape: the same elements in a new shape). */
export function copyKernel(n: number, dtype: DType): KernelSpec {
  return kernel(n, dtype, 1, '  y[i] = x0[i];', 'reshape');
}

/** Output axis i is input axis `perm[i]`. */
export function transposeKernel(shape: readonly number[], perm: readonly number[], dtype: DType): KernelSpec {
  const inStrides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]!);
  const off = offsetCode(
    'src',
    'i',
    outShape,
    perm.map((p) => inStrides[p]!),
  );
  return kernel(sizeOf(outShape), dtype, 1, `  ${off}\n  y[i] = x0[src];`, 'transpose');
}

/** `x` repeated to `outShape` by NumPy's rules. */
export function broadcastKernel(shape: readonly number[], outShape: readonly number[], dtype: DType): KernelSpec {
  const off = offsetCode('src', 'i', outShape, broadcastStrides(shape, outShape));
  return kernel(sizeOf(outShape), dtype, 1, `  ${off}\n  y[i] = x0[src];`, 'broadcastTo');
}

/** The block of `shape` at `begin` spanning `size`. */
export function sliceKernel(shape: readonly number[], begin: readonly number[], size: readonly number[], dtype: DType): KernelSpec {
  const strides = stridesOf(shape);
  let base = 0;
  begin.forEach((b, i) => (base += b * strides[i]!));
  const off = offsetCode('src', 'i', size, strides);
  return kernel(sizeOf(size), dtype, 1, `  ${off}\n  y[i] = x0[${base}u + src];`, 'slice');
}

/** `x` of `shape` placed at `begin` inside zeros of `outShape`. */
export function padKernel(shape: readonly number[], begin: readonly number[], outShape: readonly number[], dtype: DType): KernelSpec {
  const own = stridesOf(outShape);
  const inStrides = stridesOf(shape);
  const lines: string[] = ['  var inside = true;', '  var src = 0u;'];
  outShape.forEach((d, a) => {
    if (shape[a] === d) {
      if (d > 1) lines.push(`  src += ((i / ${own[a]}u) % ${d}u) * ${inStrides[a]}u;`);
      return;
    }
    lines.push(`  { let c = (i / ${own[a]}u) % ${d}u; inside = inside && c >= ${begin[a]}u && c < ${begin[a]! + shape[a]!}u;`);
    lines.push(`    src += (c - min(c, ${begin[a]}u)) * ${inStrides[a]}u; }`);
  });
  const zero = dtype === 'int32' ? '0i' : '0.0';
  lines.push(`  if (inside) { y[i] = x0[src]; } else { y[i] = ${zero}; }`);
  return kernel(sizeOf(outShape), dtype, 1, lines.join('\n'), 'pad');
}

/**
 * Part of a concat along `axis`: inputs `first … first + shapes.length - 1` of the whole list, written into
 * their columns of the output; a concat of more inputs than a shader may bind runs as several of these.
 */
export function concatKernel(shapes: readonly (readonly number[])[], axis: number, outShape: readonly number[], columnStart: number, dtype: DType): KernelSpec {
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= outShape[i]!;
  const total = sizeOf(outShape.slice(axis));
  const widths = shapes.map((s) => sizeOf(s.slice(axis)));
  const width = widths.reduce((p, w) => p + w, 0);
  const lines = [`  let row = i / ${width}u;`, `  let col = i % ${width}u;`, `  let dst = row * ${total}u + ${columnStart}u + col;`];
  let start = 0;
  widths.forEach((w, k) => {
    const test = k === widths.length - 1 ? '' : `if (col < ${start + w}u) `;
    lines.push(`  ${k === 0 ? '' : 'else '}${test}{ y[dst] = x${k}[row * ${w}u + col - ${start}u]; }`);
    start += w;
  });
  return kernel(outer * width, dtype, shapes.length, lines.join('\n'), 'concat');
}

/** x viewed as [outer, n, inner], gathered along n by int32 `indices` (m of them). */
export function gatherKernel(outer: number, n: number, inner: number, m: number, dtype: DType): KernelSpec {
  const t = wgslType(dtype, 'gather');
  const decls = [binding(0, 'x', t, false), binding(1, 'idx', 'i32', false), binding(2, 'y', t, true)].join('\n');
  const body = `  let c = i % ${inner}u;
  let k = (i / ${inner}u) % ${m}u;
  let a = i / ${inner * m}u;
  let j = u32(clamp(idx[k], 0i, ${n - 1}i));
  y[i] = x[(a * ${n}u + j) * ${inner}u + c];`;
  const { code, groups } = elementKernel(outer * m * inner, decls, body);
  return { code, groups, bindings: 3, inputs: 2, readOnlyInputs: true };
}

/**
 * The transpose of gather: each output element [a, j, c] sums, in index order, the rows k of g whose index is
 * j. Deterministic (no atomics), and the additions happen in the CPU's order, so results match it exactly;
 * the price is a pass over the m indices per output element, small next to the embedding sizes it serves.
 */
export function scatterAddKernel(outer: number, n: number, inner: number, m: number, dtype: DType): KernelSpec {
  const t = wgslType(dtype, 'scatterAdd');
  const decls = [binding(0, 'g', t, false), binding(1, 'idx', 'i32', false), binding(2, 'y', t, true)].join('\n');
  const body = `  let c = i % ${inner}u;
  let j = i32((i / ${inner}u) % ${n}u);
  let a = i / ${inner * n}u;
  var acc: ${t} = ${dtype === 'int32' ? '0i' : '0.0'};
  for (var k = 0u; k < ${m}u; k++) {
    if (idx[k] == j) { acc = acc + g[(a * ${m}u + k) * ${inner}u + c]; }
  }
  y[i] = acc;`;
  const { code, groups } = elementKernel(outer * n * inner, decls, body);
  return { code, groups, bindings: 3, inputs: 2, readOnlyInputs: true };
}

/** One-hot rows of `depth` for `m` int32 indices. */
export function oneHotKernel(m: number, depth: number, dtype: DType): KernelSpec {
  const t = wgslType(dtype, 'oneHot');
  const one = dtype === 'int32' ? '1i' : '1.0';
  const zero = dtype === 'int32' ? '0i' : '0.0';
  const decls = [binding(0, 'idx', 'i32', false), binding(1, 'y', t, true)].join('\n');
  const body = `  y[i] = select(${zero}, ${one}, idx[i / ${depth}u] == i32(i % ${depth}u));`;
  const { code, groups } = elementKernel(m * depth, decls, body);
  return { code, groups, bindings: 2, inputs: 1, readOnlyInputs: true };
}
