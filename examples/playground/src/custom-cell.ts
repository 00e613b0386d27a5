/**
 * The editor's cell: JavaScript the user writes, turned into a {@link Cell} that stands where the built-in
 * LSTM stands, and checked against finite differences before it trains.
 */
import * as core from '@tapestry/core';
import { checkGrad, normal, randomKey, splitKey, sum, mul, add, type CheckGradResult, type DType, type Tensor } from '@tapestry/core';
import { recurrent, type Cell, type CellState } from '@tapestry/layers';

/**
 * The editor's starting point: a GRU-like cell with a single update gate (a "minimal gated unit"). The
 * source is the body of a function of `hiddenSize` and `dtype` that returns the cell; every export of
 * @tapestry/core is in scope by name.
 */
export const DEFAULT_CELL_SOURCE = `// Every @tapestry/core export is in scope (matmul, sigmoid, tanh, add, mul, sub, ...).
// Return a cell for hiddenSize units: init, initialState and step.
const H = hiddenSize;
const bound = 1 / Math.sqrt(H);
const u = (key, shape) => uniform(key, shape, { dtype, low: -bound, high: bound });
return {
  name: 'minimalGatedUnit',
  outputSize: H,
  init(key, inputSize) {
    const [k1, k2, k3, k4] = splitKey(key, 4);
    return { wf: u(k1, [inputSize, H]), uf: u(k2, [H, H]), bf: zeros([H], dtype),
             wh: u(k3, [inputSize, H]), uh: u(k4, [H, H]), bh: zeros([H], dtype) };
  },
  initialState(batch, dtype) {
    return { h: zeros([batch, H], dtype) };
  },
  step(p, { h }, x) {
    // f = σ(x Wf + h Uf + bf);  h̃ = tanh(x Wh + (f ⊙ h) Uh + bh);  h' = (1 − f) ⊙ h + f ⊙ h̃
    const f = sigmoid(add(add(matmul(x, p.wf), matmul(h, p.uf)), p.bf));
    const candidate = tanh(add(add(matmul(x, p.wh), matmul(mul(f, h), p.uh)), p.bh));
    const next = add(mul(sub(1, f), h), mul(f, candidate));
    return { state: { h: next }, output: next };
  },
};
`;

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
