/** Bad input to @tapestry/data: vocabularies, batching, padding, shuffling, safetensors, sampling and decoding. */
import { describe, expect, it } from 'vitest';
import { ArgumentError, DTypeError, full, randomKey, ShapeError, tensor, zeros, type Tensor } from '@tapestry/core';
import {
  batchIndices,
  batchify,
  beamSearch,
  bpttWindows,
  classificationBatches,
  decodeSafetensors,
  encodeSafetensors,
  generate,
  getBatch,
  padSequences,
  permutation,
  reorderState,
  sampleLogits,
  splitByPosition,
  tokenizeWords,
  Vocabulary,
  type DecodeStep,
} from '@tapestry/data';
import { badInputCases, type BadInputCase } from './cases.js';

const key = randomKey(0);
const vocab = new Vocabulary(['a', 'b', 'c', 'd', 'e']);
const state = {
  h: tensor([
    [1, 2],
    [3, 4],
  ]),
};
const indices = [0.5, 1];
const seqs = [[1, 2], [3]];
const labels = [0, 1];
const logits = tensor([[1, 2, 3]]);
const source = batchify([1, 2, 3, 4, 5, 6], 2);
/** A step whose logits are `value` everywhere in row `bad`, finite elsewhere. */
const stepWith =
  (value: number, bad = 0): DecodeStep<Record<string, never>> =>
  (tokens, s) => {
    const rows = tokens.shape[0]!;
    const data = new Float32Array(rows * 4).fill(0.5);
    data.fill(value, bad * 4, bad * 4 + 4);
    return { logits: tensor(data, { shape: [rows, 4] }), state: s };
  };
const beam = { initialState: {}, startToken: 0, endToken: 3, beamWidth: 2, maxLength: 4 };

