/** Bad input to the ops of @tapestry/core: reductions, slicing, arithmetic, shapes, indexing, random draws. */
import { describe, expect, it } from 'vitest';
import {
  add,
  argmax,
  ArgumentError,
  bernoulli,
  broadcastTo,
  cast,
  categorical,
  concat,
  DTypeError,
  exp,
  expandDims,
  foldIn,
  gather,
  indexSelect,
  logSoftmax,
  matmul,
  max,
  mean,
  min,
  mul,
  normal,
  oneHot,
  pow,
  randomKey,
  reshape,
  ShapeError,
  slice,
  softmax,
  splitKey,
  split,
  squeeze,
  stack,
  sub,
  sum,
  tensor,
  transpose,
  uniform,
  where,
  zeros,
  leakyRelu,
} from '@tapestry/core';
import { badInputCases, type BadInputCase } from './cases.js';

const x = tensor([
  [1, 2, 3],
  [4, 5, 6],
]);
const x64 = tensor(
  [
    [1, 2, 3],
    [4, 5, 6],
  ],
  { dtype: 'float64' },
);
const ids = tensor([0, 2], { dtype: 'int32' });
const emptyCols = zeros([2, 0]);
const empty = zeros([0]);
const key = randomKey(0);
const begin = [0, 1];

