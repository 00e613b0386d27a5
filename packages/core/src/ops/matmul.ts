import { definePrimitive } from '../autodiff/primitive.js';
import { bind } from '../autodiff/tape.js';
import { DTypeError, ShapeError } from '../errors.js';
import { batchedMatmulKernel } from '../kernels/matmul.js';
import { broadcastIndex } from '../kernels/strided.js';
import { broadcastShapes, formatShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { expectTensor, sameDType } from './checks.js';
import { reshape, transpose } from './shape-ops.js';

function swapLast(x: Tensor): Tensor {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 1] = x.rank - 2;
  perm[x.rank - 2] = x.rank - 1;
  return transpose(x, perm);
}

// d(A·B) = ct·Bᵀ for A and Aᵀ·ct for B; broadcast batch axes are summed back by the engine
const matmulPrimitive = definePrimitive<undefined>({
  name: 'matmul',
  forward: ([a, b]) => {
    const m = a!.shape[a!.rank - 2]!;
    const k = a!.shape[a!.rank - 1]!;
    const n = b!.shape[b!.rank - 1]!;
    const aBatch = a!.shape.slice(0, -2);
    const bBatch = b!.shape.slice(0, -2);
    const batchShape = broadcastShapes('matmul', aBatch, bBatch);
    const batch = sizeOf(batchShape);
    const aIndex = broadcastIndex(aBatch, batchShape);
    const bIndex = broadcastIndex(bBatch, batchShape);
    const data = batchedMatmulKernel(a!.data, b!.data, batch, aIndex, bIndex, m, k, n, a!.dtype);
    return new Tensor(data, [...batchShape, m, n], a!.dtype);
  },
  vjp: (ct, [a, b]) => [matmul(ct, swapLast(b!)), matmul(swapLast(a!), ct)],
});

/**
 * Matrix product with NumPy's `matmul` semantics: the last two axes multiply, leading (batch) axes
 * broadcast, and a 1-D operand is treated as a row (left) or column (right) vector whose axis is then
 * dropped from the result.
 * @example
 * ```ts
 * matmul(x, w);           // [N, D] · [D, H] → [N, H]
 * matmul(batchA, b);      // [B, M, K] · [K, N] → [B, M, N]
 * ```
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  expectTensor('matmul', 'a', a);
  expectTensor('matmul', 'b', b);
  sameDType('matmul', [a, b], ['a', 'b']);
  if (a.dtype === 'int32') throw new DTypeError(`matmul: expects float operands, got int32 a ${formatShape(a.shape)} and b ${formatShape(b.shape)} (use cast())`);
  if (a.rank === 0 || b.rank === 0) {
    throw new ShapeError(`matmul: operands must have at least one axis, got a ${formatShape(a.shape)} and b ${formatShape(b.shape)} (use mul for scalars)`);
  }
  const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]!]) : a;
  const b2 = b.rank === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
  const k = a2.shape[a2.rank - 1]!;
  if (b2.shape[b2.rank - 2] !== k) {
    throw new ShapeError(`matmul: inner dimensions differ: a ${formatShape(a.shape)} vs b ${formatShape(b.shape)}`);
  }
  broadcastShapes('matmul (batch axes)', a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  const out = bind(matmulPrimitive, [a2, b2], undefined);
  if (a.rank === 1 && b.rank === 1) return reshape(out, out.shape.slice(0, -2));
  if (a.rank === 1) return reshape(out, [...out.shape.slice(0, -2), out.shape[out.rank - 1]!]);
  if (b.rank === 1) return reshape(out, out.shape.slice(0, -1));
  return out;
}
