/** Trees: nested plain objects and arrays of leaves; results of treeMap/treeZip are deeply frozen (immer). */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ArgumentError,
  freezeTree,
  grad,
  isContainer,
  mul,
  sum,
  tensor,
  treeFlatten,
  treeFlattenWithPath,
  treeLeaves,
  treeMap,
  treeStructure,
  treeUnflatten,
  treeZip,
  type Tensor,
} from '@tapestry/core';

/** Random trees of numbers: leaves, null/undefined, arrays and objects, a few levels deep. */
const treeArb = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer(),
    fc.constantFrom(null, undefined),
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('w', 'b', 'h', 'c', 'layers'), tie('tree'), { maxKeys: 3, noNullPrototype: true }),
  ),
})).tree;

/** Every container of a tree is frozen. */
function deeplyFrozen(tree: unknown): boolean {
  if (!isContainer(tree)) return true;
  return Object.isFrozen(tree) && Object.values(tree).every(deeplyFrozen);
}

const sample = () => ({
  layers: [
    { w: 1, b: 2 },
    { w: 3, b: null },
  ],
  scale: 4,
  extra: [] as number[],
  none: undefined,
});

describe('treeLeaves and treeFlattenWithPath', () => {
  it('list leaves depth first in insertion order, skipping null and undefined', () => {
    expect(treeLeaves(sample())).toEqual([1, 2, 3, 4]);
    expect(treeFlattenWithPath(sample())).toEqual([
      ['layers[0].w', 1],
      ['layers[0].b', 2],
      ['layers[1].w', 3],
      ['scale', 4],
    ]);
  });

  it('a lone leaf is a tree with one leaf at the empty path; tensors are leaves', () => {
    const t = tensor([1, 2]);
    expect(treeFlattenWithPath(t)).toEqual([['', t]]);
    expect(treeLeaves([t, { t }])).toEqual([t, t]);
    expect(treeLeaves(null)).toEqual([]);
  });

  it('a very deep tree does not overflow the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(treeLeaves(deep)).toEqual([1]);
  });
});

describe('treeFlatten / treeUnflatten', () => {
  it('round-trip any tree', () => {
    fc.assert(
      fc.property(treeArb, (tree) => {
        const [leaves, def] = treeFlatten(tree);
        expect(leaves).toEqual(treeLeaves(tree));
        expect(treeUnflatten(def, leaves)).toStrictEqual(tree);
        expect(treeStructure(tree)).toEqual(def);
      }),
      { numRuns: 100 },
    );
  });

  it('rebuild with new leaves in the same order', () => {
    const [leaves, def] = treeFlatten<number>(sample());
    expect(
      treeUnflatten(
        def,
        leaves.map((v) => v * 10),
      ),
    ).toEqual({
      layers: [
        { w: 10, b: 20 },
        { w: 30, b: null },
      ],
      scale: 40,
      extra: [],
      none: undefined,
    });
  });

  it('reject the wrong number of leaves with an ArgumentError', () => {
    const [, def] = treeFlatten(sample());
    expect(() => treeUnflatten(def, [1, 2, 3])).toThrow(ArgumentError);
    expect(() => treeUnflatten(def, [1, 2, 3])).toThrow(/treeUnflatten: the structure has more leaves than the 3 given/);
    expect(() => treeUnflatten(def, [1, 2, 3, 4, 5])).toThrow(/treeUnflatten: 5 leaves given but the structure has 4/);
  });
});

