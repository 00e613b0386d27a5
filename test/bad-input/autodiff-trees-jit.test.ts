/** Bad input to differentiation (grad, valueAndGrad, vjp, checkGrad), trees (treeMap and friends) and jit. */
import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  checkGrad,
  DTypeError,
  freezeTree,
  grad,
  jit,
  mul,
  ShapeError,
  sum,
  tensor,
  treeMap,
  treeUnflatten,
  treeZip,
  valueAndGrad,
  vjp,
  type Tensor,
} from '@tapestry/core';
import { badInputCases, type BadInputCase } from './cases.js';

const x = tensor([1, 2, 3], { dtype: 'float64' });
const x32 = tensor([1, 2, 3]);
const ids = tensor([1, 2], { dtype: 'int32' });
const total = (v: Tensor) => sum(mul(v, v));
const args = [x];
const tree = { w: x, b: [x32] };

const cases: BadInputCase[] = [
  // grad reports as grad (not valueAndGrad)
  { name: 'grad(5)', fn: 'grad', run: () => grad(5 as never), error: ArgumentError, mentions: ['function', 'number'] },
  { name: 'grad(f)("a")', fn: 'grad', run: () => grad(total)('a' as never), error: ArgumentError, mentions: ['argument 0', 'string'] },
  { name: 'grad(f)(int32)', fn: 'grad', held: [ids], run: () => grad(total)(ids), error: DTypeError, mentions: ['argument 0', 'int32', 'argnums'] },
  { name: 'grad(non-scalar f)(x)', fn: 'grad', held: [x], run: () => grad((v: Tensor) => mul(v, 2))(x), error: ShapeError, mentions: ['scalar', '[3]'] },
  { name: 'grad(f, 1)(x)', fn: 'grad', held: [x], run: () => grad(total, 1)(x), error: ArgumentError, mentions: ['argnums 1', '1 argument'] },
  {
    name: 'grad(f, { argnums: 1 })',
    fn: 'grad',
    run: () => grad(total, { argnums: 1 } as never),
    error: ArgumentError,
    mentions: ['argnums', '{"argnums":1}'],
  },
  { name: 'grad(f, 0, null)', fn: 'grad', run: () => grad(total, 0, null as never), error: ArgumentError, mentions: ['options', 'null'] },
  {
    name: 'grad(f returning a string)(x)',
    fn: 'grad',
    held: [x],
    run: () => grad(() => 'loss')(x),
    error: ArgumentError,
    mentions: ['scalar Tensor', 'string'],
  },
  {
    name: 'grad(f)({ w: x, b: "1" })',
    fn: 'grad',
    held: [x],
    run: () => grad((t: { w: Tensor }) => total(t.w))({ w: x, b: '1' }),
    error: ArgumentError,
    mentions: ['argument 0 at b', 'string'],
  },
  {
    name: 'valueAndGrad(f, [0, 2])(x)',
    fn: 'valueAndGrad',
    held: [x],
    run: () => valueAndGrad(total, [0, 2])(x),
    error: ArgumentError,
    mentions: ['argnums [0,2]'],
  },
  {
    name: 'valueAndGrad(f, 0, { hasAux: true })(x) without aux',
    fn: 'valueAndGrad',
    held: [x],
    run: () => valueAndGrad(total, 0, { hasAux: true })(x),
    error: ArgumentError,
    mentions: ['hasAux', '[loss, aux]'],
  },
  { name: 'valueAndGrad(f, 1.5)', fn: 'valueAndGrad', held: [x], run: () => valueAndGrad(total, 1.5)(x), error: ArgumentError, mentions: ['argnums 1.5'] },
  { name: 'vjp(5)', fn: 'vjp', run: () => vjp(5 as never), error: ArgumentError, mentions: ['function', 'number'] },
  {
    name: 'vjp pullback with a wrongly shaped cotangent',
    fn: 'vjp',
    held: [x],
    run: () => vjp((v: Tensor) => mul(v, 2), x)[1](tensor([1, 1], { dtype: 'float64' })),
    error: ShapeError,
    mentions: ['cotangent', '[3]', '[2]'],
  },
  // checkGrad: options that would make its report nonsense
  {
    name: 'checkGrad(f, [x], { eps: 0 })',
    fn: 'checkGrad',
    held: [x, args],
    run: () => checkGrad(total, args, { eps: 0 }),
    error: ArgumentError,
    mentions: ['options.eps', '> 0', 'got 0'],
  },
  {
    name: 'checkGrad(f, [x], { eps: -1e-6 })',
    fn: 'checkGrad',
    held: [x, args],
    run: () => checkGrad(total, args, { eps: -1e-6 }),
    error: ArgumentError,
    mentions: ['options.eps', '-0.000001'],
  },
  {
    name: 'checkGrad(f, [x], { eps: NaN })',
    fn: 'checkGrad',
    held: [x, args],
    run: () => checkGrad(total, args, { eps: NaN }),
    error: ArgumentError,
    mentions: ['options.eps', 'NaN'],
  },
  {
    name: 'checkGrad(f, [x], { eps: Infinity })',
    fn: 'checkGrad',
    held: [x, args],
    run: () => checkGrad(total, args, { eps: Infinity }),
    error: ArgumentError,
    mentions: ['options.eps', 'Infinity'],
  },
  {
    name: 'checkGrad(f, [x], { tol: NaN })',
    fn: 'checkGrad',
    held: [x, args],
    run: () => checkGrad(total, args, { tol: NaN }),
    error: ArgumentError,
    mentions: ['options.tol', 'NaN'],
  },
  {
    name: 'checkGrad(f, [x], { tol: -1 })',
    fn: 'checkGrad',
    held: [x, args],
    run: () => checkGrad(total, args, { tol: -1 }),
    error: ArgumentError,
    mentions: ['options.tol', '-1'],
  },
  {
    name: 'checkGrad(f, [x], { tol: "1e-6" })',
    fn: 'checkGrad',
    held: [x, args],
    run: () => checkGrad(total, args, { tol: '1e-6' as never }),
    error: ArgumentError,
    mentions: ['options.tol', '1e-6'],
  },
  {
    name: 'checkGrad(f, x): args not an array',
    fn: 'checkGrad',
    held: [x],
    run: () => checkGrad(total, x as never),
    error: ArgumentError,
    mentions: ['args', 'array', 'object'],
  },
  {
    name: 'checkGrad("f", [x])',
    fn: 'checkGrad',
    held: [x, args],
    run: () => checkGrad('f' as never, args),
    error: ArgumentError,
    mentions: ['f', 'function', 'string'],
  },
  {
    name: 'checkGrad(f, [float32])',
    fn: 'checkGrad',
    held: [x32],
    run: () => checkGrad(total, [x32]),
    error: DTypeError,
    mentions: ['argument 0', 'float32', 'float64'],
  },
  {
    name: 'checkGrad(non-scalar f, [x])',
    fn: 'checkGrad',
    held: [x, args],
    run: () => checkGrad((v: Tensor) => mul(v, 2), args),
    error: ShapeError,
    mentions: ['scalar', '[3]'],
  },
  {
    name: 'checkGrad(f, [x], { argnums: 2 })',
    fn: 'checkGrad',
    held: [x, args],
    run: () => checkGrad(total, args, { argnums: 2 }),
    error: ArgumentError,
    mentions: ['argnums [2]', '1 argument'],
  },
  // trees
  {
    name: 'treeMap(f, { a }, { b })',
    fn: 'treeMap',
    held: [tree],
    run: () => treeMap((a: unknown) => a, { a: 1 }, { b: 1 }),
    error: ArgumentError,
    mentions: ['at the root', '{a}', '{b}'],
  },
  {
    name: 'treeMap(f, tree, { w, b: [] })',
    fn: 'treeMap',
    held: [tree],
    run: () => treeMap((a: unknown) => a, tree, { w: x, b: [] }),
    error: ArgumentError,
    mentions: ['at b', 'an array of 1', 'an array of 0'],
  },
  {
    name: 'treeUnflatten(leaf def, [])',
    fn: 'treeUnflatten',
    run: () => treeUnflatten({ kind: 'leaf' }, []),
    error: ArgumentError,
    mentions: ['more leaves', '0 given'],
  },
  {
    name: 'treeUnflatten(leaf def, [1, 2])',
    fn: 'treeUnflatten',
    run: () => treeUnflatten({ kind: 'leaf' }, [1, 2]),
    error: ArgumentError,
    mentions: ['2 leaves given', 'has 1'],
  },
  { name: 'treeZip()', fn: 'treeZip', run: () => treeZip(), error: ArgumentError, mentions: ['at least one tree'] },
  // jit
  { name: 'jit(5)', fn: 'jit', run: () => jit(5 as never), error: ArgumentError, mentions: ['function', 'number'] },
  { name: 'jit(f, { donate: [-1] })', fn: 'jit', run: () => jit(total, { donate: [-1] }), error: ArgumentError, mentions: ['donate[0]', '-1'] },
  { name: 'jit(f, { donate: 0 })', fn: 'jit', run: () => jit(total, { donate: 0 as never }), error: ArgumentError, mentions: ['donate', 'number'] },
  {
    name: 'jit(f, { donate: [1] })(x): no argument 1',
    fn: 'jit',
    held: [x],
    run: () => jit(total, { donate: [1] })(x),
    error: ArgumentError,
    mentions: ['argument 1', '1 arguments'],
  },
];

