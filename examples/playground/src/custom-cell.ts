/**
 * The editor's cell: JavaScript the user writes, turned into a {@link Cell} that stands where the built-in
 * LSTM stands, and checked against finite differences before it trains.
 */
import * as core from '@tapestry/core';
import { checkGrad, normal, randomKey, splitKey, sum, mul, add, type CheckGradResult, type DType, type Tensor } from '@tapestry/core';
import { recurrent, type Cell, type CellState } from '@tapestry/layers';

export { DEFAULT_CELL_SOURCE } from './default-cell.js';

/** A cell built from user code: any parameter tree, any named state. */
export type CustomCell = Cell<unknown, CellState>;

const names = Object.keys(core).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name));

/**
 * Runs the editor's source as the body of `(hiddenSize, dtype) => cell` with the core's exports in scope,
 * and checks that it returned something shaped like a cell. Errors say what is missing.
 */
export function compileCell(source: string, hiddenSize: number, dtype: DType = 'float32'): CustomCell {
  let factory: (...args: unknown[]) => unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- compiling the user's cell is the point of the editor
    factory = new Function('core', 'hiddenSize', 'dtype', `'use strict';\nconst { ${names.join(', ')} } = core;\n${source}`) as typeof factory;
  } catch (error) {
    throw new Error(`custom cell: the source does not parse: ${(error as Error).message}`);
  }
  const cell = factory(core, hiddenSize, dtype) as Partial<CustomCell> | undefined;
  if (cell === null || typeof cell !== 'object') throw new Error(`custom cell: the source must return a cell object, got ${String(cell)}`);
  for (const fn of ['init', 'initialState', 'step'] as const) {
    if (typeof cell[fn] !== 'function') throw new Error(`custom cell: the returned cell has no ${fn}() function`);
  }
  return { name: 'customCell', ...cell } as CustomCell;
}

/** What the editor shows after a check. */
export interface CellCheck extends CheckGradResult {
  /** Output features of one step. */
  readonly outputSize: number;
}

/**
 * Checks the cell's gradients with `checkGrad` in float64: a 2-layer stack of it through `recurrent`, over
 * a padded batch with lengths, differentiated with respect to every parameter and the input.
 */
export function checkCell(source: string, hiddenSize = 3): CellCheck {
  const cell = compileCell(source, hiddenSize, 'float64');
  const layer = recurrent(cell, { inputSize: 2, numLayers: 2, name: 'customCell' });
  const [kp, kx, kw] = splitKey(randomKey(0), 3);
  const params = layer.init(kp!);
  const x = normal(kx!, [2, 4, 2], { dtype: 'float64' });
  const probe = layer.apply(params, x, { lengths: [4, 2] }).output;
  const w = normal(kw!, probe.shape as number[], { dtype: 'float64' });
  const loss = (p: typeof params, xs: Tensor) => {
    const { output, state } = layer.apply(p, xs, { lengths: [4, 2] });
    let total = sum(mul(output, w));
    for (const s of Object.values(state)) total = add(total, sum(mul(s, s)));
    return total;
  };
  return { ...checkGrad(loss, [params, x]), outputSize: probe.shape[2]! };
}