const cases: BadInputCase[] = [
  // beamSearch: a NaN or all −∞ row used to end the search with [] and no word
  {
    name: 'beamSearch(step with NaN logits)',
    fn: 'beamSearch',
    run: () => beamSearch({ ...beam, step: stepWith(NaN) }),
    error: ArgumentError,
    mentions: ['row 0', 'NaN', 'index 0'],
  },
  {
    name: 'beamSearch(step with all −Infinity logits)',
    fn: 'beamSearch',
    run: () => beamSearch({ ...beam, step: stepWith(-Infinity) }),
    error: ArgumentError,
    mentions: ['row 0', '-Infinity'],
  },
  {
    name: 'beamSearch(step with +Infinity logits)',
    fn: 'beamSearch',
    run: () => beamSearch({ ...beam, step: stepWith(Infinity) }),
    error: ArgumentError,
    mentions: ['row 0', 'Infinity'],
  },
  {
    name: 'beamSearch(step with NaN in the second live row)',
    fn: 'beamSearch',
    run: () => beamSearch({ ...beam, step: (t, s, p) => (t.shape[0] === 1 ? stepWith(0)(t, s, p) : stepWith(NaN, 1)(t, s, p)) }),
    error: ArgumentError,
    mentions: ['row 1', 'length 2'],
  },
  {
    name: 'beamSearch({ beamWidth: 0 })',
    fn: 'beamSearch',
    run: () => beamSearch({ ...beam, beamWidth: 0, step: stepWith(0) }),
    error: ArgumentError,
    mentions: ['options.beamWidth', '0'],
  },
  {
    name: 'beamSearch({ step: "f" })',
    fn: 'beamSearch',
    run: () => beamSearch({ ...beam, step: 'f' as never }),
    error: ArgumentError,
    mentions: ['options.step', '"f"'],
  },
  {
    name: 'beamSearch(step returning [2, 4] logits for 1 sequence)',
    fn: 'beamSearch',
    run: () => beamSearch({ ...beam, step: (_t, s) => ({ logits: zeros([2, 4]), state: s }) }),
    error: ShapeError,
    mentions: ['[2, 4]', '[1, V]'],
  },
  // reorderState: fractional indices used to be truncated
  {
    name: 'reorderState(state, [0.5, 1])',
    fn: 'reorderState',
    held: [state, indices],
    run: () => reorderState(state, indices),
    error: ArgumentError,
    mentions: ['indices[0]', '0.5'],
  },
  {
    name: 'reorderState(state, [0, -1])',
    fn: 'reorderState',
    held: [state],
    run: () => reorderState(state, [0, -1]),
    error: ArgumentError,
    mentions: ['indices[1]', '-1'],
  },
  {
    name: 'reorderState(state, [2 ** 32])',
    fn: 'reorderState',
    held: [state],
    run: () => reorderState(state, [2 ** 32]),
    error: ArgumentError,
    mentions: ['indices[0]', '4294967296'],
  },
  {
    name: 'reorderState(state, [0, 2])',
    fn: 'reorderState',
    held: [state],
    run: () => reorderState(state, [0, 2]),
    error: ShapeError,
    mentions: ['indices[1] = 2', '[2, 2]'],
  },
  {
    name: 'reorderState(state, 1)',
    fn: 'reorderState',
    held: [state],
    run: () => reorderState(state, 1 as never),
    error: ArgumentError,
    mentions: ['indices', '1'],
  },
  {
    name: 'reorderState(state, [0, 1], 0.5)',
    fn: 'reorderState',
    held: [state],
    run: () => reorderState(state, [0, 1], 0.5),
    error: ArgumentError,
    mentions: ['axis', '0.5'],
  },
  {
    name: 'reorderState(state, [0], 2)',
    fn: 'reorderState',
    held: [state],
    run: () => reorderState(state, [0], 2),
    error: ShapeError,
    mentions: ['axis 2', '[2, 2]'],
  },
  // sampling and generation
  {
    name: 'sampleLogits(5, logits): reported as sampleLogits',
    fn: 'sampleLogits',
    held: [logits],
    run: () => sampleLogits(5 as never, logits),
    error: ArgumentError,
    mentions: ['key', '5'],
  },
  {
    name: 'sampleLogits(key, NaN row)',
    fn: 'sampleLogits',
    run: () =>
      sampleLogits(
        key,
        tensor([
          [1, 2],
          [NaN, 0],
        ]),
      ),
    error: ArgumentError,
    mentions: ['row 1', 'NaN'],
  },
  {
    name: 'sampleLogits(key, [1, 0] logits)',
    fn: 'sampleLogits',
    run: () => sampleLogits(key, zeros([1, 0])),
    error: ShapeError,
    mentions: ['[1, 0]', 'V ≥ 1'],
  },
  {
    name: 'sampleLogits(key, int32 logits)',
    fn: 'sampleLogits',
    run: () => sampleLogits(key, tensor([[1, 2]], { dtype: 'int32' })),
    error: DTypeError,
    mentions: ['int32'],
  },
  {
    name: 'sampleLogits(key, logits, { temperature: 0 })',
    fn: 'sampleLogits',
    held: [logits],
    run: () => sampleLogits(key, logits, { temperature: 0 }),
    error: ArgumentError,
    mentions: ['temperature', '0', 'greedy'],
  },
  {
    name: 'sampleLogits(key, logits, { topK: 0 })',
    fn: 'sampleLogits',
    held: [logits],
    run: () => sampleLogits(key, logits, { topK: 0 }),
    error: ArgumentError,
    mentions: ['topK', '0'],
  },
  {
    name: 'sampleLogits(key, logits, { topP: 1.5 })',
    fn: 'sampleLogits',
    held: [logits],
    run: () => sampleLogits(key, logits, { topP: 1.5 }),
    error: ArgumentError,
    mentions: ['topP', '1.5'],
  },
  {
    name: 'sampleLogits(key, logits, { greedy: "yes" })',
    fn: 'sampleLogits',
    held: [logits],
    run: () => sampleLogits(key, logits, { greedy: 'yes' as never }),
    error: ArgumentError,
    mentions: ['greedy', '"yes"'],
  },
  {
    name: 'generate({ maxLength: -1 })',
    fn: 'generate',
    run: () => generate({ step: stepWith(0), initialState: {}, prompt: [0], key, maxLength: -1 }),
    error: ArgumentError,
    mentions: ['options.maxLength', '-1'],
  },
  {
    name: 'generate({ prompt: [] })',
    fn: 'generate',
    run: () => generate({ step: stepWith(0), initialState: {}, prompt: [], key, maxLength: 2 }),
    error: ArgumentError,
    mentions: ['options.prompt', 'non-empty'],
  },
  {
    name: 'generate({ prompt: [1.5] })',
    fn: 'generate',
    run: () => generate({ step: stepWith(0), initialState: {}, prompt: [1.5], key, maxLength: 2 }),
    error: ArgumentError,
    mentions: ['options.prompt[0]', '1.5'],
  },
  {
    name: 'generate({ key: 5 })',
    fn: 'generate',
    run: () => generate({ step: stepWith(0), initialState: {}, prompt: [0], key: 5 as never, maxLength: 2 }),
    error: ArgumentError,
    mentions: ['options.key', '5'],
  },
  {
    name: 'generate({ sampling: { topK: 0 } })',
    fn: 'generate',
    run: () => generate({ step: stepWith(0), initialState: {}, prompt: [0], key, maxLength: 2, sampling: { topK: 0 } }),
    error: ArgumentError,
    mentions: ['options.sampling.topK', '0'],
  },
  {
    name: 'generate(step with NaN logits)',
    fn: 'generate',
    run: () => generate({ step: stepWith(NaN), initialState: {}, prompt: [0], key, maxLength: 2 }),
    error: ArgumentError,
    mentions: ['row 0', 'NaN'],
  },
  // vocabularies: encode reports as encode; an id past the vocabulary hints at a head/vocabulary mismatch
  {
    name: 'vocab.encode("abz")',
    fn: 'Vocabulary.encode',
    run: () => vocab.encode('abz'),
    error: ArgumentError,
    mentions: ['"z"', 'character 2'],
    absent: ['idOf'],
  },
  { name: 'vocab.encode(["a", "zz"])', fn: 'Vocabulary.encode', run: () => vocab.encode(['a', 'zz']), error: ArgumentError, mentions: ['token 1', '"zz"'] },
  { name: 'vocab.encode([1])', fn: 'Vocabulary.encode', run: () => vocab.encode([1] as never), error: ArgumentError, mentions: ['token 0', 'string', '1'] },
  { name: 'vocab.encode(null)', fn: 'Vocabulary.encode', run: () => vocab.encode(null as never), error: ArgumentError, mentions: ['tokens', 'null'] },
  { name: 'vocab.idOf("z")', fn: 'Vocabulary.idOf', run: () => vocab.idOf('z'), error: ArgumentError, mentions: ['"z"'] },
  {
    name: 'vocab.decode([5]): an id from a head one larger',
    fn: 'Vocabulary.decode',
    run: () => vocab.decode([5]),
    error: ArgumentError,
    mentions: ['ids[0] = 5', 'size 5', 'output layer'],
  },
  {
    name: 'vocab.decode([1.5])',
    fn: 'Vocabulary.decode',
    run: () => vocab.decode([1.5]),
    error: ArgumentError,
    mentions: ['ids[0] = 1.5'],
    absent: ['output layer'],
  },
  { name: 'vocab.decode(float tensor)', fn: 'Vocabulary.decode', run: () => vocab.decode(tensor([1])), error: DTypeError, mentions: ['int32', 'float32'] },
  { name: 'vocab.tokenOf(1.5)', fn: 'Vocabulary.tokenOf', run: () => vocab.tokenOf(1.5), error: ArgumentError, mentions: ['id', '1.5'] },
  {
    name: 'new Vocabulary(tokens, { unkToken: "a" }): unknown option',
    fn: 'Vocabulary',
    run: () => new Vocabulary(['a'], { unkToken: 'a' } as never),
    error: ArgumentError,
    mentions: ['unknown option "unkToken"', 'unk, pad'],
  },
  {
    name: 'vocab.decode([0], { skipPad: "yes" })',
    fn: 'Vocabulary.decode',
    run: () => vocab.decode([0], { skipPad: 'yes' as never }),
    error: ArgumentError,
    mentions: ['options.skipPad', '"yes"'],
  },
  { name: 'new Vocabulary(["a", "a"])', fn: 'Vocabulary', run: () => new Vocabulary(['a', 'a']), error: ArgumentError, mentions: ['"a"', 'twice'] },
  { name: 'tokenizeWords(5)', fn: 'tokenizeWords', run: () => tokenizeWords(5 as never), error: ArgumentError, mentions: ['text', '5'] },
  // batching: classificationBatches reports as itself, indexing seqs as the caller does
  {
    name: 'classificationBatches(seqs, labels)',
    fn: 'classificationBatches',
    held: [seqs, labels],
    run: () => classificationBatches(seqs, labels, undefined as never),
    error: ArgumentError,
    mentions: ['options', 'undefined'],
  },
  {
    name: 'classificationBatches(…, { batchSize: 0, padId: 0 })',
    fn: 'classificationBatches',
    held: [seqs, labels],
    run: () => classificationBatches(seqs, labels, { batchSize: 0, padId: 0 }),
    error: ArgumentError,
    mentions: ['options.batchSize', '0'],
    absent: ['batchIndices'],
  },
  {
    name: 'classificationBatches(…, { batchSize: 1 }) without padId',
    fn: 'classificationBatches',
    held: [seqs, labels],
    run: () => classificationBatches(seqs, labels, { batchSize: 1 } as never),
    error: ArgumentError,
    mentions: ['options.padId', 'undefined'],
    absent: ['padSequences'],
  },
  {
    name: 'classificationBatches([[1], [2.5]], …)',
    fn: 'classificationBatches',
    run: () => classificationBatches([[1], [2.5]], labels, { batchSize: 1, padId: 0, key }),
    error: ArgumentError,
    mentions: ['seqs[1][0]', '2.5'],
  },
  {
    name: 'classificationBatches(…, { dropLast: 1 })',
    fn: 'classificationBatches',
    held: [seqs, labels],
    run: () => classificationBatches(seqs, labels, { batchSize: 1, padId: 0, dropLast: 1 as never }),
    error: ArgumentError,
    mentions: ['options.dropLast', '1'],
  },
  {
    name: 'classificationBatches(seqs, [0])',
    fn: 'classificationBatches',
    held: [seqs],
    run: () => classificationBatches(seqs, [0], { batchSize: 1, padId: 0 }),
    error: ArgumentError,
    mentions: ['2 sequences', '1 labels'],
  },
  { name: 'batchIndices(3, 0)', fn: 'batchIndices', run: () => batchIndices(3, 0), error: ArgumentError, mentions: ['batchSize', '0'] },
  { name: 'batchify([1, 2, 3], 0)', fn: 'batchify', run: () => batchify([1, 2, 3], 0), error: ArgumentError, mentions: ['batchSize', '0'] },
  { name: 'getBatch(source, 5, 2)', fn: 'getBatch', held: [source], run: () => getBatch(source, 5, 2), error: ArgumentError, mentions: ['i', '5'] },
  {
    name: 'bpttWindows(source, 0)',
    fn: 'bpttWindows',
    held: [source],
    run: () => [...bpttWindows(source, 0)],
    error: ArgumentError,
    mentions: ['seqLen', '0'],
  },
  {
    name: 'padSequences(seqs, {})',
    fn: 'padSequences',
    held: [seqs],
    run: () => padSequences(seqs, {} as never),
    error: ArgumentError,
    mentions: ['options.padId', 'undefined'],
  },
  {
    name: 'padSequences([[1, -2]], { padId: 0 })',
    fn: 'padSequences',
    run: () => padSequences([[1, -2]], { padId: 0 }),
    error: ArgumentError,
    mentions: ['seqs[0][1]', '-2'],
  },
  {
    name: 'permutation(5, 3): reported as permutation',
    fn: 'permutation',
    run: () => permutation(5 as never, 3),
    error: ArgumentError,
    mentions: ['key', '5'],
    absent: ['uniform'],
  },
  {
    name: 'batchIndices(3, 1, { key: 5 })',
    fn: 'batchIndices',
    run: () => batchIndices(3, 1, { key: 5 as never }),
    error: ArgumentError,
    mentions: ['options.key', '5'],
    absent: ['uniform'],
  },
  { name: 'permutation(key, -1)', fn: 'permutation', run: () => permutation(key, -1), error: ArgumentError, mentions: ['n', '-1'] },
  {
    name: 'splitByPosition([1, 2, 3], [0.5, 0.6])',
    fn: 'splitByPosition',
    run: () => splitByPosition([1, 2, 3], [0.5, 0.6]),
    error: ArgumentError,
    mentions: ['fractions', '1.1'],
  },
  // safetensors
  {
    name: 'encodeSafetensors({ a: 5 })',
    fn: 'encodeSafetensors',
    run: () => encodeSafetensors({ a: 5 } as never),
    error: ArgumentError,
    mentions: ['tensors["a"]', '5'],
  },
  {
    name: 'decodeSafetensors(3 bytes)',
    fn: 'decodeSafetensors',
    run: () => decodeSafetensors(new Uint8Array(3)),
    error: ArgumentError,
    mentions: ['3 bytes', 'header'],
  },
];

describe('bad input: data', () => {
  badInputCases(cases);

  it('beamSearch with finite logits still returns hypotheses', () => {
    const hypotheses = beamSearch({ ...beam, step: stepWith(0) });
    expect(hypotheses.length).toBe(2);
  });

  it('reorderState with integer indices gathers', () => {
    expect((reorderState(state, [1, 1, 0]).h as Tensor).toArray()).toEqual([
      [3, 4],
      [3, 4],
      [1, 2],
    ]);
  });

  it('a one-token-short vocabulary against a model head is caught where the ids meet it', () => {
    const head = full([1, 6], 0); // six classes, a five-token vocabulary
    const id = sampleLogits(key, head, { greedy: true }).dataSync()[0]!;
    expect(id).toBe(0); // in range here; the highest class is not:
    expect(() => vocab.decode([5])).toThrow(/output layer and this vocabulary differ in size/);
  });
});
