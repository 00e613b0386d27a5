import { ArgumentError, randomKey, ShapeError, tensor, zeros } from '@tapestry/core';
import { gru, linear, lstm, rnn, snakeName } from '@tapestry/layers';
import { describe, expect, it } from 'vitest';
import { expectExact } from './helpers.js';

describe('state dicts use PyTorch names and shapes', () => {
  it('lstm, 2 layers, bidirectional', () => {
    const layer = lstm({ inputSize: 5, hiddenSize: 3, numLayers: 2, bidirectional: true });
    const dict = layer.toStateDict(layer.init(randomKey(0)));
    const listing = Object.entries(dict).map(([k, v]) => `${k} ${JSON.stringify(v.shape)}`);
    expect(listing).toEqual([
      'weight_ih_l0 [12,5]',
      'weight_hh_l0 [12,3]',
      'bias_ih_l0 [12]',
      'bias_hh_l0 [12]',
      'weight_ih_l0_reverse [12,5]',
      'weight_hh_l0_reverse [12,3]',
      'bias_ih_l0_reverse [12]',
      'bias_hh_l0_reverse [12]',
      'weight_ih_l1 [12,6]',
      'weight_hh_l1 [12,3]',
      'bias_ih_l1 [12]',
      'bias_hh_l1 [12]',
      'weight_ih_l1_reverse [12,6]',
      'weight_hh_l1_reverse [12,3]',
      'bias_ih_l1_reverse [12]',
      'bias_hh_l1_reverse [12]',
    ]);
  });

  it('gru and rnn without bias', () => {
    const g = gru({ inputSize: 2, hiddenSize: 4 });
    expect(Object.keys(g.toStateDict(g.init(randomKey(0))))).toEqual(['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']);
    expect(g.toStateDict(g.init(randomKey(0))).weight_ih_l0!.shape).toEqual([12, 2]);
    const r = rnn({ inputSize: 2, hiddenSize: 4, bias: false, numLayers: 2 });
    expect(Object.keys(r.toStateDict(r.init(randomKey(0))))).toEqual(['weight_ih_l0', 'weight_hh_l0', 'weight_ih_l1', 'weight_hh_l1']);
  });

  it('fromStateDict inverts toStateDict exactly, and accepts nested arrays', () => {
    const layer = gru({ inputSize: 3, hiddenSize: 2, numLayers: 2, bidirectional: true, dtype: 'float64' });
    const params = layer.init(randomKey(4));
    const dict = layer.toStateDict(params);
    const back = layer.toStateDict(layer.fromStateDict(dict));
    for (const k of Object.keys(dict)) expectExact(back[k]!, dict[k]!, k);
    const fromArrays = layer.toStateDict(layer.fromStateDict(Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, v.toArray()]))));
    for (const k of Object.keys(dict)) expectExact(fromArrays[k]!, dict[k]!, k);
    expect(Object.isFrozen(layer.fromStateDict(dict))).toBe(true);
  });

  it('a wrong name or shape is an error listing expected vs given', () => {
    const layer = rnn({ inputSize: 2, hiddenSize: 3 });
    const dict = { ...layer.toStateDict(layer.init(randomKey(0))) } as Record<string, unknown>;
    const wrongShape = { ...dict, weight_hh_l0: zeros([3, 4]) };
    expect(() => layer.fromStateDict(wrongShape as never)).toThrow(ShapeError);
    expect(() => layer.fromStateDict(wrongShape as never)).toThrow(
      'rnn.fromStateDict: the state dict does not fit this layer:\n  weight_hh_l0: expected shape [3, 3], given [3, 4]\nexpected: weight_ih_l0 [3, 2], weight_hh_l0 [3, 3], bias_ih_l0 [3], bias_hh_l0 [3]',
    );
    const renamed: Record<string, unknown> = { ...dict, bias_hh_l1: dict.bias_hh_l0 };
    delete renamed.bias_hh_l0;
    expect(() => layer.fromStateDict(renamed as never)).toThrow(ArgumentError);
    expect(() => layer.fromStateDict(renamed as never)).toThrow(/missing: bias_hh_l0\n {2}unexpected: bias_hh_l1\n/);
    const prefixed = Object.fromEntries(Object.entries(dict).map(([k, v]) => [`rnn.${k}`, v]));
    expect(() => layer.fromStateDict(prefixed as never)).toThrow(/carry a module prefix: strip it/);
  });

  it('a wrong dtype is a DTypeError', () => {
    const layer = rnn({ inputSize: 2, hiddenSize: 3, dtype: 'float64' });
    const dict = layer.toStateDict(rnn({ inputSize: 2, hiddenSize: 3 }).init(randomKey(0)));
    expect(() => layer.fromStateDict(dict)).toThrow(/weight_ih_l0: expected dtype float64, given float32/);
  });

  it('linear uses weight/bias', () => {
    const head = linear({ inFeatures: 3, outFeatures: 2 });
    const p = head.init(randomKey(0));
    expect(Object.keys(head.toStateDict(p))).toEqual(['weight', 'bias']);
    expect(() => head.fromStateDict({ weight: tensor([[1, 2, 3]]), bias: tensor([0, 0]) })).toThrow(/weight: expected shape \[2, 3\], given \[1, 3\]/);
  });

  it('snakeName spells tree paths the way PyTorch spells parameters', () => {
    expect(snakeName('weightIh')).toBe('weight_ih');
    expect(snakeName('peephole.i')).toBe('peephole_i');
    expect(snakeName('gates[0].biasHh')).toBe('gates_0_bias_hh');
  });
});
