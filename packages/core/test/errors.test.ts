/**
 * Bad input: every op throws the right class (ShapeError / DTypeError / ArgumentError) with a message that
 * names the op and the shapes, and leaves its inputs' data untouched.
 */
import { describe, expect, it } from 'vitest';
import {
  abs,
  add,
  ArgumentError,
  argmax,
  broadcastTo,
  cast,
  concat,
  div,
  DTypeError,
  elu,
  equal,
  exp,
  expandDims,
  gather,
  grad,
  greater,
  indexSelect,
  leakyRelu,
  less,
  log,
  log1p,
  logSoftmax,
  logSumExp,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  neg,
  oneHot,
  pow,
  relu,
  reshape,
  ShapeError,
  sigmoid,
  slice,
  softmax,
  softplus,
  split,
  sqrt,
  square,
  squeeze,
  stack,
  sub,
  sum,
  tanh,
  tensor,
  transpose,
  vjp,
  where,
  type Tensor,
} from '@tapestry/core';
import { snapshot } from './arbitraries.js';

type ErrorClass = typeof ShapeError | typeof DTypeError | typeof ArgumentError;

interface Case {
  /** What is wrong. */
  readonly name: string;
  /** The tensors handed to the op, checked for mutation afterwards. */
  readonly inputs: readonly Tensor[];
  readonly run: (...xs: Tensor[]) => unknown;
  readonly error: ErrorClass;
  /** Must name the op and the shapes involved. */
  readonly message: RegExp;
}

const f64 = (values: number[] | number[][] | number[][][]) => tensor(values, { dtype: 'float64' });
const i32 = (values: number[] | number[][]) => tensor(values, { dtype: 'int32' });
const A23 = () =>
  f64([
    [1, 2, 3],
    [4, 5, 6],
  ]);
const B4 = () => f64([1, 2, 3, 4]);
const F32 = () => tensor([1, 2, 3]);

const binaryOps: [string, (a: Tensor, b: Tensor) => Tensor][] = [
  ['add', add],
  ['sub', sub],
  ['mul', mul],
  ['div', div],
  ['pow', pow],
  ['maximum', maximum],
  ['minimum', minimum],
  ['greater', greater],
  ['less', less],
  ['equal', equal],
];

const unaryOps: [string, (x: Tensor) => Tensor][] = [
  ['exp', exp],
  ['log', log],
  ['log1p', log1p],
  ['sqrt', sqrt],
  ['tanh', tanh],
  ['sigmoid', sigmoid],
  ['relu', relu],
  ['leakyRelu', (x) => leakyRelu(x)],
  ['elu', (x) => elu(x)],
  ['softplus', (x) => softplus(x)],
];