describe('treeMap', () => {
  it('maps every leaf, keeps the structure, and returns a deeply frozen tree without freezing the input', () => {
    fc.assert(
      fc.property(treeArb, (tree) => {
        const mapped = treeMap((v: number) => v + 1, tree);
        expect(treeStructure(mapped)).toEqual(treeStructure(tree));
        expect(treeLeaves(mapped)).toEqual(treeLeaves<number>(tree).map((v) => v + 1));
        expect(deeplyFrozen(mapped)).toBe(true);
        if (isContainer(tree)) expect(Object.isFrozen(tree)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('maps several trees of the same structure leaf by leaf', () => {
    const a = { w: [1, 2], b: 3 };
    const b = { w: [10, 20], b: 30 };
    expect(treeMap((x: number, y: number) => x * y, a, b)).toEqual({ w: [10, 40], b: 90 });
  });

  it('a frozen result cannot be modified', () => {
    const mapped = treeMap((v: number) => v, { w: [1, 2] });
    expect(() => {
      mapped.w.push(3);
    }).toThrow(TypeError);
    expect(() => {
      mapped.w = [];
    }).toThrow(TypeError);
  });

  it('trees of different structure are an ArgumentError naming the path', () => {
    expect(() => treeMap((x: number) => x, { w: [1, 2] }, { w: [1] })).toThrow(ArgumentError);
    expect(() => treeMap((x: number) => x, { w: [1, 2] }, { w: [1] })).toThrow(
      /treeMap: tree structures differ at w: tree has an array of 2, rest\[0\] has an array of 1/,
    );
    expect(() => treeMap((x: number) => x, { a: { b: 1 } }, { a: { c: 1 } })).toThrow(
      /at a: tree has an object with keys \{b\}, rest\[0\] has an object with keys \{c\}/,
    );
    expect(() => treeMap((x: number) => x, [1, [2]], [1, 2])).toThrow(/at \[1\]: tree has an array of 1, rest\[0\] has a leaf/);
  });

  it('works on tensors: scales a tree of parameters', () => {
    const params = { w: tensor([1, 2]), b: [tensor([3])] };
    const scaled = treeMap((t: Tensor) => mul(t, 2), params);
    expect(scaled.w.toArray()).toEqual([2, 4]);
    expect(scaled.b[0].toArray()).toEqual([6]);
  });
});

describe('treeZip', () => {
  it('pairs up the leaves of trees of one structure, frozen', () => {
    const zipped = treeZip({ w: 1, b: [2] }, { w: 'a', b: ['b'] }, { w: true, b: [false] });
    expect(zipped).toEqual({ w: [1, 'a', true], b: [[2, 'b', false]] });
    expect(deeplyFrozen(zipped)).toBe(true);
  });

  it('zips any tree with itself into pairs', () => {
    fc.assert(
      fc.property(treeArb, (tree) => {
        const zipped = treeZip(
          tree,
          treeMap((v: number) => -v, tree),
        );
        const pairs = treeFlatten(tree)[0].map((v) => [v, -(v as number)]);
        // the pairs are containers in the result, so its leaves are the pairs' entries
        expect(treeLeaves(zipped)).toEqual(pairs.flat());
      }),
      { numRuns: 50 },
    );
  });

  it('needs at least one tree, and equal structures', () => {
    expect(() => treeZip()).toThrow(ArgumentError);
    expect(() => treeZip({ a: 1 }, { b: 1 })).toThrow(/treeMap: tree structures differ at the root/);
  });
});

describe('freezeTree and gradients of trees', () => {
  it('freezeTree freezes in place and returns the same tree', () => {
    const tree = { a: [1, { b: 2 }] };
    expect(freezeTree(tree)).toBe(tree);
    expect(deeplyFrozen(tree)).toBe(true);
  });

  it('grad of a tree argument returns a frozen tree of the same structure', () => {
    const params = { w: tensor([1, 2], { dtype: 'float64' }), layers: [{ b: tensor([3], { dtype: 'float64' }) }, null] };
    const g = grad((p: typeof params) => sum(mul(mul(p.w, p.w), p.layers[0]!.b)))(params);
    expect(treeStructure(g)).toEqual(treeStructure(params));
    expect(deeplyFrozen(g)).toBe(true);
    expect(g.w.toArray()).toEqual([6, 12]);
    expect(g.layers[0].b.toArray()).toEqual([5]);
    expect(Object.isFrozen(params)).toBe(false);
  });
});
