/**
 * What the three built-in cells share: PyTorch's parameter layout (gate blocks stacked along the rows of
 * `weightIh` / `weightHh`, two biases per gate), its default initialisation, and the two affine projections
 * `x W_ihᵀ + b_ih` and `h W_hhᵀ + b_hh`. A user's cell needs none of this; it is only how the built-ins
 * avoid repeating themselves. (That `recurrent` computes `x W_ihᵀ + b_ih` once for all steps is not arranged
 * here: it finds that for any cell, see step-program.ts.)
 */
import { add, DTypeError, expectPositiveInteger, formatShape, matmul, ShapeError, splitKey } from '@tapestry/core';
import type { DType, Key, Tensor } from '@tapestry/core';
import { uniform, type Initializer } from '../init.js';

/**
 * Parameters of the built-in cells, in PyTorch's layout: G gate blocks of H rows each, stacked in the gate
 * order of the cell (RNN: 1 block; LSTM: i, f, g, o; GRU: r, z, n).
 */
export interface GatedCellParams {
  /** Input-to-hidden weights, [G·H, inputSize]. */
  readonly weightIh: Tensor;
  /** Hidden-to-hidden weights, [G·H, H]. */
  readonly weightHh: Tensor;
  /** Input-to-hidden bias, [G·H] (absent when the cell was built with `bias: false`). */
  readonly biasIh?: Tensor;
  /** Hidden-to-hidden bias, [G·H] (absent when the cell was built with `bias: false`). */
  readonly biasHh?: Tensor;
}

/** Options shared by {@link rnnCell}, {@link lstmCell} and {@link gruCell}. */
export interface GatedCellOptions {
  /** Features of the hidden state H. */
  readonly hiddenSize: number;
  /** Whether the cell has the biases `biasIh` and `biasHh` (default true, as in PyTorch). */
  readonly bias?: boolean;
  /** Parameter dtype (default `'float32'`). */
  readonly dtype?: DType;
  /** Initialiser of `weightIh` (default PyTorch's U(-1/√H, 1/√H)). */
  readonly weightIhInit?: Initializer;
  /** Initialiser of `weightHh` (default PyTorch's U(-1/√H, 1/√H); `init.orthogonal()` is a common choice). */
  readonly weightHhInit?: Initializer;
  /** Initialiser of both biases (default PyTorch's U(-1/√H, 1/√H)). */
  readonly biasInit?: Initializer;
}

/** The resolved settings of a built-in cell. */
export interface GatedCellConfig {
  readonly name: string;
  readonly gates: number;
  readonly hiddenSize: number;
  readonly bias: boolean;
  readonly dtype: DType;
  readonly weightIhInit: Initializer;
  readonly weightHhInit: Initializer;
  readonly biasInit: Initializer;
}

/** Validates the options of a built-in cell and fills in PyTorch's defaults. */
export function gatedConfig(name: string, gates: number, options: GatedCellOptions): GatedCellConfig {
  const hiddenSize = expectPositiveInteger(name, 'hiddenSize', options?.hiddenSize);
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new DTypeError(`${name}: dtype must be 'float32' or 'float64', got ${String(dtype)}`);
  }
  // PyTorch's RNNBase.reset_parameters: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))
  const bound = 1 / Math.sqrt(hiddenSize);
  const fallback = uniform(-bound, bound);
  return {
    name,
    gates,
    hiddenSize,
    bias: options.bias ?? true,
    dtype,
    weightIhInit: options.weightIhInit ?? fallback,
    weightHhInit: options.weightHhInit ?? fallback,
    biasInit: options.biasInit ?? fallback,
  };
}

/** Creates the parameters of a built-in cell for inputs of `inputSize` features. */
export function initGated(config: GatedCellConfig, key: Key, inputSize: number): GatedCellParams {
  expectPositiveInteger(`${config.name}.init`, 'inputSize', inputSize);
  const rows = config.gates * config.hiddenSize;
  const [k1, k2, k3, k4] = splitKey(key, 4) as [Key, Key, Key, Key];
  const weights = {
    weightIh: config.weightIhInit(k1, [rows, inputSize], config.dtype),
    weightHh: config.weightHhInit(k2, [rows, config.hiddenSize], config.dtype),
  };
  if (!config.bias) return weights;
  return { ...weights, biasIh: config.biasInit(k3, [rows], config.dtype), biasHh: config.biasInit(k4, [rows], config.dtype) };
}

/** Checks a step's input x against the parameters: [batch, inputSize]. */
export function checkStepInput(name: string, p: GatedCellParams, x: Tensor): void {
  const inputSize = p.weightIh.shape[1]!;
  if (x.rank !== 2 || x.shape[1] !== inputSize) {
    throw new ShapeError(
      `${name}.step: x must be [batch, inputSize] = [N, ${inputSize}], got ${formatShape(x.shape)}` +
        (x.rank === 3 ? ' (a whole sequence? run it with scan or recurrent)' : ''),
    );
  }
}

/** The input projection `x W_ihᵀ + b_ih` of a step, [batch, G·H]. */
export function inputProjection(p: GatedCellParams, x: Tensor): Tensor {
  // PyTorch layout [G·H, in]: multiply by the transpose without copying it
  const gi = matmul(x, p.weightIh, { transposeB: true });
  return p.biasIh ? add(gi, p.biasIh) : gi;
}

/**
 * The hidden projection `h W_hhᵀ + b_hh` of a step, [batch, G·H], after checking `h` against the input
 * projection `gi` [batch, G·H]. Kept apart from the input part because the GRU applies its reset gate to the
 * hidden part of the candidate only.
 */
export function hiddenProjection(name: string, p: GatedCellParams, h: Tensor, gi: Tensor): Tensor {
  const hiddenSize = p.weightHh.shape[1]!;
  if (h.rank !== 2 || h.shape[0] !== gi.shape[0] || h.shape[1] !== hiddenSize) {
    throw new ShapeError(`${name}.step: state.h must be [batch, hiddenSize] = [${gi.shape[0]}, ${hiddenSize}], got ${formatShape(h.shape)}`);
  }
  const gh = matmul(h, p.weightHh, { transposeB: true });
  return p.biasHh ? add(gh, p.biasHh) : gh;
}
