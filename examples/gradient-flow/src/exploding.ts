/**
 * The exploding side: the global norm of the parameter gradient ∂L_T/∂θ for a loss at step T, as T grows,
 * before and after `clipGradNorm`. Clipping rescales the whole gradient tree so its global norm is at most
 * `maxNorm` — it keeps the direction and caps the step, which is why it tames explosions (and does nothing
 * for vanishing gradients).
 */
import { grad, type Tensor } from '@tapestry/core';
import type { GatedCellParams } from '@tapestry/layers';
import { clipGradNorm, globalNorm } from '@tapestry/optim';
import { lastStepLoss, unroll, type Model } from './models.js';

/** One row of the clipping table. */
export interface ClipRow {
  /** Sequence length: the loss is at step T. */
  readonly T: number;
  /** ‖∂L_T/∂θ‖ over all parameters (what `clipGradNorm` reports as `totalNorm`). */
  readonly before: number;
  /** The global norm of the gradient `clipGradNorm(·, maxNorm)` returns. */
  readonly after: number;
}

/** ‖∂L_T/∂θ‖ before and after `clipGradNorm(grads, maxNorm)` for each T in `lengths` (each ≤ xs.length). */
export function clippingTable(model: Model, xs: readonly Tensor[], readout: Tensor, lengths: readonly number[], maxNorm: number): ClipRow[] {
  return lengths.map((T) => {
    const grads = grad((p: GatedCellParams) => lastStepLoss(unroll(model.cell, p, xs.slice(0, T)).h!, readout))(model.params) as GatedCellParams;
    const { grads: clipped, totalNorm } = clipGradNorm(grads, maxNorm);
    return { T, before: totalNorm.item(), after: globalNorm(clipped).item() };
  });
}
