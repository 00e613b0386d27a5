/**
 * `scan`: the loop that turns a step function into a computation over a sequence. It is plain JS control
 * flow over core ops, so reverse-mode autodiff of a scan is backpropagation through time and nothing here
 * knows about gradients.
 */
import {
  ArgumentError,
  formatShape,
  reshape,
  ShapeError,
  shapesEqual,
  split,
  stack,
  Tensor,
  treeFlatten,
  treeFlattenWithPath,
  treeUnflatten,
} from '@tapestry/core';

/** A scan body: takes the carry and one time step of `xs`, returns the new carry and the step's output. */
export type ScanFn<C, X, Y> = (carry: C, x: X) => readonly [C, Y];

/** Options of {@link scan}. */
export interface ScanOptions {
  /** Visit the steps from last to first (outputs still come back in time order). Default false. */
  readonly reverse?: boolean;
  /** The number of steps; required only when `xs` is null or undefined. */
  readonly length?: number;
}

// `carry.h`, `xs[0]`, or the root name for a leaf at the root
function leafName(root: string, path: string): string {
  if (path === '') return root;
  return path.startsWith('[') ? `${root}${path}` : `${root}.${path}`;
}

function describe(t: Tensor): string {
  return `${formatShape(t.shape)} ${t.dtype}`;
}

function tensorLeaves(root: string, tree: unknown): [string[], Tensor[]] {
  const names: string[] = [];
  const leaves: Tensor[] = [];
  for (const [path, leaf] of treeFlattenWithPath(tree) as [string, unknown][]) {
    const name = leafName(root, path);
    if (!(leaf instanceof Tensor)) {
      throw new ArgumentError(`scan: every leaf of ${root} must be a Tensor, but ${name} is ${leaf === null ? 'null' : typeof leaf}`);
    }
    names.push(name);
    leaves.push(leaf);
  }
  return [names, leaves];
}

// The carry must keep its structure, shapes and dtypes from step to step, or the loop is not a scan.
function checkCarry(step: number, initNames: string[], initLeaves: Tensor[], carry: unknown): Tensor[] {
  const fix = 'Revise the function so that the carry it returns has the same structure, shapes and dtypes as the initial carry.';
  const [names, leaves] = tensorLeaves('carry', carry);
  const expected = initNames.map((n) => n.replace(/^init/, 'carry'));
  if (names.length !== expected.length || names.some((n, i) => n !== expected[i])) {
    throw new ShapeError(
      `scan: the carry returned by f at step ${step} has leaves {${names.join(', ')}} but the initial carry has ` + `{${expected.join(', ')}}. ${fix}`,
    );
  }
  leaves.forEach((leaf, i) => {
    const want = initLeaves[i]!;
    if (!shapesEqual(leaf.shape, want.shape) || leaf.dtype !== want.dtype) {
      throw new ShapeError(
        `scan: the carry returned by f at step ${step} does not match the initial carry: ${names[i]} is ${describe(leaf)} ` +
          `but ${initNames[i]} is ${describe(want)}. ${fix}`,
      );
    }
  });
  return leaves;
}

/**
 * Runs `f` over the leading (time) axis of `xs`, threading a carry: JAX's `lax.scan` signature.
 *
 *     carry = init
 *     for t in 0 … T-1 (or T-1 … 0 when reverse):  [carry, ys[t]] = f(carry, xs[t])
 *     return [carry, stack(ys)]
 *
 * `init`, `xs` and the outputs are trees (nested plain objects/arrays of tensors). Each leaf of `xs` is
 * [T, ...]; `f` sees [...] at each step, and each output leaf comes back stacked to [T, ...] in time order.
 * The carry must keep its structure, shapes and dtypes; a step that changes them is an error naming the
 * leaf. Differentiating through `scan` is backpropagation through time; a `stopGradient` on the carry
 * before the call truncates it.
 * @example
 * ```ts
 * // running sum over time of a [T, B] tensor
 * const [total, partial] = scan((acc: Tensor, x: Tensor) => { const s = add(acc, x); return [s, s]; }, zeros([B]), xs);
 * ```
 */
