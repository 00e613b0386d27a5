/** Bad input to @tapestry/layers: recurrent layers and cells, linear, embedding, losses, dropout, scan, state dicts. */
import { describe, expect, it } from 'vitest';
import { ArgumentError, DTypeError, jit, randomKey, ShapeError, tensor, zeros, type Tensor } from '@tapestry/core';
import { crossEntropy, dropout, embedding, gru, linear, lstm, lstmCell, mse, rnn, scan, binaryCrossEntropyWithLogits } from '@tapestry/layers';
import { badInputCases, type BadInputCase } from './cases.js';

const key = randomKey(0);
const layer = lstm({ inputSize: 3, hiddenSize: 4 });
const params = layer.init(key);
const wide = lstm({ inputSize: 3, hiddenSize: 8 }).init(key); // an 8-unit tree
const twoLayers = lstm({ inputSize: 3, hiddenSize: 4, numLayers: 2 }).init(key);
const x = zeros([2, 5, 3]);
const ids3 = tensor([[[0, 1, 2]]], { dtype: 'int32' });
const dict = { ...layer.toStateDict(params) } as Record<string, Tensor | undefined>;
const holey = { ...dict, weight_hh_l0: undefined };
const withNull = { ...dict, bias_ih_l0: null };
const head = linear({ inFeatures: 4, outFeatures: 6 });
const headParams = head.init(key);
const shortHead = { weight: zeros([5, 4]), bias: zeros([5]) }; // a vocabulary one token short
const emb = embedding({ numEmbeddings: 6, embeddingDim: 2 });
const embParams = emb.init(key);
const logits = zeros([2, 3]);
const targets = tensor([0, 5], { dtype: 'int32' });
const cell = lstmCell({ hiddenSize: 4 });
const cellParams = cell.init(key, 3);

