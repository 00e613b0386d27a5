import { describe, expect, it } from 'vitest';
import { foldIn, randomKey, tensor, treeLeaves, valueAndGrad, type Tensor } from '@tapestry/core';
import { applyUpdates } from '@tapestry/optim';
import { bucketedBatches, encodeSources, makeBatch } from '../src/batching.js';
import { buildVocabularies, parseCmudict, readCmudict, splitWords, type Entry } from '../src/cmudict.js';
import { beamDecode, greedyDecode, score } from '../src/decode.js';
import { DEFAULT_CONFIG, initialTrainingState, makeModel, makeOptimizer, shareOf, trainLoop, type TrainConfig } from '../src/training.js';

const entries = readCmudict();
const splits = splitWords(entries, 0);
const vocab = buildVocabularies(splits.train);

describe('CMUdict', () => {
  it('parses primary pronunciations of letter words without stress', () => {
    const text = ['A  AH0', 'A(1)  EY1', "A'S  EY1 Z", 'A.  EY1', 'AARON  EH1 R AH0 N', "AARON'S(1)  ", '{BRACE  B R EY1 S', 'ZZ', ''].join('\n');
    expect(parseCmudict(text)).toEqual([
      { word: 'a', phonemes: ['AH'] },
      { word: "a's", phonemes: ['EY', 'Z'] },
      { word: 'aaron', phonemes: ['EH', 'R', 'AH', 'N'] },
    ]);
  });

  it('reads the packaged dictionary and splits the words 90/5/5, fixed by the seed and disjoint', () => {
    expect(entries.length).toBeGreaterThan(120_000);
    expect(entries.find((e) => e.word === 'pronunciation')?.phonemes.join(' ')).toBe('P R OW N AH N S IY EY SH AH N');
    const words = (es: readonly Entry[]) => es.map((e) => e.word);
    expect(splits.test.length).toBe(Math.round(entries.length * 0.05));
    expect(splits.valid.length).toBe(splits.test.length);
    expect(splits.train.length + splits.valid.length + splits.test.length).toBe(entries.length);
    const train = new Set(words(splits.train));
    expect(words(splits.test).some((w) => train.has(w))).toBe(false);
    expect(words(splits.valid).some((w) => train.has(w))).toBe(false);
    expect(words(splitWords(entries, 0).test)).toEqual(words(splits.test));
    expect(words(splitWords(entries, 1).test)).not.toEqual(words(splits.test));
    expect(vocab.phonemes.size).toBe(3 + 39);
    expect(vocab.letters.tokens.slice(1).join('')).toBe("'abcdefghijklmnopqrstuvwxyz");
  });

  it('batches words with padded, ignored targets and groups similar lengths', () => {
    const batch = makeBatch(
      [
        { word: 'ab', phonemes: ['EY', 'B'] },
        { word: 'a', phonemes: ['AH'] },
      ],
      vocab,
    );
    const id = (p: string) => vocab.phonemes.idOf(p);
    expect(batch.source.toArray()).toEqual([
      [vocab.letters.idOf('a'), vocab.letters.idOf('b')],
      [vocab.letters.idOf('a'), 0],
    ]);
    expect(batch.sourceMask.toArray()).toEqual([[[1, 1]], [[1, 0]]]);
    expect(batch.decoderInput.toArray()).toEqual([
      [id('<s>'), id('EY'), id('B')],
      [id('<s>'), id('AH'), 0],
    ]);
    expect(batch.targets.toArray()).toEqual([
      [id('EY'), id('B'), id('</s>')],
      [id('AH'), id('</s>'), -1],
    ]);
    const lengths = Array.from({ length: 1000 }, (_, i) => 1 + ((i * 7919) % 15));
    const batches = bucketedBatches(1000, 50, randomKey(3), (i) => lengths[i]!);
    expect(batches.flatMap((b) => Array.from(b)).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const spread = batches.map((b) => Math.max(...Array.from(b, (i) => lengths[i]!)) - Math.min(...Array.from(b, (i) => lengths[i]!)));
    expect(Math.max(...spread)).toBeLessThanOrEqual(1);
  });
});

describe('seq2seq model', () => {
  // Short words keep every step cheap; training words are decoded to check that the model learns them.
  const train = splits.train.filter((e) => e.word.length <= 5).slice(0, 160);
  const config: TrainConfig = { ...DEFAULT_CONFIG, embeddingDim: 16, hiddenSize: 32, batchSize: 32, lr: 2e-2, warmupSteps: 3 };
  const model = makeModel(config, vocab);

  it('masks padding: a word gets the same first-step logits alone and next to a longer word', () => {
    const params = model.init(randomKey(5));
    const firstLogits = (target: Entry, words: Entry[]): number[] => {
      const { source, sourceLengths, sourceMask } = encodeSources(words, vocab);
      const state = model.encode(params, source, sourceLengths, sourceMask);
      const tokens = new Int32Array(words.length).fill(vocab.phonemes.idOf('<s>'));
      const out = model.step(params)(tensor(tokens), state, tensor(tokens, { shape: [words.length, 1] }));
      const v = vocab.phonemes.size;
      const row = words.indexOf(target);
      return Array.from(out.logits.dataSync()).slice(row * v, (row + 1) * v);
    };
    const word = { word: 'cat', phonemes: ['K', 'AE', 'T'] };
    const long = { word: 'catastrophe', phonemes: ['K', 'AH', 'T', 'AE', 'S', 'T', 'R', 'AH', 'F', 'IY'] };
    const alone = firstLogits(word, [word]);
    const padded = firstLogits(word, [long, word]);
    expect(padded.length).toBe(vocab.phonemes.size);
    padded.forEach((v, i) => expect(v).toBeCloseTo(alone[i]!, 5));
  });

  it('is deterministic: the same seed gives identical losses', async () => {
    const optimizer = makeOptimizer(config);
    const run = async () => {
      const losses: number[] = [];
      await trainLoop(config, train, vocab, model, initialTrainingState(config, model, optimizer), { maxSteps: 3, onStep: (_s, l) => losses.push(l) });
      return losses;
    };
    expect(await run()).toEqual(await run());
  });

  it('on one thread the step is the plain eager step, bit for bit', async () => {
    const optimizer = makeOptimizer(config);
    const start = initialTrainingState(config, model, optimizer);
    const pooled = await trainLoop(config, train, vocab, model, start, { maxSteps: 2 });
    // the loop as it reads without @tapestry/parallel: valueAndGrad → update → applyUpdates
    let { params, optState } = start;
    const batches = bucketedBatches(train.length, config.batchSize, foldIn(foldIn(randomKey(config.seed), 1), 0), (i) => train[i]!.word.length);
    for (const b of batches.slice(0, 2)) {
      const [, grads] = valueAndGrad(model.loss, 0)(
        params,
        makeBatch(
          Array.from(b, (i) => train[i]!),
          vocab,
        ),
      );
      const { updates, state } = optimizer.update(grads, optState, params);
      ({ params, optState } = { params: applyUpdates(params, updates), optState: state });
    }
    expect(treeLeaves<Tensor>(pooled.params).map((t) => Array.from(t.dataSync()))).toEqual(treeLeaves<Tensor>(params).map((t) => Array.from(t.dataSync())));
  });

  it('on two threads it computes the one-thread step: the weighted mean of the shares is the batch loss', async () => {
    const optimizer = makeOptimizer(config);
    const losses = async (threads: number) => {
      const out: number[] = [];
      await trainLoop(config, train, vocab, model, initialTrainingState(config, model, optimizer), { maxSteps: 3, threads, onStep: (_s, l) => out.push(l) });
      return out;
    };
    const [one, two] = [await losses(1), await losses(2)];
    two.forEach((l, i) => expect(l).toBeCloseTo(one[i]!, 5));
  });

  it('splits a batch among threads by words, weighting each share by its targets', () => {
    const words: Entry[] = [
      { word: 'a', phonemes: ['AH'] },
      { word: 'cat', phonemes: ['K', 'AE', 'T'] },
      { word: 'dog', phonemes: ['D', 'AO', 'G'] },
    ];
    const thread = (index: number, threads: number) => ({ index, threads, mean: <T>(t: T) => t, gather: <T>(t: T) => t });
    expect(shareOf(words, thread(0, 1))).toEqual({ words, weight: 1 });
    // 3 words on 2 threads: 1 + 2 words with 2 and 8 of the 10 targets (each word's phonemes and its end token)
    expect(shareOf(words, thread(0, 2))).toEqual({ words: words.slice(0, 1), weight: (2 * 2) / 10 });
    expect(shareOf(words, thread(1, 2))).toEqual({ words: words.slice(1), weight: (2 * 8) / 10 });
    // a thread without words adds zeros to the mean
    expect(shareOf(words.slice(0, 1), thread(0, 2))).toEqual({ words: words.slice(0, 1), weight: 0 });
    expect(shareOf(words.slice(0, 1), thread(1, 2))).toEqual({ words: words.slice(0, 1), weight: 2 });
  });

  it('learns: the loss falls clearly and greedy decoding of training words improves', async () => {
    const optimizer = makeOptimizer(config);
    const start = initialTrainingState(config, model, optimizer);
    const probe = train.slice(0, 24);
    const before = score(probe, greedyDecode(model, start.params, probe, vocab));
    const losses: number[] = [];
    const end = await trainLoop(config, train, vocab, model, start, { maxSteps: 40, onStep: (_s, l) => losses.push(l) });
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 1);
    const after = score(probe, greedyDecode(model, end.params, probe, vocab));
    expect(after.per).toBeLessThan(before.per - 0.25);
    // beam search (width 1 is greedy) goes through @tapestry/data's beamSearch and must agree with greedy
    expect(beamDecode(model, end.params, probe.slice(0, 6), vocab, 1)).toEqual(greedyDecode(model, end.params, probe.slice(0, 6), vocab));
  }, 40_000);
});
