/**
 * The cell contract. A cell is a value with three pure functions; everything that runs cells over time
 * ({@link scan}, {@link recurrent}) sees only this contract, so a cell a user writes stands exactly where
 * the built-in {@link lstmCell} stands.
 */
import type { DType, Key, Tensor } from '@tapestry/core';

/**
 * A cell's state: named tensors, each with the batch as its leading axis (`{ h }` for an RNN or GRU,
 * `{ h, c }` for an LSTM). Names make errors readable (`carry.c`), and a layer takes and returns
 * states by these names (`initialState.c`, `state.c`).
 */
export type CellState = { readonly [name: string]: Tensor };

/** What one step of a cell returns. */
export interface CellStep<S extends CellState> {
  /** The state after the step (same names, shapes and dtypes as the state given to it). */
  readonly state: S;
  /** The step's output, [batch, outputSize]; for the built-in cells it is the new `h`. */
  readonly output: Tensor;
}

/**
 * A recurrent cell: a pure step function over core ops, plus how to initialise its parameters and state.
 * BPTT needs nothing more: differentiating a loop of `step` calls is ordinary reverse-mode autodiff.
 *
 * @typeParam P - the parameter tree (any nested plain objects/arrays of tensors).
 * @typeParam S - the state, a record of named tensors.
 * @example
 * ```ts
 * // An Elman cell written from core ops: h' = tanh(x Wᵀ + h Uᵀ + b)
 * const elman = (hiddenSize: number): Cell<{ w: Tensor; u: Tensor; b: Tensor }, { h: Tensor }> => ({
 *   name: 'elman',
 *   outputSize: hiddenSize,
 *   init: (key, inputSize) => {
 *     const [k1, k2] = splitKey(key);
 *     return { w: normal(k1, [hiddenSize, inputSize]), u: normal(k2, [hiddenSize, hiddenSize]), b: zeros([hiddenSize]) };
 *   },
 *   initialState: (batch, dtype) => ({ h: zeros([batch, hiddenSize], dtype) }),
 *   step: (p, { h }, x) => {
 *     const hNew = tanh(add(add(matmul(x, p.w, { transposeB: true }), matmul(h, p.u, { transposeB: true })), p.b));
 *     return { state: { h: hNew }, output: hNew };
 *   },
 * });
 * ```
 */
export interface Cell<P, S extends CellState> {
  /** A short name used in error messages (e.g. `'lstmCell'`). */
  readonly name?: string;
  /**
   * Features of each step's output. Optional: when absent, {@link recurrent} finds it by running one step on
   * a batch of one zero input when it needs it (to size the next layer's input).
   */
  readonly outputSize?: number;
  /** Creates the parameters for inputs of `inputSize` features, using `key` for any randomness. */
  init(key: Key, inputSize: number): P;
  /** The state at time 0 when none is given: usually zeros of shape [batch, hiddenSize]. */
  initialState(batch: number, dtype: DType): S;
  /** One time step: `x` is [batch, inputSize]; returns the new state and the step's output. */
  step(params: P, state: S, x: Tensor): CellStep<S>;
}
