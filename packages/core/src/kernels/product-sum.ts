/**
 * `add(matmul(a, b), c)` as one float32 GEMM: a row c (a bias) is added to each tile of the product as the GEMM
 * stores it; a whole c is copied into C first, and the GEMM adds the product to it. With at most 256 terms the
 * GEMM sums each product in one chunk, rounds that sum once and adds c's value, which is what the two ops
 * compute: a bias add after a projection costs no pass of its own, and the product is never stored.
 */
import type { KernelRun } from '../backend/backend.js';
import type { AbstractValue, AttrsOf } from '../binding/primitive.js';
import { shapesEqual, sizeOf } from '../shape.js';
import { gemmBackend } from './matmul.js';
import { gemmWasm } from './wasm/gemm-wasm.js';

/** The most terms of a product that the GEMM sums in one chunk (gemm.wat's KC). */
const ONE_CHUNK = 256;

/**
 * The kernel of `add(matmul(a, b), c)` (`inputs`: a, b, c), or null where the product is not one float32
 * WebAssembly GEMM of at most 256 terms over an unbatched op(B), or c is neither one row of the result nor the
 * whole result.
 */
export function planProductSum(inputs: readonly AbstractValue[], output: AbstractValue, { transA, transB }: AttrsOf<'matmul'>): KernelRun | null {
  const [aType, bType, cType] = inputs as [AbstractValue, AbstractValue, AbstractValue];
  if (![aType, bType, cType, output].every((t) => t.dtype === 'float32') || bType.shape.length !== 2) return null;
  const aShape = aType.shape;
  const rank = aShape.length;
  // op(A)'s rows: A's leading axes flattened (a transposed A must be a matrix)
  if (rank < 1 || (transA && rank !== 2)) return null;
  const k = transA ? aShape[0]! : aShape[rank - 1]!;
  const m = transA ? aShape[1]! : sizeOf(aShape.slice(0, -1));
  const n = transB ? bType.shape[0]! : bType.shape[1]!;
  if (k > ONE_CHUNK || m * n !== sizeOf(output.shape) || gemmBackend('float32', m, n, k) !== 'wasm') return null;
  const cShape = cType.shape;
  const whole = shapesEqual(cShape, output.shape);
  const row = !whole && cShape.length > 0 && cShape[cShape.length - 1] === n && sizeOf(cShape) === n && n > 0;
  if (!whole && !row) return null;
  const size = m * n;
  const bias: { array: Float32Array; offset: number } = { array: new Float32Array(0), offset: 0 };
  return ([a, b, c], out) => {
    const o = out as Float32Array;
    const addend = c as Float32Array;
    if (whole) {
      o.set(addend.subarray(0, size));
      gemmWasm(a as Float32Array, 0, b as Float32Array, 0, o, 0, m, n, k, transA, transB, true);
      return;
    }
    // a row: the GEMM adds it to each tile as it stores the tile
    bias.array = addend;
    gemmWasm(a as Float32Array, 0, b as Float32Array, 0, o, 0, m, n, k, transA, transB, false, bias);
  };
}
