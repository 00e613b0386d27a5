/**
 * ∂L/∂h_t for every t in one backward pass, by the probe trick.
 *
 * The gradient of a loss with respect to an intermediate value is not something `grad` returns: it
 * differentiates with respect to a function's arguments. So make every intermediate state an argument's
 * doing: run the cell step by step and add a zero "probe" tensor p_t to each state, h_t' = h_t + p_t, and
 * let the rest of the loop use h_t'. The forward values are unchanged (p_t = 0), and since h_t' depends
 * on p_t with Jacobian I, ∂L/∂p_t = ∂L/∂h_t' — the total derivative of L with respect to the state at time
 * t through every later step. One `grad` with respect to the list of probes then returns all T + 1 of them
 * from a single reverse pass over the unrolled loop; no per-t recomputation, no hooks into the tape.
 */
import { grad, zerosLike, type Tensor } from '@tapestry/core';
import type { Cell, CellState, GatedCellParams } from '@tapestry/layers';
import { lastStepLoss, unroll, type Probe } from './models.js';

/** Per state field (`h`, and `c` for an LSTM): ‖∂L/∂s_t‖ indexed by the distance T − t = 0 … T. */
export type GradientNorms = Record<string, number[]>;

/**
 * ∂L/∂s_t for every state t = 0 … T (index t; each a record of the state's fields, [N, H] each), from one
 * reverse pass, where L is {@link lastStepLoss} of h_T with `readout` and `xs` holds T steps of [N, D].
 * For an LSTM, ∂L/∂h_t holds c_t fixed and ∂L/∂c_t holds h_t fixed (both are probed).
 */
export function stateGradients(cell: Cell<GatedCellParams, CellState>, params: GatedCellParams, xs: readonly Tensor[], readout: Tensor): Probe[] {
  const zeroState = cell.initialState(xs[0]!.shape[0]!, 'float64');
  const probes: Probe[] = Array.from({ length: xs.length + 1 }, () => Object.fromEntries(Object.entries(zeroState).map(([k, v]) => [k, zerosLike(v)])));
  const loss = (ps: Probe[]): Tensor => lastStepLoss(unroll(cell, params, xs, ps).h!, readout);
  return grad(loss)(probes) as Probe[];
}

/**
 * The Frobenius norms (over batch and features) of {@link stateGradients}, per state field, indexed by the
 * distance d = T − t (index 0: the last state, index T: the initial one).
 */
export function stateGradientNorms(cell: Cell<GatedCellParams, CellState>, params: GatedCellParams, xs: readonly Tensor[], readout: Tensor): GradientNorms {
  const grads = stateGradients(cell, params, xs, readout);
  const norms: GradientNorms = {};
  for (const name of Object.keys(grads[0]!)) norms[name] = grads.map((g) => frobenius(g[name]!)).reverse();
  return norms;
}

/** √(Σ x²) of a tensor, read back in float64. */
export function frobenius(x: Tensor): number {
  let s = 0;
  for (const v of x.dataSync()) s += v * v;
  return Math.sqrt(s);
}
