/** Bad input to a layer is an error naming the layer, the argument, expected and given shapes, and the fix. */
import { ArgumentError, DTypeError, normal, randomKey, ShapeError, tensor, zeros } from '@tapestry/core';
import { gru, lstm, rnn } from '@tapestry/layers';
import { describe, expect, it } from 'vitest';

const layer = lstm({ inputSize: 65, hiddenSize: 8, numLayers: 2, dtype: 'float32' });
const params = layer.init(randomKey(0));
const x = normal(randomKey(1), [4, 5, 65]);

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('layer input errors', () => {
  it('a missing time axis', () => {
    const e = thrown(() => layer.apply(params, zeros([4, 65])));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toBe(
      'lstm: x must be [N, T, D] = [N, T, 65], got [4, 65] (missing the time axis? for a batch of single steps use expandDims(x, 1); for one sequence [T, D] use expandDims(x, 0))',
    );
  });

  it('the wrong feature size', () => {
    const e = thrown(() => layer.apply(params, zeros([4, 5, 64])));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/^lstm: x has 64 features per step but the layer was built with inputSize 65: expected \[N, T, 65\], got \[4, 5, 64\]$/);
  });

  it('time-major input is recognised', () => {
    expect(thrown(() => layer.apply(params, zeros([5, 65, 4]))).message).toMatch(/time-major input\? x must be batch first/);
  });

  it('an initial state of the wrong shape', () => {
    const e = thrown(() => layer.apply(params, x, { initialState: { h: zeros([4, 8]) } }));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(
      /^lstm: initialState\.h must be \[numLayers \* numDirections, N, …\] = \[2, 4, 8\], got \[4, 8\] \(missing the leading numLayers \* numDirections = 2 axis: give one state per layer and direction, index layer \* 1 \+ direction\)$/,
    );
    expect(thrown(() => layer.apply(params, x, { initialState: { c: zeros([2, 3, 8]) } })).message).toMatch(
      /initialState\.c must be .* = \[2, 4, 8\], got \[2, 3, 8\] \(the batch axis must match x's N = 4\)/,
    );
    const single = lstm({ inputSize: 65, hiddenSize: 8 });
    expect(thrown(() => single.apply(single.init(randomKey(0)), x, { initialState: { h: zeros([4, 8]) } })).message).toMatch(
      /got \[4, 8\] \(missing the leading numLayers \* numDirections axis: use expandDims\(initialState\.h, 0\)\)$/,
    );
  });

  it('initialState.c for a layer without a cell state', () => {
    const g = gru({ inputSize: 65, hiddenSize: 8 });
    const e = thrown(() => g.apply(g.init(randomKey(0)), x, { initialState: { c: zeros([1, 4, 8]) } } as never));
    expect(e).toBeInstanceOf(ArgumentError);
    expect(e.message).toBe("gru: initialState.c was given but gruCell's state has only {h} (c is for LSTM-like cells)");
  });

  it("PyTorch's h0 / c0 spelling points to initialState", () => {
    expect(thrown(() => layer.apply(params, x, { h0: zeros([2, 4, 8]) } as never)).message).toMatch(/there is no h0 option; pass initialState: \{ h: h0 \}/);
    expect(thrown(() => layer.apply(params, x, { c0: zeros([2, 4, 8]) } as never)).message).toMatch(/there is no c0 option; pass initialState: \{ c: c0 \}/);
  });

  it('lengths out of range, of the wrong count or dtype', () => {
    const e = thrown(() => layer.apply(params, x, { lengths: [5, 6, 1, 1] }));
    expect(e).toBeInstanceOf(ArgumentError);
    expect(e.message).toBe('lstm: lengths[1] = 6 is out of range for x with T = 5 time steps; each length must be an integer in 1 … 5');
    expect(thrown(() => layer.apply(params, x, { lengths: [5, 0, 1, 1] })).message).toMatch(/lengths\[1\] = 0 is out of range/);
    expect(thrown(() => layer.apply(params, x, { lengths: [5, 5] })).message).toMatch(/lengths has 2 entries but x has batch size N = 4/);
    expect(thrown(() => layer.apply(params, x, { lengths: tensor([5, 5, 5, 5]) }))).toBeInstanceOf(DTypeError);
  });

  it('mismatched dtypes', () => {
    const e = thrown(() => layer.apply(params, zeros([4, 5, 65], 'float64')));
    expect(e).toBeInstanceOf(DTypeError);
    expect(e.message).toBe("lstm: x has dtype float64 but the parameters are float32; cast x with cast(x, 'float32') or build the layer with dtype 'float64'");
    expect(thrown(() => layer.apply(params, x, { initialState: { h: zeros([2, 4, 8], 'float64') } })).message).toMatch(
      /initialState\.h has dtype float64 but x and the parameters are float32/,
    );
    expect(thrown(() => layer.apply(params, tensor(new Int32Array(4 * 5 * 65), { shape: [4, 5, 65] })))).toBeInstanceOf(DTypeError);
  });

  it('training with dropout needs a key', () => {
    const d = lstm({ inputSize: 65, hiddenSize: 8, numLayers: 2, dropout: 0.5 });
    expect(thrown(() => d.apply(d.init(randomKey(0)), x, { training: true })).message).toMatch(/training with dropout 0\.5 between layers needs a random key/);
  });

  it('params from another layer definition', () => {
    const other = lstm({ inputSize: 65, hiddenSize: 8, numLayers: 1, bidirectional: true });
    expect(thrown(() => layer.apply(other.init(randomKey(0)) as never, x)).message).toMatch(/params has 1 layer\(s\) but lstm was built with numLayers 2/);
    const bi = lstm({ inputSize: 65, hiddenSize: 8, numLayers: 1, bidirectional: true });
    const uni = lstm({ inputSize: 65, hiddenSize: 8, numLayers: 1 });
    expect(thrown(() => bi.apply(uni.init(randomKey(0)), x)).message).toMatch(/params\.layers\[0\]\.reverse is missing but lstm is bidirectional/);
  });

  it('bad options at construction', () => {
    expect(thrown(() => lstm({ inputSize: 3, hiddenSize: 0 })).message).toBe('lstm: hiddenSize must be a positive integer, got 0');
    expect(thrown(() => gru({ inputSize: 2.5, hiddenSize: 3 })).message).toBe('gru: inputSize must be a positive integer, got 2.5');
    expect(thrown(() => rnn({ inputSize: 3, hiddenSize: 3, dropout: 1.5 })).message).toBe('rnn: dropout must be a probability in [0, 1], got 1.5');
    expect(thrown(() => rnn({ inputSize: 3, hiddenSize: 3, nonlinearity: 'sigmoid' as never })).message).toMatch(
      /^rnn: nonlinearity must be 'tanh' or 'relu', got "sigmoid"/,
    );
    expect(thrown(() => lstm({ inputSize: 3, hiddenSize: 3, dtype: 'int32' }))).toBeInstanceOf(DTypeError);
  });

  it('errors leave the caller data untouched', () => {
    const before = Array.from(x.dataSync());
    thrown(() => layer.apply(params, x, { lengths: [9, 9, 9, 9] }));
    layer.apply(params, x, { lengths: [5, 1, 2, 3] });
    expect(Array.from(x.dataSync())).toEqual(before);
  });
});
