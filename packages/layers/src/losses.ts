/**
 * Losses with PyTorch's arithmetic. Each takes `reduction`: `'mean'` (default), `'sum'` or `'none'`
 * (per-element losses in the targets' shape).
 */
import {
  add,
  arange,
  ArgumentError,
  cast,
  devicePut,
  div,
  DTypeError,
  exp,
  expectFloatTensor,
  formatShape,
  gather,
  log,
  logSumExp,
  maximum,
  mean,
  mul,
  neg,
  notEqual,
  reshape,
  ShapeError,
  shapesEqual,
  square,
  sub,
  sum,
  Tensor,
  where,
} from '@tapestry/core';

/** How a loss reduces its per-element values. */
export type Reduction = 'mean' | 'sum' | 'none';

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** `'mean'` over the non-ignored targets (default), `'sum'`, or `'none'` (shape of `targets`, 0 where ignored). */
  readonly reduction?: Reduction;
  /** A target value that contributes nothing, neither loss nor gradient (default -100, as PyTorch). */
  readonly ignoreIndex?: number;
}

/** Options of {@link mse}. */
export interface MseOptions {
  /** `'mean'` (default), `'sum'` or `'none'`. */
  readonly reduction?: Reduction;
}

/** Options of {@link binaryCrossEntropyWithLogits}. */
export interface BceWithLogitsOptions {
  /** `'mean'` (default), `'sum'` or `'none'`. */
  readonly reduction?: Reduction;
  /** Weight of the positive term, broadcast against the logits (PyTorch's `pos_weight`). */
  readonly posWeight?: Tensor;
}

function checkReduction(where: string, reduction: unknown): Reduction {
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new ArgumentError(`${where}: reduction must be 'mean', 'sum' or 'none', got ${String(reduction)}`);
  }
  return reduction;
}

function reduce(losses: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return losses;
  return reduction === 'sum' ? sum(losses) : mean(losses);
}

/**
 * Cross-entropy from unnormalised logits and int32 class ids: loss = -log softmax(logits)[target], as
 * `torch.nn.functional.cross_entropy`. The class axis is the last one: logits [M, C] with targets [M], or
 * logits [N, T, C] with targets [N, T] (a sequence model's output as it is; PyTorch would want [N, C, T] —
 * the numbers equal `cross_entropy(logits.reshape(-1, C), targets.reshape(-1))`). `'mean'` divides by the
 * number of targets that are not `ignoreIndex` (NaN if all are ignored, as in PyTorch).
 * @example
 * ```ts
 * const loss = crossEntropy(logits, targets);                          // logits [N, T, C], targets int32 [N, T]
 * const masked = crossEntropy(logits, padded, { ignoreIndex: -1 });    // padding targets = -1
 * ```
 */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const reduction = checkReduction('crossEntropy', options.reduction ?? 'mean');
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex)) throw new ArgumentError(`crossEntropy: ignoreIndex must be an integer class id, got ${String(ignoreIndex)}`);
  expectFloatTensor('crossEntropy', 'logits', logits);
  if (!(targets instanceof Tensor)) throw new ArgumentError(`crossEntropy: targets must be an int32 Tensor of class ids, got ${typeof targets}`);
  if (targets.dtype !== 'int32') {
    throw new DTypeError(
      `crossEntropy: targets must be int32 class ids, got ${targets.dtype} ${formatShape(targets.shape)} (for probabilities use a soft-target loss; for ids use cast(targets, 'int32'))`,
    );
  }
  if (logits.rank < 2) throw new ShapeError(`crossEntropy: logits must be [M, C] or [N, T, C] (classes last), got ${formatShape(logits.shape)}`);
  const classes = logits.shape[logits.rank - 1]!;
  const outer = logits.shape.slice(0, -1);
  if (!shapesEqual(targets.shape, outer)) {
    throw new ShapeError(
      `crossEntropy: targets must have the logits' shape without the class axis, ${formatShape(outer)}, got ${formatShape(targets.shape)}` +
        (targets.size === outer.reduce((a, b) => a * b, 1) ? ` (reshape targets to ${formatShape(outer)})` : ''),
    );
  }
  const count = targets.size;
  if (!targets.isAbstract && targets.backend.hostView !== undefined) {
    // eager inputs are checked here, so a bad id names this loss (under trace/jit, or on a device, the
    // kernels check indices as they run)
    const ids = targets.dataSync();
    for (let m = 0; m < count; m++) {
      const t = ids[m]!;
      if (t !== ignoreIndex && (t < 0 || t >= classes)) {
        throw new ArgumentError(
          `crossEntropy: target ${t} at flat index ${m} is outside 0 … ${classes - 1} (C = ${classes}) and is not ignoreIndex ${ignoreIndex}` +
            (t >= classes ? '; is the vocabulary larger than the output layer? its size must equal the number of classes C' : ''),
        );
      }
    }
  }
  // Written with ops only, so it traces: ignored targets pick class 0 and are masked out of the sum.
  const flatTargets = reshape(targets, [count]);
  const valid = notEqual(flatTargets, ignoreIndex);
  // the row offsets live where the targets do (arange makes them on the CPU)
  const flatIndex = add(mul(devicePut(arange(0, count, 1, 'int32'), targets.backend), classes), where(valid, flatTargets, 0));
  // log softmax(logits)[target] = logits[target] − logSumExp(row): the target's logit and its row's
  // log-sum-exp, gathered before the subtraction rather than after it, so the [M, C] log-probabilities (of
  // which one per row is read) are never formed; each loss is the same subtraction of the same two values
  const picked = gather(reshape(logits, [count * classes]), flatIndex, 0);
  const logp = sub(picked, logSumExp(reshape(logits, [count, classes]), -1));
  const losses = where(valid, neg(logp), 0);
  if (reduction === 'none') return reshape(losses, [...targets.shape]);
  const total = sum(losses);
  return reduction === 'sum' ? total : div(total, sum(cast(valid, logits.dtype)));
}

