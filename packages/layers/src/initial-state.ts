/** Initial states of a recurrent layer: checking `initialState` and splitting it per layer and direction. */
import { ArgumentError, DTypeError, formatShape, reshape, ShapeError, shapesEqual, split, Tensor } from '@tapestry/core';
import type { DType } from '@tapestry/core';
import type { CellState } from './cell.js';

/** Where a layer's messages come from, and its stack's geometry. */
export interface StackShape {
  readonly name: string;
  readonly cellName: string;
  readonly numLayers: number;
  readonly numDirections: number;
}

/**
 * The given initial states by state name, each split into one [N, …] piece per (layer, direction), index
 * `layer * numDirections + direction`. `template` is the cell's own initial state for this batch (its
 * names and per-piece shapes); names not given are absent from the result.
 */
export function initialStatePieces(
  stack: StackShape,
  template: CellState,
  options: { readonly initialState?: { readonly [name: string]: unknown } },
  dtype: DType,
): Map<string, Tensor[]> {
  const { name, cellName, numLayers, numDirections } = stack;
  const names = Object.keys(template);
  // PyTorch's spelling is the first thing a PyTorch user tries: say where it went
  for (const [old, field] of [
    ['h0', 'h'],
    ['c0', 'c'],
  ] as const) {
    if ((options as Record<string, unknown>)[old] !== undefined) {
      throw new ArgumentError(
        `${name}: there is no ${old} option; pass initialState: { ${field}: ${old} } (PyTorch's h0 / c0 are initialState.h / .c, its h_n / c_n the result's state.h / .c)`,
      );
    }
  }
  const given = new Map<string, [string, Tensor]>();
  const explicit = options.initialState ?? {};
  for (const key of Object.keys(explicit)) {
    const argument = `initialState.${key}`;
    const value = explicit[key];
    if (value === undefined) continue;
    if (!names.includes(key)) {
      throw new ArgumentError(
        `${name}: ${argument} was given but ${cellName}'s state has only {${names.join(', ')}}` + (key === 'c' ? ' (c is for LSTM-like cells)' : ''),
      );
    }
    if (!(value instanceof Tensor)) throw new ArgumentError(`${name}: ${argument} must be a Tensor, got ${value === null ? 'null' : typeof value}`);
    given.set(key, [argument, value]);
  }

  const pieces = new Map<string, Tensor[]>();
  for (const [stateName, [argument, value]] of given) {
    const one = template[stateName]!.shape;
    const expected = [numLayers * numDirections, ...one];
    if (!shapesEqual(value.shape, expected)) {
      const hint = shapesEqual(value.shape, one)
        ? expected[0] === 1
          ? ` (missing the leading numLayers * numDirections axis: use expandDims(${argument}, 0))`
          : ` (missing the leading numLayers * numDirections = ${expected[0]} axis: give one state per layer and direction, index layer * ${numDirections} + direction)`
        : value.rank === expected.length && value.shape[0] === expected[0] && value.shape[1] !== expected[1]
          ? ` (the batch axis must match x's N = ${expected[1]})`
          : '';
      throw new ShapeError(`${name}: ${argument} must be [numLayers * numDirections, N, …] = ${formatShape(expected)}, got ${formatShape(value.shape)}${hint}`);
    }
    if (value.dtype !== dtype) {
      throw new DTypeError(`${name}: ${argument} has dtype ${value.dtype} but x and the parameters are ${dtype}; cast it with cast(${argument}, '${dtype}')`);
    }
    const parts = expected[0] === 1 ? [value] : split(value, expected[0]!, 0);
    pieces.set(
      stateName,
      parts.map((p) => reshape(p, [...one])),
    );
  }
  return pieces;
}