export function scan<C, X, Y>(f: ScanFn<C, X, Y>, init: C, xs: X, options: ScanOptions = {}): [C, Y] {
  if (typeof f !== 'function') throw new ArgumentError(`scan: f must be a function (carry, x) => [carry, y], got ${typeof f}`);
  if (options === null || typeof options !== 'object') throw new ArgumentError(`scan: options must be an object, got ${String(options)}`);
  const reverse = options.reverse ?? false;
  if (typeof reverse !== 'boolean') throw new ArgumentError(`scan: options.reverse must be true or false, got ${JSON.stringify(reverse) ?? String(reverse)}`);
  const [initNames, initLeaves] = tensorLeaves('init', init);
  const hasXs = xs !== null && xs !== undefined;
  const [xNames, xLeaves] = hasXs ? tensorLeaves('xs', xs) : [[], []];
  const xDef = hasXs ? treeFlatten(xs)[1] : undefined;

  let length = options.length;
  if (length !== undefined && (!Number.isInteger(length) || length < 0)) {
    throw new ArgumentError(`scan: length must be a non-negative integer, got ${String(length)}`);
  }
  xLeaves.forEach((leaf, i) => {
    if (leaf.rank === 0) throw new ShapeError(`scan: ${xNames[i]} is a scalar; every leaf of xs needs a leading time axis`);
    if (length === undefined) length = leaf.shape[0];
    else if (leaf.shape[0] !== length) {
      const other = i === 0 ? `length is ${length}` : `${xNames[0]} has ${length}`;
      throw new ShapeError(
        `scan: ${xNames[i]} has ${leaf.shape[0]} steps (shape ${formatShape(leaf.shape)}) but ${other}; every leaf of xs must share its leading time axis`,
      );
    }
  });
  if (length === undefined) throw new ArgumentError('scan: xs is empty; pass options.length to say how many steps to run');
  if (length === 0) throw new ArgumentError('scan: xs has 0 time steps; a scan needs at least one step');
  const steps = length;

  // One split per leaf rather than a slice per step: the backward pass is then one concatenation, not T
  // full-size zero-padded gradients.
  const xSteps = xLeaves.map((leaf) => split(leaf, steps, 0).map((s) => reshape(s, leaf.shape.slice(1))));

  let carry = init;
  const outputs: Tensor[][] = new Array(steps);
  let yNames: string[] | undefined;
  let yLeaves0: Tensor[] | undefined;
  let yDef: unknown;
  let yEmpty = false;
  for (let i = 0; i < steps; i++) {
    const t = reverse ? steps - 1 - i : i;
    const stepXs = xSteps.map((s) => s[t]!);
    const x = (hasXs ? treeUnflatten(xDef as never, stepXs) : undefined) as X;
    const result = f(carry, x);
    if (!Array.isArray(result) || result.length !== 2) {
      throw new ArgumentError('scan: f must return a pair [carry, y]; it returned ' + (Array.isArray(result) ? `an array of ${result.length}` : typeof result));
    }
    const [newCarry, y] = result as readonly [C, Y];
    checkCarry(i, initNames, initLeaves, newCarry);

    if (i === 0) {
      yEmpty = y === null || y === undefined;
      if (!yEmpty) {
        [yNames, yLeaves0] = tensorLeaves('y', y);
        yDef = treeFlatten(y)[1];
      }
    }
    let yLeaves: Tensor[] = [];
    if (!yEmpty) {
      const [names, leaves] = tensorLeaves('y', y);
      if (
        names.length !== yNames!.length ||
        leaves.some((l, k) => names[k] !== yNames![k] || !shapesEqual(l.shape, yLeaves0![k]!.shape) || l.dtype !== yLeaves0![k]!.dtype)
      ) {
        throw new ShapeError(
          `scan: the output of f at step ${i} does not match its output at step 0 (${yNames!.join(', ')}); every step must return outputs of the same structure, shapes and dtypes`,
        );
      }
      yLeaves = leaves;
    }

    carry = newCarry;
    outputs[t] = yLeaves;
  }

  if (yEmpty) return [carry, undefined as Y];
  const stacked = yLeaves0!.map((_, k) =>
    stack(
      outputs.map((o) => o[k]!),
      0,
    ),
  );
  return [carry, treeUnflatten(yDef as never, stacked) as Y];
}