const cases: BadInputCase[] = [
  // max/min of nothing: PyTorch refuses, as argmax does
  { name: 'max(zeros([2, 0]), 1)', fn: 'max', held: [emptyCols], run: () => max(emptyCols, 1), error: ShapeError, mentions: ['axis 1', '[2, 0]', 'empty'] },
  { name: 'min(zeros([2, 0]), -1)', fn: 'min', held: [emptyCols], run: () => min(emptyCols, -1), error: ShapeError, mentions: ['axis 1', '[2, 0]', 'empty'] },
  { name: 'max(zeros([0]))', fn: 'max', held: [empty], run: () => max(empty), error: ShapeError, mentions: ['axis 0', '[0]'] },
  { name: 'min(zeros([0]), 0, true)', fn: 'min', held: [empty], run: () => min(empty, 0, true), error: ShapeError, mentions: ['axis 0', '[0]'] },
  { name: 'max(zeros([2, 0]), [0, 1])', fn: 'max', held: [emptyCols], run: () => max(emptyCols, [0, 1]), error: ShapeError, mentions: ['axis 1', '[2, 0]'] },
  {
    name: 'argmax(zeros([2, 0]), 1)',
    fn: 'argmax',
    held: [emptyCols],
    run: () => argmax(emptyCols, 1),
    error: ShapeError,
    mentions: ['axis 1', '[2, 0]', 'empty'],
  },
  { name: 'argmax(scalar)', fn: 'argmax', run: () => argmax(tensor(1)), error: ShapeError, mentions: ['scalar'] },
  // axes that are not integers, or out of range
  { name: 'sum(x, "0")', fn: 'sum', held: [x], run: () => sum(x, '0' as never), error: ArgumentError, mentions: ['axis', '"0"'] },
  { name: 'sum(x, 1.5)', fn: 'sum', held: [x], run: () => sum(x, 1.5), error: ArgumentError, mentions: ['axis', 'integer', '1.5'] },
  { name: 'sum(x, NaN)', fn: 'sum', held: [x], run: () => sum(x, NaN), error: ArgumentError, mentions: ['axis', 'NaN'] },
  { name: 'sum(x, 2)', fn: 'sum', held: [x], run: () => sum(x, 2), error: ShapeError, mentions: ['axis 2', 'rank 2', '-2 … 1'] },
  { name: 'sum(x, [0, 0])', fn: 'sum', held: [x], run: () => sum(x, [0, 0]), error: ShapeError, mentions: ['axis 0', 'repeated', '[0, 0]'] },
  { name: 'sum(x, { axis: 0 })', fn: 'sum', held: [x], run: () => sum(x, { axis: 0 } as never), error: ArgumentError, mentions: ['axis', 'object'] },
  { name: 'mean(x, [null])', fn: 'mean', held: [x], run: () => mean(x, [null] as never), error: ArgumentError, mentions: ['axis', 'null'] },
  { name: 'mean(int32)', fn: 'mean', held: [ids], run: () => mean(ids), error: DTypeError, mentions: ['x', 'int32', 'cast'] },
  { name: 'softmax(x, 5)', fn: 'softmax', held: [x], run: () => softmax(x, 5), error: ShapeError, mentions: ['axis 5', 'rank 2'] },
  { name: 'softmax(int32)', fn: 'softmax', held: [ids], run: () => softmax(ids), error: DTypeError, mentions: ['int32'] },
  { name: 'logSoftmax(x, 0.5)', fn: 'logSoftmax', held: [x], run: () => logSoftmax(x, 0.5), error: ArgumentError, mentions: ['axis', '0.5'] },
  { name: 'expandDims(x, 3)', fn: 'expandDims', held: [x], run: () => expandDims(x, 3), error: ShapeError, mentions: ['axis 3'] },
  { name: 'squeeze(x, 0)', fn: 'squeeze', held: [x], run: () => squeeze(x, 0), error: ShapeError, mentions: ['axis 0', '[2, 3]', 'size 2'] },
  { name: 'sum(x, 0, "yes")', fn: 'sum', held: [x], run: () => sum(x, 0, 'yes' as never), error: ArgumentError, mentions: ['keepDims', '"yes"'] },
  { name: 'max(x, 0, 1)', fn: 'max', held: [x], run: () => max(x, 0, 1 as never), error: ArgumentError, mentions: ['keepDims', '1'] },
  { name: 'transpose(x, "10")', fn: 'transpose', held: [x], run: () => transpose(x, '10' as never), error: ArgumentError, mentions: ['perm', '"10"'] },
  {
    name: 'matmul(x, x, { transposeB: "yes" })',
    fn: 'matmul',
    held: [x],
    run: () => matmul(x, x, { transposeB: 'yes' as never }),
    error: ArgumentError,
    mentions: ['options.transposeB', '"yes"'],
  },
  // slice: a number where a list is due used to return x whole
  { name: 'slice(x, 0)', fn: 'slice', held: [x], run: () => slice(x, 0 as never), error: ArgumentError, mentions: ['begin', 'array', '0 (number)'] },
  {
    name: 'slice(x, [0, 1], 2)',
    fn: 'slice',
    held: [x, begin],
    run: () => slice(x, begin, 2 as never),
    error: ArgumentError,
    mentions: ['size', '2 (number)'],
  },
  { name: 'slice(x, "01")', fn: 'slice', held: [x], run: () => slice(x, '01' as never), error: ArgumentError, mentions: ['begin', '"01"'] },
  { name: 'slice(x, [0, 4])', fn: 'slice', held: [x], run: () => slice(x, [0, 4]), error: ShapeError, mentions: ['axis 1', 'begin 4', '[2, 3]'] },
  { name: 'slice(x, [0.5])', fn: 'slice', held: [x], run: () => slice(x, [0.5]), error: ShapeError, mentions: ['axis 0', 'begin 0.5'] },
  { name: 'slice(x, [0, 0, 0])', fn: 'slice', held: [x], run: () => slice(x, [0, 0, 0]), error: ShapeError, mentions: ['[0, 0, 0]', 'more entries', '[2, 3]'] },
  { name: 'slice(x, [0], [3])', fn: 'slice', held: [x], run: () => slice(x, [0], [3]), error: ShapeError, mentions: ['axis 0', 'size 3'] },
  { name: 'slice([[1]], [0])', fn: 'slice', run: () => slice([[1]] as never, [0]), error: ArgumentError, mentions: ['x', 'an array', 'tensor('] },
  // arithmetic
  { name: 'add(float32, float64)', fn: 'add', held: [x, x64], run: () => add(x, x64), error: DTypeError, mentions: ['float32', 'float64', 'cast'] },
  { name: 'add([2, 3], [3, 2])', fn: 'add', held: [x], run: () => add(x, zeros([3, 2])), error: ShapeError, mentions: ['[2, 3]', '[3, 2]', 'broadcast'] },
  { name: 'add(1, 2)', fn: 'add', run: () => add(1, 2), error: ArgumentError, mentions: ['two numbers', '1', '2'] },
  { name: 'add(x, "a")', fn: 'add', held: [x], run: () => add(x, 'a' as never), error: ArgumentError, mentions: ['b', 'string'] },
  { name: 'sub(x, null)', fn: 'sub', held: [x], run: () => sub(x, null as never), error: ArgumentError, mentions: ['b', 'null'] },
  { name: 'mul(undefined, x)', fn: 'mul', held: [x], run: () => mul(undefined as never, x), error: ArgumentError, mentions: ['a', 'undefined'] },
  { name: 'add(int32, 1.5)', fn: 'add', held: [ids], run: () => add(ids, 1.5), error: DTypeError, mentions: ['1.5', 'int32'] },
  { name: 'pow(x, "2")', fn: 'pow', held: [x], run: () => pow(x, '2' as never), error: ArgumentError, mentions: ['b', 'string'] },
  { name: 'exp("a")', fn: 'exp', run: () => exp('a' as never), error: ArgumentError, mentions: ['x', 'string'] },
  { name: 'exp(int32)', fn: 'exp', held: [ids], run: () => exp(ids), error: DTypeError, mentions: ['int32'] },
  {
    name: 'add(zeros([1e5, 1]), zeros([1, 1e5])): a huge broadcast',
    fn: 'add',
    run: () => add(zeros([1e5, 1]), zeros([1, 1e5])),
    error: ShapeError,
    mentions: ['[100000, 1]', '[1, 100000]', 'would hold'],
  },
  // contraction and layout
  { name: 'matmul([2, 3], [2, 3])', fn: 'matmul', held: [x], run: () => matmul(x, x), error: ShapeError, mentions: ['[2, 3]', 'inner'] },
  { name: 'matmul(float32, float64)', fn: 'matmul', held: [x, x64], run: () => matmul(x, transpose(x64)), error: DTypeError, mentions: ['float32', 'float64'] },
  { name: 'reshape(x, [5])', fn: 'reshape', held: [x], run: () => reshape(x, [5]), error: ShapeError, mentions: ['[2, 3]', '[5]'] },
  { name: 'reshape(x, [-2, -3])', fn: 'reshape', held: [x], run: () => reshape(x, [-2, -3]), error: ShapeError, mentions: ['[-2, -3]'] },
  { name: 'transpose(x, [0, 0])', fn: 'transpose', held: [x], run: () => transpose(x, [0, 0]), error: ShapeError, mentions: ['[0, 0]', 'permutation'] },
  { name: 'broadcastTo(x, [3])', fn: 'broadcastTo', held: [x], run: () => broadcastTo(x, [3]), error: ShapeError, mentions: ['[2, 3]', '[3]'] },
  {
    name: 'broadcastTo(zeros([1]), [1e6, 1e6])',
    fn: 'broadcastTo',
    run: () => broadcastTo(zeros([1]), [1e6, 1e6]),
    error: ShapeError,
    mentions: ['shape', '[1000000, 1000000]', 'would hold'],
  },
  { name: 'concat([], 0)', fn: 'concat', run: () => concat([], 0), error: ArgumentError, mentions: ['non-empty'] },
  {
    name: 'concat([x, zeros([2, 2])], 0)',
    fn: 'concat',
    held: [x],
    run: () => concat([x, zeros([2, 2])], 0),
    error: ShapeError,
    mentions: ['[2, 3]', '[2, 2]'],
  },
  { name: 'concat([float32, float64])', fn: 'concat', held: [x, x64], run: () => concat([x, x64], 0), error: DTypeError, mentions: ['float32', 'float64'] },
  { name: 'stack([zeros([2]), zeros([3])])', fn: 'stack', run: () => stack([zeros([2]), zeros([3])]), error: ShapeError, mentions: ['xs[1]', '[3]', '[2]'] },
  { name: 'split(x, 4, 1)', fn: 'split', held: [x], run: () => split(x, 4, 1), error: ShapeError, mentions: ['axis 1', '[2, 3]', '4'] },
  // indexing
  { name: 'gather(x, float indices)', fn: 'gather', held: [x], run: () => gather(x, tensor([0])), error: DTypeError, mentions: ['int32', 'float32'] },
  {
    name: 'gather(x, [5])',
    fn: 'gather',
    held: [x],
    run: () => gather(x, tensor([5], { dtype: 'int32' })),
    error: ShapeError,
    mentions: ['index 5', 'axis 0', '[2, 3]'],
  },
  {
    name: 'indexSelect(x, 1, [-1])',
    fn: 'indexSelect',
    held: [x],
    run: () => indexSelect(x, 1, tensor([-1], { dtype: 'int32' })),
    error: ShapeError,
    mentions: ['index -1', 'axis 1'],
  },
  { name: 'oneHot([-1], 3)', fn: 'oneHot', run: () => oneHot(tensor([-1], { dtype: 'int32' }), 3), error: ShapeError, mentions: ['index -1', 'depth 3'] },
  { name: 'oneHot(float, 3)', fn: 'oneHot', held: [x], run: () => oneHot(x, 3), error: DTypeError, mentions: ['int32', 'float32'] },
  { name: 'where(float cond, x, x)', fn: 'where', held: [x], run: () => where(x, x, x), error: DTypeError, mentions: ['cond', 'int32', 'float32'] },
  { name: 'cast(x, "int8")', fn: 'cast', held: [x], run: () => cast(x, 'int8' as never), error: DTypeError, mentions: ['"int8"'] },
  { name: 'leakyRelu(x, "0.1")', fn: 'leakyRelu', held: [x], run: () => leakyRelu(x, '0.1' as never), error: ArgumentError, mentions: ['0.1'] },
  // random
  {
    name: 'categorical(key, zeros([2, 0]))',
    fn: 'categorical',
    held: [emptyCols],
    run: () => categorical(key, emptyCols),
    error: ShapeError,
    mentions: ['axis 1', '[2, 0]', 'empty'],
  },
  {
    name: 'categorical(key, int32 logits)',
    fn: 'categorical',
    held: [ids],
    run: () => categorical(key, ids),
    error: DTypeError,
    mentions: ['logits', 'int32'],
  },
  { name: 'splitKey(key, 0)', fn: 'splitKey', run: () => splitKey(key, 0), error: ArgumentError, mentions: ['n', '0'] },
  { name: 'splitKey(5)', fn: 'splitKey', run: () => splitKey(5 as never), error: ArgumentError, mentions: ['key', 'number'] },
  { name: 'uniform(key, [-1])', fn: 'uniform', run: () => uniform(key, [-1]), error: ShapeError, mentions: ['shape', '[-1]'] },
  { name: 'normal(key, [1e6, 1e6])', fn: 'normal', run: () => normal(key, [1e6, 1e6]), error: ShapeError, mentions: ['[1000000, 1000000]', 'would hold'] },
  {
    name: 'uniform(key, [2], { low: 1, high: 0 })',
    fn: 'uniform',
    run: () => uniform(key, [2], { low: 1, high: 0 }),
    error: ArgumentError,
    mentions: ['low 1', 'high 0'],
  },
  { name: 'bernoulli(key, 2, [2])', fn: 'bernoulli', run: () => bernoulli(key, 2, [2]), error: ArgumentError, mentions: ['p', '2'] },
  { name: 'randomKey(1.5)', fn: 'randomKey', run: () => randomKey(1.5), error: ArgumentError, mentions: ['seed', '1.5'] },
  {
    name: 'foldIn(key, 2 ** 32): would fold in as 0',
    fn: 'foldIn',
    run: () => foldIn(key, 2 ** 32),
    error: ArgumentError,
    mentions: ['data', '4294967296', '32 bits'],
  },
  { name: 'foldIn(key, 0.5)', fn: 'foldIn', run: () => foldIn(key, 0.5), error: ArgumentError, mentions: ['data', '0.5'] },
];

describe('bad input: ops', () => {
  badInputCases(cases);

  it('max/min over a non-empty axis of a tensor with an empty other axis give an empty result', () => {
    expect(max(zeros([0, 3]), 1).shape).toEqual([0]);
    expect(min(zeros([0, 3]), 1, true).shape).toEqual([0, 1]);
  });

  it('slice with arrays still slices, and a full slice returns x itself', () => {
    expect(slice(x, [0, 1], [1, 2]).toArray()).toEqual([[2, 3]]);
    expect(slice(x, [0])).toBe(x);
  });

  it('foldIn takes the whole 32-bit range, int32 and uint32 alike', () => {
    expect(foldIn(key, 2 ** 32 - 1)).toEqual(foldIn(key, -1));
    expect(foldIn(key, 2 ** 31)).not.toEqual(foldIn(key, 0));
  });
});
