import { describe, expect, it } from 'vitest';
import { cast, foldIn, randomKey, tensor, treeLeaves, valueAndGrad, type Key, type Tensor } from '@tapestry/core';
import { binaryCrossEntropyWithLogits } from '@tapestry/layers';
import { applyUpdates } from '@tapestry/optim';
import { sentenceBatches, type SentenceBatch } from '../src/batching.js';
import { prepareData, readExamples, SOURCES } from '../src/dataset.js';
import { bagOfWordsClassifier, dropWords, recurrentClassifier } from '../src/model.js';
import { evaluate, makeOptimizer, shareOf, trainClassifier, type TrainConfig } from '../src/training.js';

const examples = readExamples();
const data = prepareData(examples);
const padId = data.vocab.padId!;
const small = prepareData(examples, { maxTrain: 300 });
// a third of the validation split keeps the smoke runs fast
const smallValid = { examples: small.valid.examples.slice(0, 150), ids: small.valid.ids.slice(0, 150), labels: small.valid.labels.slice(0, 150) };

describe('sentiment data', () => {
  it('reads the 3 × 1000 labelled sentences from node_modules, balanced, without the trailing empty records', () => {
    expect(examples.length).toBe(3000);
    for (const source of SOURCES) {
      const part = examples.filter((e) => e.source === source);
      expect(part.length).toBe(1000);
      expect(part.filter((e) => e.label === 1).length).toBe(500);
    }
    expect(examples.every((e) => e.text.length > 0)).toBe(true);
  });

  it('splits 2100/450/450 with a fixed seed, disjoint, and builds the vocabulary from training sentences only', () => {
    expect([data.train.labels.length, data.valid.labels.length, data.test.labels.length]).toEqual([2100, 450, 450]);
    const texts = (s: typeof data.train) => new Set(s.examples);
    const train = texts(data.train);
    expect(data.test.examples.some((e) => train.has(e))).toBe(false);
    expect(data.valid.examples.some((e) => train.has(e))).toBe(false);
    expect(prepareData(examples).test.examples.map((e) => e.text)).toEqual(data.test.examples.map((e) => e.text));
    // words only seen outside training are <unk>
    const unk = data.vocab.unkId!;
    expect(data.test.ids.some((ids) => ids.includes(unk))).toBe(true);
    expect(small.train.labels.length).toBe(300);
    expect(small.test.examples).toEqual(data.test.examples);
  });

  it('batches every sentence exactly once at full length, padded with the padding id', () => {
    const batches = sentenceBatches(data.train.ids, { batchSize: 32, padId, key: randomKey(4) });
    const seen = batches.flatMap((b) => Array.from(b.indices)).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 2100 }, (_, i) => i));
    for (const b of batches) {
      const [n, steps] = b.ids.shape as [number, number];
      const ids = b.ids.dataSync();
      b.indices.forEach((i, row) => {
        const sentence = data.train.ids[i]!;
        expect(b.lengths[row]).toBe(sentence.length);
        expect(Array.from(ids.subarray(row * steps, row * steps + sentence.length))).toEqual(Array.from(sentence));
        expect(Array.from(ids.subarray(row * steps + sentence.length, (row + 1) * steps)).every((id) => id === padId)).toBe(true);
      });
      expect(steps).toBe(Math.max(...Array.from(b.lengths)));
      expect(n).toBe(b.indices.length);
    }
  });
});

