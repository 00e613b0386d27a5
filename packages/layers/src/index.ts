/**
 * @tapestry/layers — recurrent networks as unrolled programs. A cell is a pure step function over core
 * ops; {@link scan} runs it over time; {@link recurrent} turns any cell into a stacked, optionally
 * bidirectional layer with variable lengths; {@link rnn}, {@link lstm} and {@link gru} are that with the
 * built-in cells and PyTorch's numbers. Backpropagation through time is the core's reverse mode applied to
 * the unrolled loop; truncated BPTT is `stopGradient` on the carried state.
 *
 * @packageDocumentation
 */
export type { Cell, CellState, CellStep } from './cell.js';
export { rnnCell, type HiddenState, type RnnCellOptions } from './cells/rnn-cell.js';
export { lstmCell, type LstmState } from './cells/lstm-cell.js';
export { gruCell } from './cells/gru-cell.js';
export type { GatedCellOptions, GatedCellParams } from './cells/gated.js';
export { scan, type ScanFn, type ScanOptions } from './scan.js';
export { recurrent } from './recurrent.js';
export type { DirectionParams, RecurrentApplyOptions, RecurrentLayer, RecurrentOptions, RecurrentParams, RecurrentResult } from './recurrent-types.js';
export { gru, lstm, rnn, type GruLayer, type LstmLayer, type RecurrentLayerOptions, type RnnLayer, type RnnLayerOptions } from './rnn-layers.js';
export { snakeName, type StateDict, type StateDictInput } from './state-dict.js';
export { linear, type LinearLayer, type LinearOptions, type LinearParams } from './linear.js';
export { maxoutLinear, type MaxoutLinearLayer, type MaxoutLinearOptions } from './maxout.js';
export { embedding, type EmbeddingLayer, type EmbeddingOptions, type EmbeddingParams } from './embedding.js';
export { dropout, type DropoutOptions } from './dropout.js';
export * as init from './init.js';
export type { Initializer } from './init.js';
export {
  binaryCrossEntropyWithLogits,
  crossEntropy,
  mse,
  type BceWithLogitsOptions,
  type CrossEntropyOptions,
  type MseOptions,
  type Reduction,
} from './losses.js';
