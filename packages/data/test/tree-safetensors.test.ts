import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ArgumentError, DTypeError, ShapeError, tensor, Tensor, treeFlattenWithPath, zeros } from '@tapestry/core';
import { decodeSafetensors, encodeSafetensors, loadTree, saveTree } from '@tapestry/data';

const f32 = (values: number[], shape = [values.length]) => tensor(Float32Array.from(values), { shape });
const values = (tree: unknown) => treeFlattenWithPath<Tensor>(tree).map(([path, t]) => [path, t.dtype, t.shape, Array.from(t.dataSync())]);

// A parameter tree and an optax-like optimiser state: nested objects, arrays at the root, int32 counts.
const params = () => ({
  embedding: { weight: f32([1, 2, 3, 4, 5, 6], [3, 2]) },
  rnn: { layers: [{ forward: { weightIh: f32([0.5, -0.5], [2, 1]), biasIh: tensor(new Float64Array([7, 8])) } }] },
  head: { weight: f32([9], [1, 1]), bias: undefined },
});
const optState = () => [
  {},
  [{ count: tensor(new Int32Array([3]), { shape: [] }), mu: { w: f32([1, 2]) } }, { count: tensor(new Int32Array([3]), { shape: [] }) }],
];

describe('saveTree / loadTree', () => {
  it("names tensors by tree path and round-trips values, dtypes and shapes into the template's structure", () => {
    const tree = { params: params(), opt: optState() };
    const bytes = saveTree(tree, { step: '12' });
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Object.keys(tensors).sort()).toEqual([
      'opt[1][0].count',
      'opt[1][0].mu.w',
      'opt[1][1].count',
      'params.embedding.weight',
      'params.head.weight',
      'params.rnn.layers[0].forward.biasIh',
      'params.rnn.layers[0].forward.weightIh',
    ]);
    expect(metadata).toEqual({ step: '12' });
    // the template's values do not matter, only its structure, shapes and dtypes
    const loaded = loadTree(bytes, { params: { ...params(), embedding: { weight: zeros([3, 2]) } }, opt: optState() });
    expect(values(loaded)).toEqual(values(tree));
    expect(loaded.params.head.bias).toBeUndefined();
    expect(Array.isArray(loaded.opt)).toBe(true);
    expect(Object.isFrozen(loaded) && Object.isFrozen(loaded.params.rnn.layers[0])).toBe(true);
  });

  it("keeps a flat state dict's names, so the file is what torch.load_state_dict expects", () => {
    const dict = { 'rnn.weight_ih_l0': f32([1, 2], [2, 1]), 'rnn.bias_ih_l0': f32([3, 4]) };
    const bytes = saveTree(dict);
    expect(Object.keys(decodeSafetensors(bytes).tensors).sort()).toEqual(['rnn.bias_ih_l0', 'rnn.weight_ih_l0']);
    expect(values(loadTree(bytes, { 'rnn.weight_ih_l0': zeros([2, 1]), 'rnn.bias_ih_l0': zeros([2]) }))).toEqual(values(dict));
  });

  it('round-trips any tree of float32, float64 and int32 leaves bit for bit (property)', () => {
    const leaf = fc.oneof(
      fc.array(fc.float({ noNaN: true }), { maxLength: 6 }).map((v) => f32(v)),
      fc.array(fc.double({ noNaN: true }), { maxLength: 6 }).map((v) => tensor(Float64Array.from(v))),
      fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 6 }).map((v) => tensor(Int32Array.from(v))),
    );
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.array(tie('tree'), { maxLength: 3 }),
        fc.dictionary(
          fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 4 }).filter((k) => !/[.[\]]/.test(k) && k !== '__proto__' && k !== '__metadata__'),
          tie('tree'),
          { maxKeys: 3 },
        ),
      ),
    }));
    fc.assert(
      fc.property(tree, (t) => {
        expect(values(loadTree(saveTree(t), t))).toEqual(values(t));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a file that disagrees with the template, naming the path, the expected and the found', () => {
    const bytes = saveTree(params(), { step: '4' });
    const template = params();
    // a missing tensor
    const withExtraLeaf = { ...template, head: { weight: f32([9], [1, 1]), bias: f32([0]) } };
    expect(() => loadTree(bytes, withExtraLeaf, { name: 'model.safetensors' })).toThrow(ArgumentError);
    expect(() => loadTree(bytes, withExtraLeaf, { name: 'model.safetensors' })).toThrow(
      /^loadTree: model\.safetensors: tensor "head\.bias" is missing; the template expects float32 \[1\]/,
    );
    // a tensor the template has no leaf for
    const { head: _head, ...withoutHead } = template;
    expect(() => loadTree(bytes, withoutHead)).toThrow(/loadTree: the file holds 1 tensor the template has no leaf for: "head\.weight" \(float32 \[1, 1\]\)/);
    // a different shape, and a different dtype
    const wide = { ...template, embedding: { weight: zeros([4, 2]) } };
    expect(() => loadTree(bytes, wide)).toThrow(ShapeError);
    expect(() => loadTree(bytes, wide)).toThrow('loadTree: tensor "embedding.weight" has shape [3, 2] but the template expects [4, 2]');
    const double = { ...template, embedding: { weight: zeros([3, 2], 'float64') } };
    expect(() => loadTree(bytes, double)).toThrow(DTypeError);
    expect(() => loadTree(bytes, double)).toThrow('loadTree: tensor "embedding.weight" has dtype float32 but the template expects float64');
    // metadata the file must carry
    expect(loadTree(bytes, template, { metadata: { step: '4' } })).toBeTruthy();
    expect(() => loadTree(bytes, template, { name: 'opt', metadata: { step: '5' } })).toThrow('loadTree: opt: metadata "step" is "4" but "5" was expected');
    expect(() => loadTree(bytes, template, { metadata: { run: 'a' } })).toThrow('loadTree: metadata "run" is missing but "a" was expected');
  });

  it('refuses leaves that are not tensors, naming the path, and paths that collide', () => {
    expect(() => saveTree({ a: { b: 3 } })).toThrow(ArgumentError);
    expect(() => saveTree({ a: { b: 3 } })).toThrow('saveTree: the tree leaf "a.b" must be a Tensor, got 3');
    expect(() => saveTree({ 'a.b': f32([1]), a: { b: f32([2]) } })).toThrow('saveTree: the tree has two leaves at path "a.b"');
    expect(() => loadTree(saveTree({ w: f32([1]) }), { w: 'x' })).toThrow('loadTree: the template leaf "w" must be a Tensor, got "x"');
    expect(() => saveTree({ __metadata__: f32([1]) })).toThrow(/reserved/);
    // an undefined entry stores nothing: loading it where a tensor is expected names the missing path,
    // and a template with an undefined entry refuses a file that has a tensor there
    const partial = saveTree({ 'head.weight': f32([1]), 'head.bias': undefined });
    expect(() => loadTree(partial, { 'head.weight': zeros([1]), 'head.bias': zeros([1]) })).toThrow(
      'loadTree: tensor "head.bias" is missing; the template expects float32 [1]',
    );
    expect(() => loadTree(saveTree({ w: f32([1]), b: f32([2]) }), { w: zeros([1]), b: undefined })).toThrow(/no leaf for: "b" \(float32 \[1\]\)/);
  });

  it("restates a corrupt file's error under loadTree and the file's name", () => {
    const bytes = saveTree({ w: f32([1, 2]) });
    expect(() => loadTree(bytes.subarray(0, bytes.length - 1), { w: zeros([2]) }, { name: 'x.safetensors' })).toThrow(
      /^loadTree: x\.safetensors: tensor "w" \[0, 8\) runs past the end of the data \(7 bytes\)/,
    );
    expect(() => loadTree(bytes.subarray(0, 4), { w: zeros([2]) })).toThrow(ArgumentError);
    expect(() => loadTree(42 as never, { w: zeros([2]) })).toThrow(/loadTree: source must be safetensors bytes/);
  });

  it('changes neither the template nor the bytes', () => {
    const bytes = saveTree(params());
    const before = Array.from(bytes);
    const template = { w: zeros([3, 2]), nested: { list: [zeros([1])] } };
    const t = saveTree({ w: f32([1, 2, 3, 4, 5, 6], [3, 2]), nested: { list: [f32([7])] } });
    loadTree(t, template);
    expect(Object.isFrozen(template)).toBe(false);
    expect(Array.from(template.w.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    loadTree(bytes, params());
    expect(Array.from(bytes)).toEqual(before);
    // the same tensors through encodeSafetensors: saveTree adds nothing but the names
    expect(Array.from(saveTree({ a: f32([1]) }, { k: 'v' }))).toEqual(Array.from(encodeSafetensors({ a: f32([1]) }, { k: 'v' })));
  });
});
