import { ArgumentError, describeValue, formatShape, gather, ShapeError, tensor, Tensor, treeMap } from '@tapestry/core';

/**
 * One step of an autoregressive model, as {@link generate} and {@link beamSearch} call it: given the last
 * token of each of the `B` sequences being decoded (int32 `[B]`), the model's state for them, and the whole
 * prefixes so far (int32 `[B, t]`, starting with the start token or prompt), return the next-token logits
 * `[B, V]` (unnormalised scores; log-probabilities are fine too) and the new state. A recurrent decoder
 * uses `tokens` and `state`; a model without state may use `prefix` and pass `state` through.
 *
 * The state is any tree (plain objects and arrays) whose tensor leaves have the sequences along one axis
 * (`stateAxis` of the caller's options, default 0; 1 for a layer's `[numLayers, B, H]` hidden state).
 *
 * @example
 * ```ts
 * const step: DecodeStep<{ h: Tensor; c: Tensor }> = (tokens, state) => {
 *   const x = embed(params.embedding, tokens);          // [B, E]
 *   const next = lstmCell.step(params.cell, state, x);  // { state, output }
 *   return { logits: linear(params.out, next.output), state: next.state };
 * };
 * ```
 */
export type DecodeStep<S> = (tokens: Tensor, state: S, prefix: Tensor) => DecodeStepResult<S>;

/** What a {@link DecodeStep} returns. */
export interface DecodeStepResult<S> {
  /** Next-token scores, float `[B, V]`. */
  logits: Tensor;
  /** The state after the step, same structure as the state passed in. */
  state: S;
}

/** Checks a step's output: float logits of shape [B, V]. */
export function checkStepLogits(fn: string, result: unknown, batch: number): Tensor {
  const logits = result !== null && typeof result === 'object' ? (result as { logits?: unknown }).logits : undefined;
  if (!(logits instanceof Tensor)) {
    throw new ArgumentError(`${fn}: step must return { logits: Tensor [B, V], state }, got logits ${describeValue(logits)}`);
  }
  if (logits.rank !== 2 || logits.shape[0] !== batch || logits.shape[1] === 0) {
    throw new ShapeError(`${fn}: step returned logits of shape ${formatShape(logits.shape)}; expected [${batch}, V] for ${batch} sequence(s)`);
  }
  return logits;
}

/**
 * Reorders (and duplicates or drops) the sequences of a state tree: every tensor leaf becomes
 * `gather(leaf, indices, axis)`, so row `i` of the result is row `indices[i]` of the input; other
 * leaves are kept. This is how beam search follows each surviving hypothesis back to its parent.
 *
 * @example
 * ```ts
 * const state = { h: tensor([[1], [2]]) };
 * reorderState(state, [1, 1, 0]).h.toArray(); // [[2], [2], [1]]
 * ```
 */
export function reorderState<S>(state: S, indices: ArrayLike<number>, axis = 0): S {
  const fn = 'reorderState';
  if (indices === null || typeof indices !== 'object' || typeof indices.length !== 'number') {
    throw new ArgumentError(`${fn}: indices must be an array of sequence indices, got ${describeValue(indices)}`);
  }
  // Int32Array.from would truncate 1.5 to 1 and wrap 2^32 to 0: refuse what is not an index instead
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
      throw new ArgumentError(`${fn}: indices[${i}] must be a non-negative integer index, got ${describeValue(v)}`);
    }
  }
  if (typeof axis !== 'number' || !Number.isInteger(axis)) throw new ArgumentError(`${fn}: axis must be an integer, got ${describeValue(axis)}`);
  const index = tensor(Int32Array.from(indices), { shape: [indices.length] });
  return treeMap((leaf: unknown) => {
    if (!(leaf instanceof Tensor)) return leaf;
    const a = axis < 0 ? axis + leaf.rank : axis;
    if (a < 0 || a >= leaf.rank) {
      throw new ShapeError(`reorderState: state leaf of shape ${formatShape(leaf.shape)} has no axis ${axis} to reorder sequences along; set stateAxis`);
    }
    const outside = Array.prototype.findIndex.call(indices, (v: number) => v >= leaf.shape[a]!);
    if (outside >= 0) {
      throw new ShapeError(
        `${fn}: indices[${outside}] = ${indices[outside]} is out of range for a state leaf of shape ${formatShape(leaf.shape)} (axis ${a} has ${leaf.shape[a]} sequences)`,
      );
    }
    return gather(leaf, index, a);
  }, state) as S;
}