describe('bad input: autodiff, trees, jit', () => {
  badInputCases(cases);

  it('treeMap does not freeze a Map passed through as a leaf, nor an object the mapping function returns', () => {
    const cache = new Map<string, number>([['a', 1]]);
    const cfg = { lr: 0.1 };
    const mapped = treeMap((leaf: unknown) => (leaf === 'cfg' ? cfg : leaf), { cache, which: 'cfg', w: x });
    expect(mapped.cache).toBe(cache);
    expect(mapped.which).toBe(cfg);
    cache.set('b', 2);
    cfg.lr = 0.2;
    expect(cache.get('b')).toBe(2);
    expect(cfg.lr).toBe(0.2);
    expect(Object.isFrozen(cache)).toBe(false);
    expect(Object.isFrozen(cfg)).toBe(false);
    // what treeMap built is frozen
    expect(Object.isFrozen(mapped)).toBe(true);
  });

  it('jit does not freeze a Map or a class instance passed through, and freezes the containers it builds', () => {
    class Config {
      lr = 0.1;
    }
    const cache = new Map<string, number>();
    const config = new Config();
    const step = jit((v: Tensor, c: Map<string, number>, k: Config) => ({ y: mul(v, 2), c, k, parts: [v] }));
    for (let i = 0; i < 2; i++) {
      const out = step(x, cache, config);
      expect(out.c).toBe(cache);
      expect(out.k).toBe(config);
      expect(Object.isFrozen(out)).toBe(true);
      expect(Object.isFrozen(out.parts)).toBe(true);
    }
    cache.set('seen', 1);
    config.lr = 0.5;
    expect(cache.get('seen')).toBe(1);
    expect(config.lr).toBe(0.5);
  });

  it('freezeTree freezes containers but not a Map held as a leaf', () => {
    const cache = new Map<string, number>();
    const frozen = freezeTree({ a: [x], cache });
    expect(Object.isFrozen(frozen.a)).toBe(true);
    cache.set('k', 1);
    expect(cache.get('k')).toBe(1);
  });

  it('checkGrad still accepts its defaults, tol 0 and tol Infinity', () => {
    expect(checkGrad(total, [x]).ok).toBe(true);
    expect(checkGrad(total, [x], { tol: Infinity }).ok).toBe(true);
    expect(typeof checkGrad(total, [x], { tol: 0 }).ok).toBe('boolean');
  });
});
