import { definePrimitive, type AbstractValue } from '../binding/primitive.js';
import { bind } from '../binding/tape.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { broadcastShapes, formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { expectTensor } from '../checks.js';
import { sameDType } from './checks.js';
import { reshape } from './shape-ops.js';

// C = op(A)·op(B) with op(X) = X or Xᵀ over the last two axes. From dop(A) = ct·op(B)ᵀ, dop(B) = op(A)ᵀ·ct:
//   dA = ct·op(B)ᵀ (A plain) or op(B)·ctᵀ (A transposed);  dB = op(A)ᵀ·ct (B plain) or ctᵀ·op(A) (B transposed)
// and op(X)ᵀ is X with its flag flipped, so no rule copies a transpose. Broadcast batch axes are summed back by the engine.
const matmulPrimitive = definePrimitive({
  name: 'matmul',
  kind: 'contraction',
  shape: ([a, b], { transA, transB }) => {
    const m = lastTwo(a!, transA)[0];
    const n = lastTwo(b!, transB)[1];
    const batchShape = broadcastShapes('matmul', a!.shape.slice(0, -2), b!.shape.slice(0, -2));
    return { shape: [...batchShape, m, n], dtype: a!.dtype };
  },
  vjp: (ct, [a, b], _out, { transA, transB }) => [
    transA ? matmulT(b!, ct, transB, true) : matmulT(ct, b!, false, !transB),
    transB ? matmulT(ct, a!, true, transA) : matmulT(a!, ct, !transA, false),
  ],
});

/** The [rows, cols] of op(x) for a rank ≥ 2 tensor. */
function lastTwo(x: AbstractValue, trans: boolean): [number, number] {
  const r = x.shape[x.shape.length - 2]!;
  const c = x.shape[x.shape.length - 1]!;
  return trans ? [c, r] : [r, c];
}

/**
 * op(a)·op(b), where op transposes the last two axes of an operand whose flag is set; batch axes broadcast as
 * in `matmul`. Both operands must have rank ≥ 2 with matching inner dimensions (not re-checked here). This is
 * the primitive the matmul VJP is written with, exported for its tests. @internal
 */
export function matmulT(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  return bind(matmulPrimitive, [a, b], { transA, transB });
}

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Multiply by `a` with its last two axes swapped (no copy is made). Needs rank ≥ 2. */
  transposeA?: boolean;
  /** Multiply by `b` with its last two axes swapped (no copy is made), as in `x · Wᵀ`. Needs rank ≥ 2. */
  transposeB?: boolean;
}

/**
 * Matrix product with NumPy's `matmul` semantics: the last two axes multiply, leading (batch) axes
 * broadcast, and a 1-D operand is treated as a row (left) or column (right) vector whose axis is then
 * dropped from the result. `transposeA`/`transposeB` multiply by an operand's transpose without copying it
 * (a PyTorch-layout weight `W [out, in]` is applied as `matmul(x, W, { transposeB: true })`).
 * @example
 * ```ts
 * matmul(x, w);                            // [N, D] · [D, H] → [N, H]
 * matmul(batchA, b);                       // [B, M, K] · [K, N] → [B, M, N]
 * matmul(x, weight, { transposeB: true }); // [N, D] · [H, D]ᵀ → [N, H]
 * ```
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  expectTensor('matmul', 'a', a);
  expectTensor('matmul', 'b', b);
  sameDType('matmul', [a, b], ['a', 'b']);
  if (a.dtype === 'int32')
    throw new DTypeError(`matmul: expects float operands, got int32 a ${formatShape(a.shape)} and b ${formatShape(b.shape)} (use cast())`);
  if (a.rank === 0 || b.rank === 0) {
    throw new ShapeError(`matmul: operands must have at least one axis, got a ${formatShape(a.shape)} and b ${formatShape(b.shape)} (use mul for scalars)`);
  }
  for (const name of ['transposeA', 'transposeB'] as const) {
    // 'yes' would read as false: refuse it rather than multiply the untransposed operand
    if (options[name] !== undefined && typeof options[name] !== 'boolean') {
      throw new ArgumentError(`matmul: options.${name} must be true or false, got ${JSON.stringify(options[name]) ?? String(options[name])}`);
    }
  }
  const transA = options.transposeA === true;
  const transB = options.transposeB === true;
  if ((transA && a.rank < 2) || (transB && b.rank < 2)) {
    throw new ShapeError(
      `matmul: transpose${transA && a.rank < 2 ? 'A needs a of rank ≥ 2, got' : 'B needs b of rank ≥ 2, got'} ${formatShape(transA && a.rank < 2 ? a.shape : b.shape)}`,
    );
  }
  const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]!]) : a;
  const b2 = b.rank === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
  const [, k] = lastTwo(a2, transA);
  const [kb] = lastTwo(b2, transB);
  if (kb !== k) {
    const describe = (name: string, x: Tensor, t: boolean) => `${name} ${formatShape(x.shape)}${t ? ' (transposed)' : ''}`;
    throw new ShapeError(`matmul: inner dimensions differ: ${describe('a', a, transA)} vs ${describe('b', b, transB)}`);
  }
  broadcastShapes('matmul (batch axes)', a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  const out = matmulT(a2, b2, transA, transB);
  if (a.rank === 1 && b.rank === 1) return reshape(out, out.shape.slice(0, -2));
  if (a.rank === 1) return reshape(out, [...out.shape.slice(0, -2), out.shape[out.rank - 1]!]);
  if (b.rank === 1) return reshape(out, out.shape.slice(0, -1));
  return out;
}

/** The primitives this module defines, for the primitive table. @internal */
export const matmulPrimitives = { matmul: matmulPrimitive };
