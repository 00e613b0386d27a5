/**
 * A training step split where data parallelism splits it: `gradients` (the loss and its gradient on this
 * thread's share of the batch) and `update` (the optimiser's step on the gradients, which every thread
 * applies alike). `trainingStep` compiles the two for a thread: on one thread as a single `jit`-compiled
 * function; on several as two compiled functions with the mean of every thread's loss and gradients between
 * them, so the parameter replicas stay identical without being sent around.
 */
import { ArgumentError, jit, stopGradient, type Tensor } from '@tapestry/core';
import { SoloThread, type Thread } from './thread.js';

/** The parameters and optimiser state after an update. */
export interface TrainingStepUpdate<P, S> {
  /** The updated parameters. */
  readonly params: P;
  /** The optimiser's next state. */
  readonly optState: S;
}

/**
 * The two halves of a training step.
 * @typeParam P - the parameter tree (the gradients have its structure)
 * @typeParam S - the optimiser state
 * @typeParam A - the rest of the arguments of the loss (this thread's batch, carried state, keys…)
 * @typeParam Aux - what the loss returns beside its value (a carried state, say)
 */
export interface TrainingStepParts<P, S, A extends unknown[], Aux> {
  /** The loss, its aux value and its gradient with respect to `params`: `valueAndGrad(loss, 0, { hasAux: true })`. */
  readonly gradients: (params: P, ...args: A) => [[Tensor, Aux], P];
  /** The optimiser update of (averaged) gradients, applied: `{ params: applyUpdates(params, updates), optState }`. */
  readonly update: (params: P, optState: S, grads: P) => TrainingStepUpdate<P, S>;
}

/** Options of {@link trainingStep}. */
export interface TrainingStepOptions {
  /** Compile with `jit` (default true); false runs both halves eagerly. */
  readonly jit?: boolean;
  /**
   * Positions in `args` (0 for the first argument after the optimiser state) of arguments the step may take
   * the storage of, such as a carried state it replaces. The parameters and the optimiser state are always
   * donated when compiled: pass the step's results, never its arguments, to the next call.
   */
  readonly donate?: readonly number[];
}

/** What a training step returns. */
export interface TrainingStepResult<P, S, Aux> extends TrainingStepUpdate<P, S> {
  /** The loss of the whole batch: on several threads, the mean of every thread's loss. */
  readonly loss: Tensor;
  /** This thread's aux value. */
  readonly aux: Aux;
}

/** A compiled training step: the parameters, the optimiser state and the loss's other arguments in, the next ones out. */
export type TrainingStep<P, S, A extends unknown[], Aux> = ((params: P, optState: S, ...args: A) => TrainingStepResult<P, S, Aux>) & {
  /**
   * How many argument signatures `jit` has compiled: on several threads the larger count of the two
   * compiled halves; 0 when the step runs eagerly. It stays 1 once warm when every call replays one plan —
   * a step whose count grows is re-tracing (its arguments change shape or structure from call to call).
   */
  readonly cacheSize: number;
};

/** `step` with a `cacheSize` read from `count`. */
function withCacheSize<F extends object>(step: F, count: () => number): F & { readonly cacheSize: number } {
  return Object.defineProperty(step, 'cacheSize', { get: count }) as F & { readonly cacheSize: number };
}

/**
 * Compiles a training step for `thread` (default: a single thread). With one thread the whole step —
 * forward, backward, the update — is one `jit`-compiled function that donates the parameters, the optimiser
 * state and `options.donate`. With N threads it is `jit(gradients)`, then {@link Thread.mean} of the loss and
 * gradients across threads, then `jit(update)` of the mean (donating parameters, optimiser state and the
 * averaged gradients); every thread applies the same update to the same bits.
 * @example
 * ```ts
 * const step = trainingStep({
 *   gradients: valueAndGrad((params, x, y) => crossEntropy(model(params, x), y)),
 *   update: (params, optState, grads) => {
 *     const { updates, state } = optimizer.update(grads, optState, params);
 *     return { params: applyUpdates(params, updates), optState: state };
 *   },
 * }, thread);
 * ({ params, optState } = step(params, optState, x, y));
 * ```
 */
export function trainingStep<P, S, A extends unknown[], Aux>(
  parts: TrainingStepParts<P, S, A, Aux>,
  thread: Thread = new SoloThread(),
  options: TrainingStepOptions = {},
): TrainingStep<P, S, A, Aux> {
  if (parts === null || typeof parts !== 'object' || typeof parts.gradients !== 'function' || typeof parts.update !== 'function') {
    throw new ArgumentError('trainingStep: parts must be { gradients, update }, two functions');
  }
  const donate = options.donate ?? [];
  donate.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 0) throw new ArgumentError(`trainingStep: donate[${i}] must be a non-negative argument position, got ${String(k)}`);
  });
  const compile = options.jit !== false;
  if (thread.threads === 1) {
    const whole = (params: P, optState: S, ...args: A): TrainingStepResult<P, S, Aux> => {
      const [[loss, aux], grads] = parts.gradients(params, ...args);
      return { ...parts.update(params, optState, grads), loss, aux };
    };
    if (compile) return jit(whole, { donate: [0, 1, ...donate.map((k) => k + 2)] });
    const eager = (params: P, optState: S, ...args: A): TrainingStepResult<P, S, Aux> => {
      const result = whole(params, optState, ...args);
      return { ...result, aux: stopGradient(result.aux) };
    };
    return withCacheSize(eager, () => 0);
  }
  const gradients = compile ? jit(parts.gradients, { donate: donate.map((k) => k + 1) }) : undefined;
  const update = compile ? jit(parts.update, { donate: [0, 1, 2] }) : undefined;
  const shared = (params: P, optState: S, ...args: A): TrainingStepResult<P, S, Aux> => {
    const [[loss, aux], grads] = (gradients ?? parts.gradients)(params, ...args);
    const mean = thread.mean({ loss, grads });
    return { ...(update ?? parts.update)(params, optState, mean.grads), loss: mean.loss, aux: compile ? aux : stopGradient(aux) };
  };
  return withCacheSize(shared, () => Math.max(gradients?.cacheSize ?? 0, update?.cacheSize ?? 0));
}
