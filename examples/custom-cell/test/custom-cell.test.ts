/**
 * The custom-cell guide's claims, checked: the user's peephole LSTM runs through recurrent() stacked and
 * bidirectional with variable lengths, its gradients equal finite differences, padded steps behave like
 * PyTorch's packed sequences, its state dict is named from its tree, and it learns.
 */
import { normal, randomKey, slice, Tensor } from '@tapestry/core';
import { recurrent } from '@tapestry/layers';
import { describe, expect, it } from 'vitest';
import { gradientCheck, train } from '../src/demo.js';
import { peepholeLstmCell } from '../src/peephole-lstm-cell.js';

const cell = peepholeLstmCell({ hiddenSize: 3, dtype: 'float64' });
const layer = recurrent(cell, { inputSize: 2, numLayers: 2, bidirectional: true, name: 'peepholeLstm' });
const params = layer.init(randomKey(0));

describe('a custom cell as a layer', () => {
  it('gradients of the whole stacked bidirectional layer with lengths equal finite differences', () => {
    const result = gradientCheck();
    expect(result.ok, result.message).toBe(true);
  });

  it('returns output [N, T, 2H] and named final states [numLayers * 2, N, H]', () => {
    const r = layer.apply(params, normal(randomKey(1), [3, 5, 2], { dtype: 'float64' }), { lengths: [5, 2, 4] });
    expect(r.output.shape).toEqual([3, 5, 6]);
    expect(r.state.h.shape).toEqual([4, 3, 3]);
    expect(r.state.c.shape).toEqual([4, 3, 3]);
    expect(Object.keys(r.state)).toEqual(['h', 'c']);
  });

  it('a padded batch equals each sequence run alone, with exact zeros past each length', () => {
    const x = normal(randomKey(2), [3, 5, 2], { dtype: 'float64' });
    const lengths = [3, 5, 1];
    const padded = layer.apply(params, x, { lengths });
    lengths.forEach((len, b) => {
      const alone = layer.apply(params, slice(x, [b, 0, 0], [1, len, -1]));
      expect(Array.from(slice(padded.output, [b, 0, 0], [1, len, -1]).dataSync())).toEqual(Array.from(alone.output.dataSync()));
      expect(Array.from(slice(padded.state.c, [0, b, 0], [-1, 1, -1]).dataSync())).toEqual(Array.from(alone.state.c.dataSync()));
      if (len < 5)
        expect(
          slice(padded.output, [b, len, 0], [1, -1, -1])
            .dataSync()
            .every((v) => v === 0),
        ).toBe(true);
    });
  });

  it("names its state dict from the cell's parameter tree, and reads it back", () => {
    const dict = layer.toStateDict(params);
    expect(Object.keys(dict).slice(0, 6)).toEqual(['weight_ih_l0', 'weight_hh_l0', 'bias_l0', 'peephole_i_l0', 'peephole_f_l0', 'peephole_o_l0']);
    expect(dict.weight_ih_l1_reverse!.shape).toEqual([12, 6]);
    const back = layer.toStateDict(layer.fromStateDict(dict));
    for (const [k, v] of Object.entries(dict)) expect(Array.from(back[k]!.dataSync())).toEqual(Array.from(v.dataSync()));
    expect(() => layer.fromStateDict({ ...dict, peephole_o_l0: dict.peephole_i_l0!.toArray() as number[], extra: dict.bias_l0 as Tensor })).toThrow(
      /unexpected: extra/,
    );
  });

  it('learns the variable-length task with plain gradient descent', () => {
    const result = train({ steps: 40 });
    expect(result.losses.at(-1)!).toBeLessThan(0.5 * result.losses[0]!);
    expect(result.testAccuracy).toBeGreaterThan(0.75);
  });
});
