import { definePrimitive, type Primitive } from '../binding/primitive.js';
import { bind, untracked } from '../binding/tape.js';
import { ArgumentError } from '../errors.js';
import { expectTensor } from '../checks.js';
import { formatShape, shapesEqual } from '../shape.js';
import { Tensor } from '../tensor.js';

/** What the forward half of a {@link customVjp} returns. */
export interface CustomForward<R> {
  /** The function's output. */
  value: Tensor;
  /** Anything the backward half needs (saved intermediate values). */
  residuals?: R;
}

// The cotangents are bwd's, checked: each of its input's shape and dtype, or null.
const customVjpPrimitive: Primitive<'customVjp'> = definePrimitive({
  name: 'customVjp',
  kind: 'custom',
  shape: (_xs, { value }) => ({ shape: value.shape, dtype: value.dtype }),
  vjp: (ct, xs, _out, { name, residuals, bwd }) => {
    const grads = bwd(ct, residuals, xs);
    if (!Array.isArray(grads) || grads.length !== xs.length) {
      throw new ArgumentError(
        `customVjp(${name}): bwd must return an array of ${xs.length} gradients (one per input), got ${Array.isArray(grads) ? grads.length : typeof grads}`,
      );
    }
    grads.forEach((g, i) => {
      if (g === null) return;
      const x = xs[i]!;
      if (!(g instanceof Tensor) || !shapesEqual(g.shape, x.shape) || g.dtype !== x.dtype) {
        throw new ArgumentError(
          `customVjp(${name}): bwd's gradient for xs[${i}] must be a ${x.dtype} tensor of shape ${formatShape(x.shape)}, got ` +
            (g instanceof Tensor ? `${g.dtype} ${formatShape(g.shape)}` : String(g)),
        );
      }
    });
    return grads;
  },
});

/** The primitives this module defines, for the primitive table. @internal */
export const customVjpPrimitives = { customVjp: customVjpPrimitive };

let customCount = 0;

/**
 * Gives a function of tensors a gradient of your own. `fwd` computes the value (and residuals to save);
 * `bwd(ct, residuals, xs)` returns one cotangent per input (null for none), each of its input's shape and
 * dtype. The forward runs untaped; `bwd` runs on ordinary ops, so it is itself differentiable.
 * @example
 * ```ts
 * // a straight-through rounding: round forward, identity backward
 * const roundST = customVjp(
 *   (x: Tensor) => ({ value: tensor(Array.from(x.dataSync(), Math.round), { shape: x.shape as number[] }) }),
 *   (ct) => [ct],
 * );
 * ```
 */
export function customVjp<R = unknown>(
  fwd: (...xs: Tensor[]) => CustomForward<R>,
  bwd: (ct: Tensor, residuals: R, xs: readonly Tensor[]) => (Tensor | null)[],
  name?: string,
): (...xs: Tensor[]) => Tensor {
  if (typeof fwd !== 'function' || typeof bwd !== 'function') throw new ArgumentError('customVjp: fwd and bwd must be functions');
  const label = name ?? `custom${customCount++}`;
  return (...xs: Tensor[]): Tensor => {
    xs.forEach((x, i) => expectTensor(`customVjp(${label})`, `xs[${i}]`, x));
    const { value, residuals } = fwd(...xs.map(untracked));
    expectTensor(`customVjp(${label})`, 'fwd(...).value', value);
    // under a trace the value is already in the graph (fwd's ops); the tape still uses bwd for the gradient
    const attrs = { name: label, residuals, value: untracked(value), bwd: bwd as (ct: Tensor, r: unknown, xs: readonly Tensor[]) => (Tensor | null)[] };
    return bind(customVjpPrimitive, xs, attrs);
  };
}
