/** The pass pipeline jit runs before compiling. */
import type { Graph } from './graph.js';
import { foldBroadcasts } from './passes/broadcast-folding.js';
import { eliminateCommonSubexpressions } from './passes/common-subexpressions.js';
import { foldConstants } from './passes/constant-folding.js';
import { eliminateDeadCode } from './passes/dead-code.js';
import { hoistStepInvariant } from './passes/hoist.js';
import { accumulatePads } from './passes/pad-accumulation.js';
import { accumulateProducts } from './passes/product-accumulation.js';
import { sinkSlices } from './passes/slice-sinking.js';

/** Options of {@link optimize}: every pass is on by default. */
export interface OptimizeOptions {
  /** Compute nodes whose inputs are all constants at compile time. */
  foldConstants?: boolean;
  /** Merge duplicate computations. */
  cse?: boolean;
  /** Hoist per-step input projections out of unrolled loops. */
  hoist?: boolean;
  /** Turn sums of padded slabs (the gradients of slices) into concats. */
  accumulatePads?: boolean;
  /** Turn sums of matrix products (a shared weight's per-step gradients) into one product. */
  accumulateProducts?: boolean;
  /** Drop broadcasts that only elementwise nodes (which broadcast by themselves) read. */
  foldBroadcasts?: boolean;
  /** Compute elementwise nodes read only through disjoint slices slice by slice (an LSTM's gate pre-activations). */
  sinkSlices?: boolean;
}

/**
 * Runs the graph passes: constant folding, common-subexpression elimination, pad accumulation (sums of the
 * gradients of slices become concats), hoisting of step-invariant products, product accumulation (sums of
 * products become one product), broadcast folding (elementwise nodes read a broadcast's input), slice sinking
 * (elementwise nodes read only through disjoint slices are computed slice by slice), and dead-code
 * elimination after each change. Fusion and the memory plan happen at compile time.
 * @example
 * ```ts
 * const g = optimize(trace(valueAndGrad(loss), params, batch));
 * console.log(g.opCounts());
 * ```
 */
export function optimize(graph: Graph, options: OptimizeOptions = {}): Graph {
  let g = graph;
  if (options.foldConstants !== false) g = foldConstants(g);
  if (options.cse !== false) g = eliminateCommonSubexpressions(g);
  g = eliminateDeadCode(g);
  if (options.accumulatePads !== false) g = eliminateDeadCode(accumulatePads(g));
  // hoisting first: a per-step input projection is better made once for all steps than concatenated
  // with the recurrent product at every step, which is what product accumulation would do with it
  if (options.hoist !== false) g = eliminateDeadCode(hoistStepInvariant(g));
  if (options.accumulateProducts !== false) g = eliminateDeadCode(accumulateProducts(g));
  // the passes above make new nodes (concats of the same weights, say) that may coincide
  if (options.cse !== false) g = eliminateDeadCode(eliminateCommonSubexpressions(g));
  if (options.foldBroadcasts !== false) g = eliminateDeadCode(foldBroadcasts(g));
  // after broadcast folding, which leaves a bias as the [4H] operand of the gates' sum that sinking slices
  if (options.sinkSlices !== false) g = eliminateDeadCode(sinkSlices(g));
  return g;
}