describe('sentiment models', () => {
  it('give a sentence the same logit alone and inside a padded batch (lengths mask the padding)', () => {
    for (const pooling of ['last', 'mean', 'max', 'mean-max', 'both'] as const) {
      const model = recurrentClassifier({ vocabSize: data.vocab.size, embeddingDim: 8, hiddenSize: 6, cell: 'gru', pooling, dropout: 0 });
      const params = model.init(randomKey(1));
      const seqs = data.train.ids.slice(0, 5);
      const [batch] = sentenceBatches(seqs, { batchSize: 5, padId });
      const together = Array.from(model.logits(params, batch!).dataSync());
      seqs.forEach((seq, i) => {
        const [alone] = sentenceBatches([seq], { batchSize: 1, padId });
        expect(model.logits(params, alone!).item()).toBeCloseTo(together[i]!, 5);
      });
    }
  });

  it('word dropout turns about a fraction p of the words into <unk>, never padding, and only in training', () => {
    const unk = data.vocab.unkId!;
    const batches = sentenceBatches(data.train.ids, { batchSize: 64, padId });
    let words = 0;
    let dropped = 0;
    batches.forEach((batch, i) => {
      const steps = batch.ids.shape[1]!;
      const [before, after] = [batch.ids.dataSync(), dropWords(batch, 0.25, unk, randomKey(i)).dataSync()];
      batch.lengths.forEach((length, row) => {
        for (let t = 0; t < steps; t++) {
          const [a, b] = [before[row * steps + t]!, after[row * steps + t]!];
          if (t >= length) expect(b).toBe(padId);
          else if (b !== a) expect(b).toBe(unk);
          if (t < length && a !== unk) [words, dropped] = [words + 1, dropped + (b === unk ? 1 : 0)];
        }
      });
    });
    // 2100 sentences of about 12 words: the rate is 0.25 within a few standard errors (≈ 0.003)
    expect(Math.abs(dropped / words - 0.25)).toBeLessThan(0.015);
    // at p = 1 a training pass sees only <unk>: the same logits as an all-<unk> batch without training (no other dropout)
    const model = recurrentClassifier({
      vocabSize: data.vocab.size,
      embeddingDim: 8,
      hiddenSize: 6,
      cell: 'lstm',
      pooling: 'mean-max',
      dropout: 0,
      wordDropout: 1,
      unkId: unk,
    });
    const params = model.init(randomKey(2));
    const [batch] = sentenceBatches(data.train.ids.slice(0, 4), { batchSize: 4, padId });
    const allUnk = sentenceBatches(
      data.train.ids.slice(0, 4).map((s) => s.map(() => unk)),
      { batchSize: 4, padId },
    )[0]!;
    const trained = Array.from(model.logits(params, batch!, { training: true, key: randomKey(3) }).dataSync());
    Array.from(model.logits(params, allUnk).dataSync()).forEach((z, i) => expect(trained[i]!).toBeCloseTo(z, 6));
    expect(Array.from(model.logits(params, batch!).dataSync())).not.toEqual(trained);
    expect(() => recurrentClassifier({ vocabSize: 10, embeddingDim: 4, hiddenSize: 3, cell: 'lstm', pooling: 'max', dropout: 0, wordDropout: 0.1 })).toThrow(
      /unkId/,
    );
  });

  const config: TrainConfig = { epochs: 5, batchSize: 32, lr: 1e-2, weightDecay: 1e-2, clip: 5, patience: 5, seed: 0 };

  it('the bidirectional LSTM learns 300 sentences within a few epochs', async () => {
    const model = recurrentClassifier({ vocabSize: small.vocab.size, embeddingDim: 32, hiddenSize: 16, cell: 'lstm', pooling: 'mean', dropout: 0.2 });
    const result = await trainClassifier(model, small.train, smallValid, padId, config);
    const losses = result.history.map((r) => r.trainLoss);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! - 0.1);
    expect(evaluate(model, result.params, small.train, padId).accuracy).toBeGreaterThan(0.8);
    // and generalises above chance on held-out sentences after seeing only 300
    expect(result.bestValidAccuracy).toBeGreaterThan(0.58);
  }, 30_000);

  it('the bag-of-words baseline learns with the same code, and training is deterministic', async () => {
    const model = bagOfWordsClassifier(small.vocab.size, padId);
    const a = await trainClassifier(model, small.train, smallValid, padId, config);
    expect(evaluate(model, a.params, small.train, padId).accuracy).toBeGreaterThan(0.8);
    expect(a.bestValidAccuracy).toBeGreaterThan(0.6);
    const b = await trainClassifier(model, small.train, smallValid, padId, config);
    expect(b.history).toEqual(a.history);
  });

  it('on one thread the step is the plain eager step, bit for bit', async () => {
    const model = recurrentClassifier({
      vocabSize: small.vocab.size,
      embeddingDim: 8,
      hiddenSize: 6,
      cell: 'gru',
      pooling: 'mean-max',
      dropout: 0.2,
      wordDropout: 0.25,
      unkId: small.vocab.unkId!,
    });
    const pooled = await trainClassifier(model, small.train, smallValid, padId, { ...config, epochs: 1 });
    // the loop as it reads without @tapestry/parallel: valueAndGrad → update → applyUpdates
    const root = randomKey(config.seed);
    let params = model.init(foldIn(root, 0));
    const optimizer = makeOptimizer(config);
    let optState = optimizer.init(params);
    const lossAndGrad = valueAndGrad((p: typeof params, batch: SentenceBatch, labels: Tensor, key: Key) =>
      binaryCrossEntropyWithLogits(model.logits(p, batch, { training: true, key }), labels),
    );
    sentenceBatches(small.train.ids, { batchSize: config.batchSize, padId, key: foldIn(foldIn(root, 1), 1) }).forEach((batch, step) => {
      const labels = cast(tensor(Int32Array.from(batch.indices, (i) => small.train.labels[i]!)), 'float32');
      const [, grads] = lossAndGrad(params, batch, labels, foldIn(foldIn(root, 2), step));
      const { updates, state } = optimizer.update(grads, optState, params);
      ({ params, optState } = { params: applyUpdates(params, updates), optState: state });
    });
    const values = (tree: unknown) => treeLeaves<Tensor>(tree).map((t) => Array.from(t.dataSync()));
    expect(values(pooled.params)).toEqual(values(params));
  });

  it('on two threads it computes the one-thread steps (without dropout, whose masks are drawn per thread)', async () => {
    const model = recurrentClassifier({ vocabSize: small.vocab.size, embeddingDim: 8, hiddenSize: 6, cell: 'lstm', pooling: 'mean-max', dropout: 0 });
    const one = await trainClassifier(model, small.train, smallValid, padId, { ...config, epochs: 2 });
    const two = await trainClassifier(model, small.train, smallValid, padId, { ...config, epochs: 2 }, { threads: 2 });
    two.history.forEach((r, i) => {
      expect(r.trainLoss).toBeCloseTo(one.history[i]!.trainLoss, 5);
      expect(r.trainAccuracy).toBe(one.history[i]!.trainAccuracy);
    });
  });

  it('shares a batch among threads by rows, weighting each share by its size', () => {
    const thread = (index: number, threads: number) => ({ index, threads, mean: <T>(t: T) => t, gather: <T>(t: T) => t });
    const indices = Int32Array.from([7, 3, 5]);
    expect(shareOf(indices, thread(0, 1))).toEqual({ indices, weight: 1 });
    expect(shareOf(indices, thread(0, 2))).toEqual({ indices: Int32Array.from([7]), weight: 2 / 3 });
    expect(shareOf(indices, thread(1, 2))).toEqual({ indices: Int32Array.from([3, 5]), weight: 4 / 3 });
    // a thread without rows adds zeros to the mean
    expect(shareOf(indices.subarray(0, 1), thread(0, 2))).toEqual({ indices: Int32Array.from([7]), weight: 0 });
  });
});
