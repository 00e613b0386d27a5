/**
 * Each built-in cell's step, differentiated by the core, agrees with central finite differences (float64)
 * in the parameters, every state field and the input, over random shapes and values.
 */
import { abs, add, checkGrad, matmul, min, mul, normal, randomKey, splitKey, sum, transpose, Tensor } from '@tapestry/core';
import type { Key } from '@tapestry/core';
import { gruCell, lstmCell, rnnCell, type Cell, type CellState, type GatedCellParams } from '@tapestry/layers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const shapes = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  inputSize: fc.integer({ min: 1, max: 3 }),
  hiddenSize: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
});

// A scalar of everything a step returns: a random weighted sum of the new state fields and the output.
function stepLoss<S extends CellState>(cell: Cell<GatedCellParams, S>, params: GatedCellParams, state: S, x: Tensor, key: Key) {
  const probe = cell.step(params, state, x);
  const names = Object.keys(probe.state);
  const keys = splitKey(key, names.length + 1);
  const wOut = normal(keys[0]!, [...probe.output.shape], { dtype: 'float64' });
  const wState = names.map((n, i) => normal(keys[i + 1]!, [...probe.state[n]!.shape], { dtype: 'float64' }));
  return (p: GatedCellParams, s: S, xt: Tensor): Tensor => {
    const { state: next, output } = cell.step(p, s, xt);
    return names.reduce((loss, n, i) => add(loss, sum(mul(next[n]!, wState[i]!))), sum(mul(output, wOut)));
  };
}

function randomState<S extends CellState>(cell: Cell<GatedCellParams, S>, key: Key, batch: number): S {
  const template = cell.initialState(batch, 'float64');
  const names = Object.keys(template);
  const keys = splitKey(key, names.length + 1);
  return Object.fromEntries(names.map((n, i) => [n, normal(keys[i]!, [...template[n]!.shape], { dtype: 'float64' })])) as S;
}

// Distance of the Elman pre-activation from relu's kink at 0
function kinkDistance(p: GatedCellParams, h: Tensor, x: Tensor): number {
  const pre = add(add(matmul(x, transpose(p.weightIh)), p.biasIh!), add(matmul(h, transpose(p.weightHh)), p.biasHh!));
  return min(abs(pre)).item();
}

const cells: [string, (h: number) => Cell<GatedCellParams, CellState>][] = [
  ['rnnCell tanh', (h) => rnnCell({ hiddenSize: h, nonlinearity: 'tanh', dtype: 'float64' })],
  ['rnnCell relu', (h) => rnnCell({ hiddenSize: h, nonlinearity: 'relu', dtype: 'float64' })],
  ['lstmCell', (h) => lstmCell({ hiddenSize: h, dtype: 'float64' })],
  ['gruCell', (h) => gruCell({ hiddenSize: h, dtype: 'float64' })],
  ['lstmCell without bias', (h) => lstmCell({ hiddenSize: h, bias: false, dtype: 'float64' })],
  ['gruCell without bias', (h) => gruCell({ hiddenSize: h, bias: false, dtype: 'float64' })],
];

describe('built-in cells: step gradients equal finite differences (float64)', () => {
  for (const [name, make] of cells) {
    it(name, () => {
      fc.assert(
        fc.property(shapes, ({ batch, inputSize, hiddenSize, seed }) => {
          const cell = make(hiddenSize);
          const [kp, ks, kx, kw] = splitKey(randomKey(seed), 4) as [Key, Key, Key, Key];
          const params = cell.init(kp, inputSize);
          const state = randomState(cell, ks, batch);
          const x = normal(kx, [batch, inputSize], { dtype: 'float64' });
          if (name.includes('relu')) fc.pre(kinkDistance(params, state.h!, x) > 1e-3);
          const result = checkGrad(stepLoss(cell, params, state, x, kw), [params, state, x]);
          expect(result.ok, result.message).toBe(true);
        }),
        { numRuns: 15 },
      );
    });
  }
});

describe('built-in cells: the contract', () => {
  it('initialState is zeros of [batch, H] with the named fields', () => {
    expect(Object.keys(lstmCell({ hiddenSize: 4 }).initialState(2, 'float64'))).toEqual(['h', 'c']);
    const { h } = gruCell({ hiddenSize: 4 }).initialState(2, 'float64');
    expect(h.shape).toEqual([2, 4]);
    expect(h.dtype).toBe('float64');
    expect(Array.from(h.dataSync())).toEqual(new Array(8).fill(0));
  });

  it('parameters follow PyTorch layout and default init U(-1/sqrt(H), 1/sqrt(H))', () => {
    const H = 16;
    const p = lstmCell({ hiddenSize: H, dtype: 'float64' }).init(randomKey(0), 5);
    expect(p.weightIh.shape).toEqual([4 * H, 5]);
    expect(p.weightHh.shape).toEqual([4 * H, H]);
    expect(p.biasIh!.shape).toEqual([4 * H]);
    const values = [...p.weightIh.dataSync(), ...p.weightHh.dataSync(), ...p.biasHh!.dataSync()];
    const bound = 1 / Math.sqrt(H);
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(0.9 * bound); // spread over the whole range
    expect(gruCell({ hiddenSize: 3 }).init(randomKey(0), 2).weightIh.shape).toEqual([9, 2]);
  });

  it('a step on the wrong input width names the cell, the argument and both shapes', () => {
    const cell = gruCell({ hiddenSize: 3, dtype: 'float64' });
    const p = cell.init(randomKey(0), 4);
    const x = normal(randomKey(1), [2, 5], { dtype: 'float64' });
    expect(() => cell.step(p, cell.initialState(2, 'float64'), x)).toThrow(/gruCell\.step: x must be \[batch, inputSize\] = \[N, 4\], got \[2, 5\]/);
  });
});