const cases: BadInputCase[] = [
  // the parameters are blamed, with their path and both shapes (not the state or a matmul they break later)
  {
    name: 'lstm(hidden 4).apply(8-unit params, x)',
    fn: 'lstm',
    held: [wide, x],
    run: () => layer.apply(wide as never, x),
    error: ShapeError,
    mentions: ['params.layers[0].forward.weightIh', '[32, 3]', '[16, 3]', 'inputSize 3'],
    absent: ['state.h'],
  },
  {
    name: 'lstm.apply(params of another numLayers)',
    fn: 'lstm',
    held: [twoLayers],
    run: () => layer.apply(twoLayers, x),
    error: ArgumentError,
    mentions: ['2 layer(s)', 'numLayers 1'],
  },
  {
    name: 'lstm.apply(params without weightHh)',
    fn: 'lstm',
    run: () => layer.apply({ layers: [{ forward: { ...params.layers[0]!.forward, weightHh: undefined } }] } as never, x),
    error: ArgumentError,
    mentions: ['params.layers[0].forward.weightHh', 'missing', '[16, 4]'],
  },
  {
    name: 'lstm.apply(params with an extra leaf)',
    fn: 'lstm',
    run: () => layer.apply({ layers: [{ forward: { ...params.layers[0]!.forward, peephole: zeros([4]) } }] } as never, x),
    error: ArgumentError,
    mentions: ['params.layers[0].forward.peephole', 'not a parameter'],
  },
  {
    name: 'lstm.toStateDict(8-unit params)',
    fn: 'lstm.toStateDict',
    held: [wide],
    run: () => layer.toStateDict(wide),
    error: ShapeError,
    mentions: ['params.layers[0].forward.weightIh', '[32, 3]', '[16, 3]'],
  },
  { name: 'lstm.apply(params, {})', fn: 'lstm', run: () => layer.apply({} as never, x), error: ArgumentError, mentions: ['params', 'layers'] },
  // int32 input: no advice to build the layer in int32 (which is refused)
  {
    name: 'lstm.apply(params, int32 x)',
    fn: 'lstm',
    held: [ids3],
    run: () => layer.apply(params, ids3),
    error: DTypeError,
    mentions: ['int32', 'float32', 'embedding'],
    absent: ["dtype 'int32'"],
  },
  {
    name: 'lstm.apply(params, float64 x)',
    fn: 'lstm',
    run: () => layer.apply(params, zeros([1, 2, 3], 'float64')),
    error: DTypeError,
    mentions: ['float64', 'float32', "cast(x, 'float32')"],
  },
  {
    name: 'lstm.apply(params, [N, D] x)',
    fn: 'lstm',
    run: () => layer.apply(params, zeros([2, 3])),
    error: ShapeError,
    mentions: ['[N, T, D]', '[2, 3]', 'expandDims'],
  },
  {
    name: 'lstm.apply(params, x with 5 features)',
    fn: 'lstm',
    run: () => layer.apply(params, zeros([2, 3, 5])),
    error: ShapeError,
    mentions: ['5 features', 'inputSize 3'],
  },
  { name: 'lstm.apply(params, [[1]])', fn: 'lstm', run: () => layer.apply(params, [[1]] as never), error: ArgumentError, mentions: ['x', 'Tensor', 'object'] },
  {
    name: 'lstm.apply(params, x, { lengths: [5, 6] })',
    fn: 'lstm',
    held: [x],
    run: () => layer.apply(params, x, { lengths: [5, 6] }),
    error: ArgumentError,
    mentions: ['lengths', '6'],
  },
  {
    name: 'lstm.apply(params, x, { initialState: { h: [1, 2, 5] } })',
    fn: 'lstm',
    held: [x],
    run: () => layer.apply(params, x, { initialState: { h: zeros([1, 2, 5]) } }),
    error: ShapeError,
    mentions: ['initialState.h', '[1, 2, 5]', '[1, 2, 4]'],
  },
  // state dicts
  {
    name: 'lstm.fromStateDict({ …, weight_hh_l0: undefined })',
    fn: 'lstm.fromStateDict',
    held: [holey],
    run: () => layer.fromStateDict(holey as never),
    error: ArgumentError,
    mentions: ['weight_hh_l0 = undefined', 'present'],
    absent: ['treeUnflatten'],
  },
  {
    name: 'lstm.fromStateDict({ …, bias_ih_l0: null })',
    fn: 'lstm.fromStateDict',
    held: [withNull],
    run: () => layer.fromStateDict(withNull as never),
    error: ArgumentError,
    mentions: ['bias_ih_l0 = null'],
  },
  {
    name: 'lstm.fromStateDict(8-unit dict)',
    fn: 'lstm.fromStateDict',
    run: () => layer.fromStateDict(lstm({ inputSize: 3, hiddenSize: 8 }).toStateDict(wide)),
    error: ShapeError,
    mentions: ['weight_ih_l0', '[16, 3]', '[32, 3]'],
  },
  {
    name: 'lstm.fromStateDict(null)',
    fn: 'lstm.fromStateDict',
    run: () => layer.fromStateDict(null as never),
    error: ArgumentError,
    mentions: ['state dict', 'null'],
  },
  {
    name: 'linear(out 6).fromStateDict(a head one token short)',
    fn: 'linear.fromStateDict',
    held: [shortHead],
    run: () => head.fromStateDict(shortHead),
    error: ShapeError,
    mentions: ['weight', '[6, 4]', '[5, 4]'],
  },
  {
    name: 'embedding(6).fromStateDict(5 rows)',
    fn: 'embedding.fromStateDict',
    run: () => emb.fromStateDict({ weight: zeros([5, 2]) }),
    error: ShapeError,
    mentions: ['weight', '[6, 2]', '[5, 2]'],
  },
  // building layers
  { name: 'lstm()', fn: 'lstm', run: () => (lstm as (o?: unknown) => unknown)(), error: ArgumentError, mentions: ['inputSize', 'undefined'] },
  {
    name: 'lstm({ inputSize: 3, hiddenSize: 0 })',
    fn: 'lstm',
    run: () => lstm({ inputSize: 3, hiddenSize: 0 }),
    error: ArgumentError,
    mentions: ['hiddenSize', '0'],
  },
  {
    name: 'lstm({ …, hiddenSize: "4" })',
    fn: 'lstm',
    run: () => lstm({ inputSize: 3, hiddenSize: '4' as never }),
    error: ArgumentError,
    mentions: ['hiddenSize', '4'],
  },
  {
    name: 'lstm({ …, numLayers: 1.5 })',
    fn: 'lstm',
    run: () => lstm({ inputSize: 3, hiddenSize: 4, numLayers: 1.5 }),
    error: ArgumentError,
    mentions: ['numLayers', '1.5'],
  },
  {
    name: 'lstm({ …, dropout: 2 })',
    fn: 'lstm',
    run: () => lstm({ inputSize: 3, hiddenSize: 4, dropout: 2 }),
    error: ArgumentError,
    mentions: ['dropout', '2'],
  },
  {
    name: 'gru({ …, dtype: "int32" })',
    fn: 'gru',
    run: () => gru({ inputSize: 3, hiddenSize: 4, dtype: 'int32' as never }),
    error: DTypeError,
    mentions: ['dtype', 'int32'],
  },
  {
    name: 'rnn({ …, nonlinearity: "sigmoid" })',
    fn: 'rnn',
    run: () => rnn({ inputSize: 3, hiddenSize: 4, nonlinearity: 'sigmoid' as never }),
    error: ArgumentError,
    mentions: ['nonlinearity', 'sigmoid'],
  },
  {
    name: 'lstm({ …, bias: "no" })',
    fn: 'lstm',
    run: () => lstm({ inputSize: 3, hiddenSize: 4, bias: 'no' as never }),
    error: ArgumentError,
    mentions: ['bias', '"no"'],
  },
  {
    name: 'lstm({ …, bidirectional: "yes" })',
    fn: 'lstm',
    run: () => lstm({ inputSize: 3, hiddenSize: 4, bidirectional: 'yes' as never }),
    error: ArgumentError,
    mentions: ['bidirectional', '"yes"'],
  },
  {
    name: 'lstm({ …, batchFirst: true }): unknown option',
    fn: 'lstm',
    run: () => lstm({ inputSize: 3, hiddenSize: 4, batchFirst: true } as never),
    error: ArgumentError,
    mentions: ['unknown option "batchFirst"', 'inputSize, hiddenSize'],
  },
  {
    name: 'gru({ …, nonlinearity: "relu" }): an rnn-only option',
    fn: 'gru',
    run: () => gru({ inputSize: 3, hiddenSize: 4, nonlinearity: 'relu' } as never),
    error: ArgumentError,
    mentions: ['unknown option "nonlinearity"'],
  },
  {
    name: 'lstm.apply(params, x, { training: "yes" })',
    fn: 'lstm',
    held: [x],
    run: () => layer.apply(params, x, { training: 'yes' as never }),
    error: ArgumentError,
    mentions: ['options.training', '"yes"'],
  },
  {
    name: 'lstm.apply(params, x, { training: true, key: 5 })',
    fn: 'lstm',
    held: [x],
    run: () => layer.apply(params, x, { training: true, key: 5 as never }),
    error: ArgumentError,
    mentions: ['options.key', 'number'],
  },
  { name: 'lstm.init(5)', fn: 'lstm.init', run: () => layer.init(5 as never), error: ArgumentError, mentions: ['key', 'number'] },
  {
    name: 'linear({ …, biass: false }): unknown option',
    fn: 'linear',
    run: () => linear({ inFeatures: 2, outFeatures: 2, biass: false } as never),
    error: ArgumentError,
    mentions: ['unknown option "biass"', 'bias'],
  },
  {
    name: 'linear({ …, bias: 0 })',
    fn: 'linear',
    run: () => linear({ inFeatures: 2, outFeatures: 2, bias: 0 as never }),
    error: ArgumentError,
    mentions: ['bias', '0'],
  },
  {
    name: 'embedding({ …, paddingIdx: 0 }): unknown option',
    fn: 'embedding',
    run: () => embedding({ numEmbeddings: 3, embeddingDim: 2, paddingIdx: 0 } as never),
    error: ArgumentError,
    mentions: ['unknown option "paddingIdx"'],
  },
  {
    name: 'lstm dropout training without a key',
    fn: 'lstm',
    run: () => lstm({ inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: 0.5 }).apply(twoLayers, x, { training: true }),
    error: ArgumentError,
    mentions: ['dropout 0.5', 'key'],
  },
  {
    name: 'lstmCell.step(params, state, [N, T, D] x)',
    fn: 'lstmCell.step',
    run: () => cell.step(cellParams, cell.initialState(2, 'float32'), x),
    error: ShapeError,
    mentions: ['x', '[2, 5, 3]', 'scan or recurrent'],
  },
  // linear, embedding
  {
    name: 'linear({ inFeatures: 0, outFeatures: 2 })',
    fn: 'linear',
    run: () => linear({ inFeatures: 0, outFeatures: 2 }),
    error: ArgumentError,
    mentions: ['inFeatures', '0'],
  },
  {
    name: 'linear.apply(params, [2, 5] x)',
    fn: 'linear',
    run: () => head.apply(headParams, zeros([2, 5])),
    error: ShapeError,
    mentions: ['inFeatures', '[2, 5]'],
  },
  {
    name: 'embedding.apply(params, id 6)',
    fn: 'embedding',
    held: [embParams],
    run: () => emb.apply(embParams, tensor([6], { dtype: 'int32' })),
    error: ArgumentError,
    mentions: ['6', 'numEmbeddings 6'],
  },
  {
    name: 'embedding.apply(params, float ids)',
    fn: 'embedding',
    run: () => emb.apply(embParams, tensor([1])),
    error: DTypeError,
    mentions: ['ids', 'int32', 'float32'],
  },
  // losses
  {
    name: 'crossEntropy(logits [2, 3], target 5)',
    fn: 'crossEntropy',
    held: [logits, targets],
    run: () => crossEntropy(logits, targets),
    error: ArgumentError,
    mentions: ['target 5', 'C = 3'],
  },
  {
    name: 'crossEntropy(logits, float targets)',
    fn: 'crossEntropy',
    held: [logits],
    run: () => crossEntropy(logits, tensor([0, 1])),
    error: DTypeError,
    mentions: ['targets', 'int32', 'float32'],
  },
  {
    name: 'crossEntropy(logits [2, 3], targets [3])',
    fn: 'crossEntropy',
    held: [logits],
    run: () => crossEntropy(logits, tensor([0, 1, 2], { dtype: 'int32' })),
    error: ShapeError,
    mentions: ['targets', '[2]', 'got [3]'],
  },
  {
    name: 'crossEntropy(…, { reduction: "avg" })',
    fn: 'crossEntropy',
    held: [logits],
    run: () => crossEntropy(logits, tensor([0, 1], { dtype: 'int32' }), { reduction: 'avg' as never }),
    error: ArgumentError,
    mentions: ['reduction', 'avg'],
  },
  { name: 'mse([2], [3])', fn: 'mse', run: () => mse(zeros([2]), zeros([3])), error: ShapeError, mentions: ['[2]', '[3]'] },
  {
    name: 'binaryCrossEntropyWithLogits(int targets)',
    fn: 'binaryCrossEntropyWithLogits',
    run: () => binaryCrossEntropyWithLogits(zeros([2]), tensor([0, 1], { dtype: 'int32' })),
    error: DTypeError,
    mentions: ['int32'],
  },
  // dropout, scan
  { name: 'dropout(x, 2)', fn: 'dropout', held: [x], run: () => dropout(x, 2, { key, training: true }), error: ArgumentError, mentions: ['p', '2'] },
  {
    name: 'dropout(x, 0.5, { training: true })',
    fn: 'dropout',
    held: [x],
    run: () => dropout(x, 0.5, { training: true }),
    error: ArgumentError,
    mentions: ['key'],
  },
  {
    name: 'dropout(x, 0.5, { training: "yes", key })',
    fn: 'dropout',
    held: [x],
    run: () => dropout(x, 0.5, { training: 'yes' as never, key }),
    error: ArgumentError,
    mentions: ['options.training', '"yes"'],
  },
  {
    name: 'dropout(x, 0.5, { key: 5 })',
    fn: 'dropout',
    held: [x],
    run: () => dropout(x, 0.5, { key: 5 as never }),
    error: ArgumentError,
    mentions: ['options.key', 'number'],
  },
  {
    name: 'crossEntropy(…, { ignoreIndex: 1.5 })',
    fn: 'crossEntropy',
    held: [logits],
    run: () => crossEntropy(logits, tensor([0, 1], { dtype: 'int32' }), { ignoreIndex: 1.5 }),
    error: ArgumentError,
    mentions: ['ignoreIndex', '1.5'],
    absent: ['notEqual'],
  },
  {
    name: 'scan(f, init, xs, { reverse: "yes" })',
    fn: 'scan',
    run: () => scan((c: Tensor, v: Tensor) => [c, v], zeros([2]), zeros([3, 2]), { reverse: 'yes' as never }),
    error: ArgumentError,
    mentions: ['options.reverse', '"yes"'],
  },
  {
    name: 'scan(f, init, zeros([0]))',
    fn: 'scan',
    run: () => scan((c: Tensor, v: Tensor) => [c, v], zeros([2]), zeros([0])),
    error: ArgumentError,
    mentions: ['0 time steps'],
  },
  {
    name: 'scan(f changing the carry)',
    fn: 'scan',
    run: () => scan((_c: Tensor, v: Tensor) => [zeros([3]), v], zeros([2]), zeros([3, 2])),
    error: ShapeError,
    mentions: ['carry', '[3]', '[2]', 'Revise'],
  },
  { name: 'scan("f", …)', fn: 'scan', run: () => scan('f' as never, zeros([2]), zeros([3, 2])), error: ArgumentError, mentions: ['f', 'function'] },
];

describe('bad input: layers', () => {
  badInputCases(cases);

  it('parameters of the right sizes still run, and the check costs one init per layer', () => {
    const out = layer.apply(params, x);
    expect(out.output.shape).toEqual([2, 5, 4]);
    expect(layer.apply(layer.fromStateDict(layer.toStateDict(params)), x).output.shape).toEqual([2, 5, 4]);
  });

  it('a layer first applied inside jit checks its parameters there too', () => {
    const fresh = lstm({ inputSize: 3, hiddenSize: 4 });
    const run = jit((p: typeof params, v: Tensor) => fresh.apply(p, v).output);
    expect(run(fresh.init(key), x).shape).toEqual([2, 5, 4]);
    expect(() => run(wide, x)).toThrow(/params\.layers\[0\]\.forward\.weightIh has shape \[32, 3\]/);
  });
});
