/** The types of {@link recurrent} layers: options, parameter trees, `apply` options and results. */
import type { Key, KeyLike, Tensor } from '@tapestry/core';
import type { Cell, CellState } from './cell.js';
import type { StateDict, StateDictInput } from './state-dict.js';

/** Options of {@link recurrent}. */
export interface RecurrentOptions {
  /** Features of each input step D. */
  readonly inputSize: number;
  /** Stacked layers; layer k > 0 reads layer k-1's output (default 1). */
  readonly numLayers?: number;
  /** Run a second, independently parameterised cell from the last step to the first (default false). */
  readonly bidirectional?: boolean;
  /** Dropout probability on each layer's output except the last's, in training only (default 0). */
  readonly dropout?: number;
  /** The layer's name in error messages (default `'recurrent'`). */
  readonly name?: string;
}

/** The parameters of one layer of a recurrent stack: a cell's parameters per direction. */
export interface DirectionParams<P> {
  /** Parameters of the cell that runs from the first step to the last. */
  readonly forward: P;
  /** Parameters of the cell that runs from the last step to the first (bidirectional layers only). */
  readonly reverse?: P;
}

/** The parameter tree of a recurrent layer: `{ layers: [{ forward, reverse? }, …] }`, one entry per layer. */
export interface RecurrentParams<P> {
  /** One entry per stacked layer, first layer first. */
  readonly layers: readonly DirectionParams<P>[];
}

/**
 * Options of a recurrent layer's `apply`. States go in and come out under the cell's own names, one spelling
 * for every cell: PyTorch's `h0` / `c0` are `initialState.h` / `initialState.c`, and its `h_n` / `c_n` are the
 * result's `state.h` / `state.c`.
 */
export interface RecurrentApplyOptions<S extends CellState> {
  /**
   * Initial states by name, each [numLayers · numDirections, N, …] (index `layer * numDirections + direction`,
   * direction 1 = reverse); a name not given starts from the cell's `initialState` (zeros for the built-ins).
   */
  readonly initialState?: { readonly [K in keyof S]?: Tensor };
  /**
   * Valid steps per sequence (an array or an int32 tensor of N integers in 1 … T, any order). Steps
   * t ≥ lengths[b] do not exist for sequence b: its outputs there are exactly 0, its inputs there get
   * exactly 0 gradient, its final state is the state after its last valid step, and in the reverse direction
   * it starts at its own last valid step. Equal to PyTorch's pack_padded_sequence → RNN →
   * pad_packed_sequence (with total_length = T). Steps past the longest sequence are not run at all; shorter
   * sequences ride along masked (their padded steps are computed on zeros and discarded).
   */
  readonly lengths?: readonly number[] | Tensor;
  /** Random key for the dropout between layers (required when training with dropout > 0). */
  readonly key?: KeyLike;
  /** Training mode: enables the dropout between layers (default false). */
  readonly training?: boolean;
}

/** What a recurrent layer's `apply` returns. */
export interface RecurrentResult<S extends CellState> {
  /** The last layer's outputs [N, T, F · numDirections], forward features first; 0 at padded steps. */
  readonly output: Tensor;
  /**
   * Final states by name, each [numLayers · numDirections, N, …] (at each sequence's last valid step):
   * `state.h` and `state.c` are PyTorch's `h_n` and `c_n`.
   */
  readonly state: S;
}

/**
 * A recurrent layer: a definition that holds no weights. `init` makes a parameter tree, `apply` runs it.
 */
export interface RecurrentLayer<P, S extends CellState> {
  /** The name used in error messages (`'lstm'`, `'gru'`, …). */
  readonly name: string;
  /** The cell every layer and direction runs. */
  readonly cell: Cell<P, S>;
  /** Features of each input step D. */
  readonly inputSize: number;
  /** Stacked layers. */
  readonly numLayers: number;
  /** Whether each layer also runs a reverse-direction cell. */
  readonly bidirectional: boolean;
  /** 2 when bidirectional, else 1. */
  readonly numDirections: 1 | 2;
  /** Dropout probability between layers (training only). */
  readonly dropout: number;
  /** Creates the parameter tree `{ layers: [{ forward, reverse? }, …] }` (frozen). */
  init(key: Key): RecurrentParams<P>;
  /**
   * Runs the layer over `x` [N, T, inputSize] (batch first). Differentiable in everything: BPTT is
   * `grad` of a function that calls `apply`; pass `stopGradient(state)` as the next chunk's `initialState` to truncate it.
   */
  apply(params: RecurrentParams<P>, x: Tensor, options?: RecurrentApplyOptions<S>): RecurrentResult<S>;
  /** The parameters under PyTorch's names: `weight_ih_l0`, `bias_hh_l1_reverse`, … (a cell's camelCase leaf paths in snake_case, plus `_l{k}` and `_reverse`). */
  toStateDict(params: RecurrentParams<P>): StateDict;
  /** The inverse of `toStateDict`; a missing, unexpected or wrongly shaped entry is an error listing expected vs given. */
  fromStateDict(dict: StateDictInput): RecurrentParams<P>;
}
