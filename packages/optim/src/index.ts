/**
 * @tapestry/optim — optimisers, gradient clipping and learning-rate schedules as pure transformations
 * over parameter trees, with the numbers of PyTorch's `torch.optim`.
 *
 * @packageDocumentation
 */
export {
  applyUpdates,
  identity,
  emptyState,
  type EmptyState,
  type GradientTransformation,
  type ScalarOrSchedule,
  type Schedule,
  type UpdateResult,
} from './base.js';
export { chain, type ChainState } from './chain.js';
export { scale, scaleByLearningRate, type ScaleByLearningRateOptions, type ScaleByLearningRateState } from './transforms/scale.js';
export { addDecayedWeights } from './transforms/add-decayed-weights.js';
export { momentum, type MomentumOptions, type MomentumState } from './transforms/momentum.js';
export { scaleByAdam, type ScaleByAdamOptions, type ScaleByAdamState } from './transforms/scale-by-adam.js';
export { scaleByRms, type ScaleByRmsOptions, type ScaleByRmsState } from './transforms/scale-by-rms.js';
export { scaleByAdagrad, type ScaleByAdagradOptions, type ScaleByAdagradState } from './transforms/scale-by-adagrad.js';
export { sgd, type SgdOptions } from './optimizers/sgd.js';
export { adam, adamw, type AdamOptions } from './optimizers/adam.js';
export { rmsprop, type RmspropOptions } from './optimizers/rmsprop.js';
export { adagrad, type AdagradOptions } from './optimizers/adagrad.js';
export { clipByGlobalNorm, clipByValue, clipGradNorm, clipGradValue, globalNorm, type ClipGradNormResult, type NormOptions } from './clipping.js';
export { checkFinite, guardFinite, NonFiniteError, type CheckFiniteOptions, type GuardFiniteState } from './check-finite.js';
export {
  constant,
  cosineDecay,
  exponentialDecay,
  joinSchedules,
  linearSchedule,
  linearWarmup,
  scheduleDtype,
  scheduleValue,
  stepDecay,
  type CosineDecayOptions,
  type ExponentialDecayOptions,
  type LinearScheduleOptions,
  type LinearWarmupOptions,
  type StepDecayOptions,
} from './schedules.js';