function checkPair(where: string, input: Tensor, target: Tensor): void {
  expectFloatTensor(where, 'input', input);
  expectFloatTensor(where, 'target', target);
  if (!shapesEqual(input.shape, target.shape)) {
    throw new ShapeError(`${where}: input and target must have the same shape, got ${formatShape(input.shape)} and ${formatShape(target.shape)}`);
  }
  if (input.dtype !== target.dtype) throw new DTypeError(`${where}: input is ${input.dtype} but target is ${target.dtype}; cast one of them`);
}

/**
 * Mean squared error (input - target)², as `torch.nn.functional.mse_loss`; shapes must be equal.
 * @example
 * ```ts
 * const loss = mse(prediction, target, { reduction: 'sum' });
 * ```
 */
export function mse(input: Tensor, target: Tensor, options: MseOptions = {}): Tensor {
  const reduction = checkReduction('mse', options.reduction ?? 'mean');
  checkPair('mse', input, target);
  return reduce(square(sub(input, target)), reduction);
}

/**
 * Binary cross-entropy on logits, as `torch.nn.functional.binary_cross_entropy_with_logits`, in PyTorch's
 * stable form: with m = max(-x, 0) and w = 1 + (posWeight - 1) y,
 *
 *     loss = (1 - y) x + w (m + log(exp(-m) + exp(-x - m)))
 *
 * `targets` are probabilities (float, same shape as `logits`).
 */
export function binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor, options: BceWithLogitsOptions = {}): Tensor {
  const reduction = checkReduction('binaryCrossEntropyWithLogits', options.reduction ?? 'mean');
  checkPair('binaryCrossEntropyWithLogits', logits, targets);
  const m = maximum(neg(logits), 0);
  const softplusNeg = add(m, log(add(exp(neg(m)), exp(sub(neg(logits), m))))); // log(1 + exp(-x))
  let weighted = softplusNeg;
  if (options.posWeight !== undefined) {
    expectFloatTensor('binaryCrossEntropyWithLogits', 'posWeight', options.posWeight);
    if (options.posWeight.dtype !== logits.dtype) {
      throw new DTypeError(`binaryCrossEntropyWithLogits: posWeight is ${options.posWeight.dtype} but logits are ${logits.dtype}`);
    }
    weighted = mul(add(mul(sub(options.posWeight, 1), targets), 1), softplusNeg);
  }
  return reduce(add(mul(sub(1, targets), logits), weighted), reduction);
}
