/** Bad input to tensor creation: tensor, scalar, zeros, ones, full, zerosLike, onesLike, arange, eye. */
import { describe, expect, it } from 'vitest';
import { arange, ArgumentError, DTypeError, eye, full, ones, onesLike, scalar, ShapeError, tensor, zeros, zerosLike } from '@tapestry/core';
import { badInputCases, type BadInputCase } from './cases.js';

const nested = [
  [1, 2],
  [3, 4],
];
const floats = new Float32Array([1, 2, 3, 4]);
const ints = new Int32Array([1, 2, 3]);
const shape = [2, 3];

const cases: BadInputCase[] = [
  // int32 range: PyTorch refuses, never wraps
  {
    name: 'tensor([2 ** 31], int32)',
    fn: 'tensor',
    run: () => tensor([2 ** 31], { dtype: 'int32' }),
    error: ArgumentError,
    mentions: ['int32', '2147483648', 'flat index 0'],
  },
  {
    name: 'tensor([-(2 ** 31) - 1], int32)',
    fn: 'tensor',
    run: () => tensor([-(2 ** 31) - 1], { dtype: 'int32' }),
    error: ArgumentError,
    mentions: ['int32', '-2147483649'],
  },
  {
    name: 'tensor([[1, 2 ** 40]], int32): position named',
    fn: 'tensor',
    run: () => tensor([[1, 2 ** 40]], { dtype: 'int32' }),
    error: ArgumentError,
    mentions: ['flat index 1', '1099511627776'],
  },
  { name: 'full([2], 2 ** 31, int32)', fn: 'full', run: () => full([2], 2 ** 31, 'int32'), error: ArgumentError, mentions: ['value', '2147483648', 'int32'] },
  { name: 'full([2], -(2 ** 32), int32)', fn: 'full', run: () => full([2], -(2 ** 32), 'int32'), error: ArgumentError, mentions: ['value', '-4294967296'] },
  {
    name: 'arange(2 ** 31 - 2, 2 ** 31 + 2, 1, int32)',
    fn: 'arange',
    run: () => arange(2 ** 31 - 2, 2 ** 31 + 2, 1, 'int32'),
    error: ArgumentError,
    mentions: ['2147483649', 'int32'],
  },
  {
    name: 'arange(2 ** 31, 2 ** 31 + 1, 1, int32): start',
    fn: 'arange',
    run: () => arange(2 ** 31, 2 ** 31 + 1, 1, 'int32'),
    error: ArgumentError,
    mentions: ['start', '2147483648'],
  },
  {
    name: 'arange(0, -(2 ** 32), 1 - 2 ** 31, int32): descending',
    fn: 'arange',
    run: () => arange(0, -(2 ** 32), 1 - 2 ** 31, 'int32'),
    error: ArgumentError,
    mentions: ['the last value', '-4294967294', 'int32'],
  },
  // huge shapes: refused from the shape, before anything is allocated (not the engine's RangeError)
  {
    name: 'zeros([1e6, 1e6, 1e6])',
    fn: 'zeros',
    run: () => zeros([1e6, 1e6, 1e6]),
    error: ShapeError,
    mentions: ['shape', '[1000000, 1000000, 1000000]', 'would hold'],
  },
  { name: 'ones([2 ** 31])', fn: 'ones', run: () => ones([2 ** 31]), error: ShapeError, mentions: ['[2147483648]', 'would hold'] },
  { name: 'full([2 ** 16, 2 ** 16], 1)', fn: 'full', run: () => full([2 ** 16, 2 ** 16], 1), error: ShapeError, mentions: ['[65536, 65536]', 'would hold'] },
  { name: 'arange(0, 1e12)', fn: 'arange', run: () => arange(0, 1e12), error: ShapeError, mentions: ['[1000000000000]', 'would hold'] },
  { name: 'eye(1e6)', fn: 'eye', run: () => eye(1e6), error: ShapeError, mentions: ['[1000000, 1000000]', 'would hold'] },
  {
    name: 'tensor(floats, { shape: [2 ** 20, 2 ** 20] })',
    fn: 'tensor',
    held: [floats],
    run: () => tensor(floats, { shape: [2 ** 20, 2 ** 20] }),
    error: ShapeError,
    mentions: ['options.shape', 'would hold'],
  },
  // the function called is named, not the one it delegates to
  { name: 'zeros([2], "int8")', fn: 'zeros', run: () => zeros([2], 'int8' as never), error: DTypeError, mentions: ['"int8"', 'float32, float64, int32'] },
  { name: 'ones([-1])', fn: 'ones', run: () => ones([-1]), error: ShapeError, mentions: ['shape', '[-1]'] },
  { name: 'zeros(3): a number for a shape', fn: 'zeros', run: () => zeros(3 as never), error: ArgumentError, mentions: ['shape', 'array', '3'] },
  { name: 'zeros("23")', fn: 'zeros', run: () => zeros('23' as never), error: ArgumentError, mentions: ['shape', '"23"'] },
  { name: 'zeros([2.5])', fn: 'zeros', run: () => zeros([2.5]), error: ShapeError, mentions: ['[2.5]', 'non-negative integers'] },
  { name: 'zeros([NaN, 2])', fn: 'zeros', run: () => zeros([NaN, 2]), error: ShapeError, mentions: ['[NaN, 2]'] },
  { name: 'zeros(["2"])', fn: 'zeros', held: [], run: () => zeros(['2'] as never), error: ShapeError, mentions: ['["2"]'] },
  {
    name: 'zeros(shape, undefined-typo dtype "float")',
    fn: 'zeros',
    held: [shape],
    run: () => zeros(shape, 'float' as never),
    error: DTypeError,
    mentions: ['"float"'],
  },
  { name: 'zerosLike([1, 2])', fn: 'zerosLike', run: () => zerosLike([1, 2] as never), error: ArgumentError, mentions: ['x', 'Tensor', 'an array of 2'] },
  { name: 'onesLike(null)', fn: 'onesLike', run: () => onesLike(null as never), error: ArgumentError, mentions: ['x', 'null'] },
  { name: 'scalar("a")', fn: 'scalar', run: () => scalar('a' as never), error: ArgumentError, mentions: ['value', '"a"'] },
  { name: 'scalar(1.5, "int32")', fn: 'scalar', run: () => scalar(1.5, 'int32'), error: DTypeError, mentions: ['value', '1.5'] },
  { name: 'full([2], "a")', fn: 'full', run: () => full([2], 'a' as never), error: ArgumentError, mentions: ['value', '"a"'] },
  { name: 'full([2], undefined)', fn: 'full', run: () => full([2], undefined as never), error: ArgumentError, mentions: ['value', 'undefined'] },
  { name: 'full([2], NaN, int32)', fn: 'full', run: () => full([2], NaN, 'int32'), error: DTypeError, mentions: ['value', 'NaN'] },
  { name: 'full([2], 0.5, int32)', fn: 'full', run: () => full([2], 0.5, 'int32'), error: DTypeError, mentions: ['value', '0.5'] },
  // tensor()
  { name: 'tensor(null)', fn: 'tensor', run: () => tensor(null as never), error: ArgumentError, mentions: ['[object Null]'] },
  { name: 'tensor(undefined)', fn: 'tensor', run: () => tensor(undefined as never), error: ArgumentError, mentions: ['[object Undefined]'] },
  { name: 'tensor("12")', fn: 'tensor', run: () => tensor('12' as never), error: ArgumentError, mentions: ['[object String]'] },
  { name: 'tensor({ a: 1 })', fn: 'tensor', run: () => tensor({ a: 1 } as never), error: ArgumentError, mentions: ['[object Object]'] },
  { name: 'tensor(["a"])', fn: 'tensor', run: () => tensor(['a'] as never), error: ShapeError, mentions: ['depth 1', 'the string "a"'] },
  {
    name: 'tensor([[1, 2], [3]]): ragged',
    fn: 'tensor',
    run: () => tensor([[1, 2], [3]]),
    error: ShapeError,
    mentions: ['ragged', 'expected 2 entries at depth 1', 'got 1'],
  },
  { name: 'tensor([[1], 2]): ragged', fn: 'tensor', run: () => tensor([[1], 2]), error: ShapeError, mentions: ['ragged', 'depth 1'] },
  { name: 'tensor([1, [2]]): ragged', fn: 'tensor', run: () => tensor([1, [2]]), error: ShapeError, mentions: ['depth 1', 'an array of 1'] },
  { name: 'tensor([1, null])', fn: 'tensor', run: () => tensor([1, null] as never), error: ShapeError, mentions: ['depth 1', 'null'] },
  { name: 'tensor([1.5], int32)', fn: 'tensor', run: () => tensor([1.5], { dtype: 'int32' }), error: DTypeError, mentions: ['int32', '1.5'] },
  { name: 'tensor([NaN], int32)', fn: 'tensor', run: () => tensor([NaN], { dtype: 'int32' }), error: DTypeError, mentions: ['NaN'] },
  { name: 'tensor([Infinity], int32)', fn: 'tensor', run: () => tensor([Infinity], { dtype: 'int32' }), error: DTypeError, mentions: ['Infinity'] },
  {
    name: 'tensor(nested, { dtype: "float16" })',
    fn: 'tensor',
    held: [nested],
    run: () => tensor(nested, { dtype: 'float16' as never }),
    error: DTypeError,
    mentions: ['"float16"'],
  },
  {
    name: 'tensor(Float32Array, { dtype: float64 })',
    fn: 'tensor',
    held: [floats],
    run: () => tensor(floats, { dtype: 'float64' }),
    error: DTypeError,
    mentions: ['float32', 'float64', 'cast'],
  },
  {
    name: 'tensor(nested, { shape: [3] })',
    fn: 'tensor',
    held: [nested],
    run: () => tensor(nested, { shape: [3] }),
    error: ShapeError,
    mentions: ['[3]', '4'],
  },
  {
    name: 'tensor(Int32Array(3), { shape: [2, 2] })',
    fn: 'tensor',
    held: [ints],
    run: () => tensor(ints, { shape: [2, 2] }),
    error: ShapeError,
    mentions: ['[2, 2]', '3'],
  },
  {
    name: 'tensor(nested, { shape: [-2, -2] })',
    fn: 'tensor',
    held: [nested],
    run: () => tensor(nested, { shape: [-2, -2] }),
    error: ShapeError,
    mentions: ['options.shape', '[-2, -2]'],
  },
  {
    name: 'tensor(nested, { shape: 4 })',
    fn: 'tensor',
    held: [nested],
    run: () => tensor(nested, { shape: 4 as never }),
    error: ArgumentError,
    mentions: ['options.shape', '4'],
  },
  { name: 'tensor(nested, null)', fn: 'tensor', held: [nested], run: () => tensor(nested, null as never), error: ArgumentError, mentions: ['options', 'null'] },
  { name: 'tensor(Uint8Array)', fn: 'tensor', run: () => tensor(new Uint8Array(2) as never), error: ArgumentError, mentions: ['[object Uint8Array]'] },
  // arange, eye
  { name: 'arange(0, 10, 0)', fn: 'arange', run: () => arange(0, 10, 0), error: ArgumentError, mentions: ['step', '0'] },
  { name: 'arange(NaN)', fn: 'arange', run: () => arange(NaN), error: ArgumentError, mentions: ['finite', 'NaN'] },
  { name: 'arange(0, Infinity)', fn: 'arange', run: () => arange(0, Infinity), error: ArgumentError, mentions: ['finite', 'Infinity'] },
  { name: 'arange(0.5, 3, 1, int32)', fn: 'arange', run: () => arange(0.5, 3, 1, 'int32'), error: DTypeError, mentions: ['int32', '0.5'] },
  { name: 'arange(0, 3, 1, "bool")', fn: 'arange', run: () => arange(0, 3, 1, 'bool' as never), error: DTypeError, mentions: ['"bool"'] },
  { name: 'eye(-1)', fn: 'eye', run: () => eye(-1), error: ShapeError, mentions: ['n', '-1'] },
  { name: 'eye(2.5)', fn: 'eye', run: () => eye(2.5), error: ShapeError, mentions: ['n', '2.5'] },
  { name: 'eye(2, "int64")', fn: 'eye', run: () => eye(2, 'int64' as never), error: DTypeError, mentions: ['"int64"'] },
];

describe('bad input: creation', () => {
  badInputCases(cases);

  it('the int32 range is accepted up to its ends, exactly', () => {
    expect(tensor([2 ** 31 - 1, -(2 ** 31)], { dtype: 'int32' }).toArray()).toEqual([2 ** 31 - 1, -(2 ** 31)]);
    expect(full([1], -(2 ** 31), 'int32').toArray()).toEqual([-(2 ** 31)]);
    expect(arange(2 ** 31 - 3, 2 ** 31, 1, 'int32').toArray()).toEqual([2 ** 31 - 3, 2 ** 31 - 2, 2 ** 31 - 1]);
    expect(arange(-(2 ** 31), -(2 ** 31) + 2, 1, 'int32').toArray()).toEqual([-(2 ** 31), -(2 ** 31) + 1]);
  });

  it('float dtypes hold values beyond the int32 range as they are', () => {
    expect(tensor([2 ** 31]).toArray()).toEqual([2 ** 31]);
    expect(full([1], 2 ** 40, 'float64').toArray()).toEqual([2 ** 40]);
  });
});