const cases: Case[] = [
  ...binaryOps.flatMap(([name, op]): Case[] => [
    {
      name: `${name}: shapes that do not broadcast`,
      inputs: [A23(), B4()],
      run: op,
      error: ShapeError,
      message: new RegExp(`^${name}: shapes \\[2, 3\\] and \\[4\\] do not broadcast`),
    },
    {
      name: `${name}: float32 with float64`,
      inputs: [F32(), A23()],
      run: op,
      error: DTypeError,
      message: new RegExp(`^${name}: dtypes differ: a is float32 \\[3\\] but b is float64 \\[2, 3\\]`),
    },
  ]),
  { name: 'div: int32 operands', inputs: [i32([1, 2]), i32([3, 4])], run: div, error: DTypeError, message: /^div: .*int32 \[2\] and \[2\]/ },
  { name: 'pow: int32 operands', inputs: [i32([1, 2]), i32([3, 4])], run: pow, error: DTypeError, message: /^pow: .*int32 \[2\]/ },
  { name: 'add: a non-integer number with int32', inputs: [i32([1, 2])], run: (a) => add(a, 0.5), error: DTypeError, message: /^add: b = 0.5 .*int32/ },
  {
    name: 'add: a nested array instead of a tensor',
    inputs: [A23()],
    run: (a) => add(a, [1, 2, 3] as unknown as Tensor),
    error: ArgumentError,
    message: /^add: b must be a Tensor, got an array/,
  },
  ...unaryOps.map(([name, op]): Case => ({
    name: `${name}: int32 input`,
    inputs: [i32([[1, 2]])],
    run: op,
    error: DTypeError,
    message: new RegExp(`^${name}: x must be float32 or float64, got int32 \\[1, 2\\]`),
  })),
  { name: 'neg: not a tensor', inputs: [], run: () => neg(3 as unknown as Tensor), error: ArgumentError, message: /^neg: x must be a Tensor, got number/ },
  { name: 'abs: null', inputs: [], run: () => abs(null as unknown as Tensor), error: ArgumentError, message: /^abs: x must be a Tensor, got null/ },
  {
    name: 'square: an array',
    inputs: [],
    run: () => square([1] as unknown as Tensor),
    error: ArgumentError,
    message: /^square: x must be a Tensor, got an array/,
  },
  {
    name: 'leakyRelu: NaN slope',
    inputs: [A23()],
    run: (x) => leakyRelu(x, NaN),
    error: ArgumentError,
    message: /^leakyRelu: alpha must be a finite number, got NaN/,
  },
  { name: 'softplus: beta 0', inputs: [A23()], run: (x) => softplus(x, 0), error: ArgumentError, message: /^softplus: beta must be non-zero/ },
  {
    name: 'where: a float condition',
    inputs: [A23(), A23(), A23()],
    run: (c, a, b) => where(c!, a!, b!),
    error: DTypeError,
    message: /^where: cond must be an int32 mask .*float64 \[2, 3\]/,
  },
  {
    name: 'where: shapes that do not broadcast',
    inputs: [i32([1, 0]), A23(), A23()],
    run: (c, a, b) => where(c!, a!, b!),
    error: ShapeError,
    message: /^where: shapes \[2\] and \[2, 3\] do not broadcast/,
  },
  {
    name: 'where: branches of different dtypes',
    inputs: [i32([1, 0, 1]), A23(), F32()],
    run: (c, a, b) => where(c!, a!, b!),
    error: DTypeError,
    message: /^where: dtypes differ: a is float64 \[2, 3\] but b is float32 \[3\]/,
  },
  ...(
    [
      ['sum', sum],
      ['max', max],
      ['min', min],
      ['mean', mean],
      ['logSumExp', logSumExp],
    ] as const
  ).flatMap(([name, op]): Case[] => [
    {
      name: `${name}: axis out of range`,
      inputs: [A23()],
      run: (x) => op(x, 2),
      error: ShapeError,
      message: new RegExp(`^${name}: axis 2 is out of range for a tensor of rank 2`),
    },
    {
      name: `${name}: repeated axis`,
      inputs: [A23()],
      run: (x) => op(x, [1, -1]),
      error: ShapeError,
      message: new RegExp(`^${name}: axis 1 is repeated in \\[1, -1\\]`),
    },
    {
      name: `${name}: fractional axis`,
      inputs: [A23()],
      run: (x) => op(x, 0.5),
      error: ArgumentError,
      message: new RegExp(`^${name}: axis must be an integer, got 0.5`),
    },
  ]),
  { name: 'mean: int32 input', inputs: [i32([1, 2])], run: (x) => mean(x), error: DTypeError, message: /^mean: x must be float32 or float64, got int32 \[2\]/ },
  {
    name: 'logSumExp: int32 input',
    inputs: [i32([1, 2])],
    run: (x) => logSumExp(x),
    error: DTypeError,
    message: /^logSumExp: x must be float32 or float64, got int32 \[2\]/,
  },
  {
    name: 'softmax: axis out of range',
    inputs: [A23()],
    run: (x) => softmax(x, -3),
    error: ShapeError,
    message: /^softmax: axis -3 is out of range for a tensor of rank 2/,
  },
  {
    name: 'softmax: int32 input',
    inputs: [i32([1, 2])],
    run: (x) => softmax(x),
    error: DTypeError,
    message: /^softmax: x must be float32 or float64, got int32 \[2\]/,
  },
  { name: 'logSoftmax: axis out of range', inputs: [A23()], run: (x) => logSoftmax(x, 2), error: ShapeError, message: /^logSoftmax: axis 2 is out of range/ },
  {
    name: 'logSoftmax: int32 input',
    inputs: [i32([1, 2])],
    run: (x) => logSoftmax(x),
    error: DTypeError,
    message: /^logSoftmax: x must be float32 or float64, got int32 \[2\]/,
  },
  {
    name: 'matmul: inner dimensions differ',
    inputs: [
      A23(),
      f64([
        [1, 2],
        [3, 4],
      ]),
    ],
    run: (a, b) => matmul(a!, b!),
    error: ShapeError,
    message: /^matmul: inner dimensions differ: a \[2, 3\] vs b \[2, 2\]/,
  },
  {
    name: 'matmul: 1-D operands of different lengths',
    inputs: [B4(), f64([1, 2, 3])],
    run: (a, b) => matmul(a!, b!),
    error: ShapeError,
    message: /^matmul: inner dimensions differ: a \[4\] vs b \[3\]/,
  },
  {
    name: 'matmul: batch axes that do not broadcast',
    inputs: [
      f64([[[1, 2]], [[3, 4]]]),
      f64([
        [[1], [2]],
        [[3], [4]],
        [[5], [6]],
      ]),
    ],
    run: (a, b) => matmul(a!, b!),
    error: ShapeError,
    message: /^matmul \(batch axes\): shapes \[2\] and \[3\] do not broadcast/,
  },
  {
    name: 'matmul: a scalar operand',
    inputs: [f64(2 as never), A23()],
    run: (a, b) => matmul(a!, b!),
    error: ShapeError,
    message: /^matmul: operands must have at least one axis, got a \[\] and b \[2, 3\]/,
  },
  {
    name: 'matmul: float32 with float64',
    inputs: [tensor([[1, 2]]), f64([[1], [2]])],
    run: (a, b) => matmul(a!, b!),
    error: DTypeError,
    message: /^matmul: dtypes differ: a is float32 \[1, 2\] but b is float64 \[2, 1\]/,
  },
  {
    name: 'matmul: int32 operands',
    inputs: [i32([[1, 2]]), i32([[1], [2]])],
    run: (a, b) => matmul(a!, b!),
    error: DTypeError,
    message: /^matmul: expects float operands, got int32 a \[1, 2\] and b \[2, 1\]/,
  },
  {
    name: 'matmul: transposeB of a vector',
    inputs: [A23(), f64([1, 2, 3])],
    run: (a, b) => matmul(a!, b!, { transposeB: true }),
    error: ShapeError,
    message: /^matmul: transposeB needs b of rank ≥ 2, got \[3\]/,
  },
  {
    name: 'matmul: inner dimensions differ after transposing',
    inputs: [
      A23(),
      f64([
        [1, 2],
        [3, 4],
      ]),
    ],
    run: (a, b) => matmul(a!, b!, { transposeB: true }),
    error: ShapeError,
    message: /^matmul: inner dimensions differ: a \[2, 3\] vs b \[2, 2\] \(transposed\)/,
  },
  {
    name: 'reshape: wrong element count',
    inputs: [A23()],
    run: (x) => reshape(x, [4, 2]),
    error: ShapeError,
    message: /^reshape: cannot reshape \[2, 3\] \(6 elements\) into \[4, 2\] \(8 elements\)/,
  },
  {
    name: 'reshape: -1 that does not divide',
    inputs: [A23()],
    run: (x) => reshape(x, [4, -1]),
    error: ShapeError,
    message: /^reshape: cannot reshape \[2, 3\] \(6 elements\) into \[4, -1\]/,
  },
  {
    name: 'reshape: two -1',
    inputs: [A23()],
    run: (x) => reshape(x, [-1, -1]),
    error: ShapeError,
    message: /^reshape: only one -1 is allowed, got \[-1, -1\]/,
  },
  {
    name: 'reshape: negative size',
    inputs: [A23()],
    run: (x) => reshape(x, [-2, -3]),
    error: ShapeError,
    message: /^reshape: shape must hold non-negative integers, got \[-2, -3\]/,
  },
  {
    name: 'transpose: not a permutation',
    inputs: [A23()],
    run: (x) => transpose(x, [0, 0]),
    error: ShapeError,
    message: /^transpose: perm \[0, 0\] is not a permutation of the 2 axes of \[2, 3\]/,
  },
  {
    name: 'transpose: wrong length',
    inputs: [A23()],
    run: (x) => transpose(x, [1, 0, 2]),
    error: ShapeError,
    message: /^transpose: perm \[1, 0, 2\] is not a permutation of the 2 axes of \[2, 3\]/,
  },
  {
    name: 'expandDims: axis out of range',
    inputs: [A23()],
    run: (x) => expandDims(x, 4),
    error: ShapeError,
    message: /^expandDims: axis 4 is out of range for a tensor of rank 3/,
  },
  { name: 'squeeze: axis of size 3', inputs: [A23()], run: (x) => squeeze(x, 1), error: ShapeError, message: /^squeeze: axis 1 of \[2, 3\] has size 3, not 1/ },
  {
    name: 'squeeze: axis out of range',
    inputs: [A23()],
    run: (x) => squeeze(x, 5),
    error: ShapeError,
    message: /^squeeze: axis 5 is out of range for a tensor of rank 2/,
  },
  {
    name: 'broadcastTo: incompatible shape',
    inputs: [A23()],
    run: (x) => broadcastTo(x, [2, 4]),
    error: ShapeError,
    message: /^broadcastTo: cannot broadcast \[2, 3\] to \[2, 4\]/,
  },
  {
    name: 'broadcastTo: fewer axes',
    inputs: [A23()],
    run: (x) => broadcastTo(x, [3]),
    error: ShapeError,
    message: /^broadcastTo: cannot broadcast \[2, 3\] to \[3\]/,
  },
  {
    name: 'slice: block past the end',
    inputs: [A23()],
    run: (x) => slice(x, [1, 2], [1, 2]),
    error: ShapeError,
    message: /^slice: axis 1: begin 2 with size 2 does not fit in x \[2, 3\]/,
  },
  { name: 'slice: negative begin', inputs: [A23()], run: (x) => slice(x, [-1]), error: ShapeError, message: /^slice: axis 0: begin -1 .* x \[2, 3\]/ },
  {
    name: 'slice: too many entries',
    inputs: [A23()],
    run: (x) => slice(x, [0, 0, 0]),
    error: ShapeError,
    message: /^slice: begin \[0, 0, 0\] .* x \[2, 3\] has axes/,
  },
  {
    name: 'concat: other axes differ',
    inputs: [
      A23(),
      f64([
        [1, 2],
        [3, 4],
      ]),
    ],
    run: (a, b) => concat([a!, b!], 0),
    error: ShapeError,
    message: /^concat: xs\[1\] \[2, 2\] does not match xs\[0\] \[2, 3\] outside axis 0/,
  },
  {
    name: 'concat: ranks differ',
    inputs: [A23(), B4()],
    run: (a, b) => concat([a!, b!], 1),
    error: ShapeError,
    message: /^concat: xs\[1\] \[4\] does not match xs\[0\] \[2, 3\]/,
  },
  {
    name: 'concat: dtypes differ',
    inputs: [A23(), tensor([[1, 2, 3]])],
    run: (a, b) => concat([a!, b!]),
    error: DTypeError,
    message: /^concat: dtypes differ: xs\[0\] is float64 \[2, 3\] but xs\[1\] is float32 \[1, 3\]/,
  },
  { name: 'concat: empty list', inputs: [], run: () => concat([]), error: ArgumentError, message: /^concat: expected a non-empty array of tensors/ },
  {
    name: 'concat: axis out of range',
    inputs: [A23()],
    run: (a) => concat([a, a], 2),
    error: ShapeError,
    message: /^concat: axis 2 is out of range for a tensor of rank 2/,
  },
  {
    name: 'stack: shapes differ',
    inputs: [A23(), f64([[1, 2, 3]])],
    run: (a, b) => stack([a!, b!]),
    error: ShapeError,
    message: /^stack: xs\[1\] \[1, 3\] differs from xs\[0\] \[2, 3\]/,
  },
  {
    name: 'stack: axis out of range',
    inputs: [A23()],
    run: (a) => stack([a, a], 3),
    error: ShapeError,
    message: /^stack: axis 3 is out of range for a tensor of rank 3/,
  },
  {
    name: 'split: not divisible',
    inputs: [A23()],
    run: (x) => split(x, 2, 1),
    error: ShapeError,
    message: /^split: axis 1 of \[2, 3\] \(size 3\) does not split into 2 equal parts/,
  },
  {
    name: 'split: sizes do not add up',
    inputs: [A23()],
    run: (x) => split(x, [1, 1], 1),
    error: ShapeError,
    message: /^split: sizes \[1, 1\] add up to 2, but axis 1 of \[2, 3\] has size 3/,
  },
  { name: 'split: zero parts', inputs: [A23()], run: (x) => split(x, 0), error: ArgumentError, message: /^split: count must be an integer ≥ 1, got 0/ },
  {
    name: 'gather: float indices',
    inputs: [A23(), f64([0, 1])],
    run: (x, i) => gather(x!, i!),
    error: DTypeError,
    message: /^gather: indices must be int32, got float64 \[2\]/,
  },
  {
    name: 'gather: index out of range',
    inputs: [A23(), i32([0, 3])],
    run: (x, i) => gather(x!, i!, 1),
    error: ShapeError,
    message: /^gather: index 3 \(at flat position 1\) is out of range for axis 1 of x \[2, 3\] \(size 3\)/,
  },
  { name: 'gather: negative index', inputs: [A23(), i32([-1])], run: (x, i) => gather(x!, i!), error: ShapeError, message: /^gather: index -1 .* x \[2, 3\]/ },
  {
    name: 'gather: scalar x',
    inputs: [f64(1 as never), i32([0])],
    run: (x, i) => gather(x!, i!),
    error: ShapeError,
    message: /^gather: x must have at least one axis/,
  },
  {
    name: 'indexSelect: 2-D indices',
    inputs: [A23(), i32([[0, 1]])],
    run: (x, i) => indexSelect(x!, 0, i!),
    error: ShapeError,
    message: /^indexSelect: indices must be 1-D, got \[1, 2\]/,
  },
  {
    name: 'indexSelect: float indices',
    inputs: [A23(), f64([0, 1])],
    run: (x, i) => indexSelect(x!, 0, i!),
    error: DTypeError,
    message: /^indexSelect: indices must be int32, got float64 \[2\]/,
  },
  {
    name: 'indexSelect: axis out of range',
    inputs: [A23(), i32([0])],
    run: (x, i) => indexSelect(x!, 2, i!),
    error: ShapeError,
    message: /^indexSelect: axis 2 is out of range for a tensor of rank 2/,
  },
  {
    name: 'indexSelect: index out of range',
    inputs: [A23(), i32([0, 2])],
    run: (x, i) => indexSelect(x!, 0, i!),
    error: ShapeError,
    message: /^indexSelect: index 2 \(at flat position 1\) is out of range for axis 0 of x \[2, 3\] \(size 2\)/,
  },
  { name: 'argmax: scalar', inputs: [f64(1 as never)], run: (x) => argmax(x), error: ShapeError, message: /^argmax: x must have at least one axis/ },
  {
    name: 'argmax: axis out of range',
    inputs: [A23()],
    run: (x) => argmax(x, 2),
    error: ShapeError,
    message: /^argmax: axis 2 is out of range for a tensor of rank 2/,
  },
  { name: 'oneHot: float indices', inputs: [B4()], run: (i) => oneHot(i, 5), error: DTypeError, message: /^oneHot: indices must be int32, got float64/ },
  {
    name: 'oneHot: index out of range',
    inputs: [i32([0, 4])],
    run: (i) => oneHot(i, 4),
    error: ShapeError,
    message: /^oneHot: index 4 \(at flat position 1\) is out of range for depth 4/,
  },
  { name: 'oneHot: depth 0', inputs: [i32([0])], run: (i) => oneHot(i, 0), error: ArgumentError, message: /^oneHot: depth must be an integer ≥ 1, got 0/ },
  { name: 'cast: unknown dtype', inputs: [A23()], run: (x) => cast(x, 'float16' as never), error: DTypeError, message: /^cast: unknown dtype "float16"/ },
  {
    name: 'grad: a non-scalar output',
    inputs: [A23()],
    run: (x) => grad((x: Tensor) => mul(x, 2))(x),
    error: ShapeError,
    message: /^grad: the function must return a scalar \(one element\), got shape \[2, 3\]/,
  },
  {
    name: 'grad: an int32 argument',
    inputs: [i32([1, 2])],
    run: (x) => grad((x: Tensor) => sum(x))(x),
    error: DTypeError,
    message: /^grad: argument 0 is int32 \[2\]; only float32\/float64 can be differentiated/,
  },
  {
    name: 'grad: argnums out of range',
    inputs: [A23()],
    run: (x) => grad((x: Tensor) => sum(x), 1)(x),
    error: ArgumentError,
    message: /^grad: argnums 1 is out of range for 1 argument/,
  },
  {
    name: 'vjp: a cotangent of the wrong shape',
    inputs: [A23(), B4()],
    run: (x, ct) => vjp((x: Tensor) => mul(x, 2), x!)[1](ct!),
    error: ShapeError,
    message: /^vjp: cotangent \(root\) must be a float64 tensor of shape \[2, 3\], got float64 \[4\]/,
  },
  { name: 'tensor: ragged nested array', inputs: [], run: () => tensor([[1, 2], [3]]), error: ShapeError, message: /^tensor: ragged nested array/ },
  {
    name: 'tensor: shape that does not fit',
    inputs: [],
    run: () => tensor([1, 2, 3], { shape: [2, 2] }),
    error: ShapeError,
    message: /^tensor: shape \[2, 2\] holds 4 elements but the values have 3/,
  },
  {
    name: 'tensor: typed array of another dtype',
    inputs: [],
    run: () => tensor(new Float32Array(2), { dtype: 'float64' }),
    error: DTypeError,
    message: /^tensor: a float32 array was given with dtype float64/,
  },
  {
    name: 'tensor: a non-integer int32 value',
    inputs: [],
    run: () => tensor([1.5], { dtype: 'int32' }),
    error: DTypeError,
    message: /^tensor: int32 tensors hold integers, got values \(flat index 0\) = 1.5/,
  },
];

describe('errors name the op and the shapes, and leave the inputs untouched', () => {
  for (const c of cases) {
    it(c.name, () => {
      const before = c.inputs.map(snapshot);
      const shapes = c.inputs.map((x) => x.shape.slice());
      let thrown: unknown;
      try {
        c.run(...c.inputs);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, 'expected a throw').toBeInstanceOf(c.error);
      expect((thrown as Error).name).toBe(c.error.name);
      expect((thrown as Error).message).toMatch(c.message);
      expect(c.inputs.map(snapshot)).toEqual(before);
      expect(c.inputs.map((x) => x.shape)).toEqual(shapes);
    });
  }

  it('a failing op inside grad leaves the tape usable: the next differentiation works', () => {
    const x = A23();
    expect(() => grad((x: Tensor) => sum(matmul(x, x)))(x)).toThrow(ShapeError);
    const g = grad((x: Tensor) => sum(mul(x, x)))(x) as Tensor;
    expect(g.toArray()).toEqual([
      [2, 4, 6],
      [8, 10, 12],
    ]);
  });
});
