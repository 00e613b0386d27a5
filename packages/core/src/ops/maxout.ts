/**
 * Maxout (Goodfellow et al., 2013, "Maxout Networks"): the maximum over groups of consecutive features.
 * A composite of reshape and the max reduction, so it needs no VJP of its own: the gradient goes to the
 * largest feature of each group (shared evenly among exact ties, as the max rule does).
 */
import { ShapeError } from '../errors.js';
import { formatShape, normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { expectFloatTensor, expectPositiveInteger } from '../checks.js';
import { max } from './reduce.js';
import { reshape } from './shape-ops.js';

/**
 * Maxout along `axis`: an axis of `m · pieces` features becomes `m` features, output feature `j` being the
 * maximum of the `pieces` consecutive input features `j·pieces … j·pieces + pieces − 1`
 * (`y[…, j, …] = max_k x[…, j·pieces + k, …]`). This is the grouping of the paper, where the `k` linear
 * pieces of unit `j` are `z_{j1} … z_{jk}`, and of reshaping the axis to `[m, pieces]` row-major.
 * PyTorch has no maxout; there the same is `x.unflatten(axis, (m, pieces)).amax(axis + 1)`.
 *
 * With `pieces = 1` it is the identity. The gradient goes to the largest input of each group; exact ties
 * share it evenly.
 * @param x - a float tensor with at least one axis.
 * @param pieces - group size k, a positive integer dividing the size of `axis`.
 * @param axis - the feature axis (default the last; negative counts from the end).
 * @example
 * ```ts
 * const x = tensor([[1, 5, -2, 0, 3, 4]]);    // [1, 6]
 * maxout(x, 2).toArray();                      // [[5, 0, 4]]: groups (1, 5), (-2, 0), (3, 4)
 * maxout(x, 3).toArray();                      // [[5, 4]]:    groups (1, 5, -2), (0, 3, 4)
 * ```
 */
export function maxout(x: Tensor, pieces: number, axis = -1): Tensor {
  expectFloatTensor('maxout', 'x', x);
  expectPositiveInteger('maxout', 'pieces', pieces);
  if (x.rank === 0) throw new ShapeError('maxout: x must have at least one axis (the features), got a 0-d tensor');
  const a = normalizeAxis('maxout', axis, x.rank);
  const size = x.shape[a]!;
  if (size % pieces !== 0) {
    throw new ShapeError(
      `maxout: axis ${a} of x ${formatShape(x.shape)} has ${size} features, which is not divisible by pieces = ${pieces}; ` +
        `it must be m · ${pieces} for m outputs (e.g. ${Math.max(1, Math.round(size / pieces)) * pieces})`,
    );
  }
  // [..., m·k, ...] → [..., m, k, ...] row-major puts group j at features j·k … j·k + k − 1
  const grouped = [...x.shape.slice(0, a), size / pieces, pieces, ...x.shape.slice(a + 1)];
  return max(reshape(x, grouped), a + 1);
}
