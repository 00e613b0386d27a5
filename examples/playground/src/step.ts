/**
 * The training step in plain view, in the two halves data parallelism splits it into: `gradients` (the loss
 * of a window and its gradient, with the carried state as aux) and `update` (clipping, Adam, the new
 * parameters). Every way the playground trains — one CPU thread, several, the GPU — runs these two.
 */
import { foldIn, jit, keyData, randomKey, valueAndGrad, type Tensor } from '@tapestry/core';
import { adam, applyUpdates, chain, clipByGlobalNorm, type GradientTransformation } from '@tapestry/optim';
import type { TrainingStep, TrainingStepParts } from '@tapestry/parallel';
import type { PlaygroundConfig } from './config.js';
import type { Carry, PlaygroundModel, PlaygroundParams } from './model.js';

/** The arguments of the loss after the parameters: a window's inputs and targets, the carried state and a dropout key. */
export type StepArgs = [inputs: Tensor, targets: Tensor, carry: Carry | undefined, key: Tensor];

/** The optimiser of a run: global-norm clipping, then Adam. */
export function playgroundOptimizer(config: PlaygroundConfig): GradientTransformation<unknown> {
  return chain(clipByGlobalNorm(config.clip), adam({ lr: config.lr })) as GradientTransformation<unknown>;
}

/** The step's two halves for a model and its optimiser. */
export function stepParts(model: PlaygroundModel, optimizer: GradientTransformation<unknown>): TrainingStepParts<PlaygroundParams, unknown, StepArgs, Carry> {
  const training = model.config.dropout > 0;
  return {
    gradients: valueAndGrad(
      (params: PlaygroundParams, inputs: Tensor, targets: Tensor, carry: Carry | undefined, key: Tensor) =>
        model.loss(params, inputs, targets, carry, { training, key }),
      0,
      { hasAux: true },
    ) as TrainingStepParts<PlaygroundParams, unknown, StepArgs, Carry>['gradients'],
    update: (params, optState, grads) => {
      const { updates, state } = optimizer.update(grads, optState, params);
      return { params: applyUpdates(params, updates), optState: state };
    },
  };
}

/**
 * The dropout key of a step, as int32 data so a compiled step takes it as an argument. On several threads
 * each folds in its index: equal keys would draw equal masks for the threads' equal-shaped shares.
 */
export function stepKey(seed: number, step: number, thread: { readonly index: number; readonly threads: number }): Tensor {
  const key = foldIn(foldIn(randomKey(seed), 1), step);
  return keyData(thread.threads === 1 ? key : foldIn(key, thread.index));
}

/**
 * The whole step as one `jit`-compiled function, as `@tapestry/parallel`'s `trainingStep` compiles it for one
 * thread (so a run of one thread gives the bits of a pool of one): the parameters, the optimiser state and the
 * carried state (argument 4), which the step replaces, give their storage to its results.
 */
export function soloStep(parts: TrainingStepParts<PlaygroundParams, unknown, StepArgs, Carry>): TrainingStep<PlaygroundParams, unknown, StepArgs, Carry> {
  return jit(
    (params: PlaygroundParams, optState: unknown, ...args: StepArgs) => {
      const [[loss, aux], grads] = parts.gradients(params, ...args);
      return { ...parts.update(params, optState, grads), loss, aux };
    },
    { donate: [0, 1, 4] },
  );
}
