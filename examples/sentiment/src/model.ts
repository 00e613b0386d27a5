/**
 * The two classifiers, as pure functions of a parameter tree behind one small interface, so the same training
 * code fits both:
 *
 * - the recurrent model: word ids → embedding → dropout → bidirectional LSTM or GRU over each sentence's true
 *   length → a fixed-size sentence vector (pooling, below) → dropout → linear → one logit;
 * - the baseline: logistic regression, a linear layer over the sentence's binary bag-of-words vector.
 *
 * Pooling. `last` concatenates the forward direction's state after the sentence's last word with the reverse
 * direction's state after its first word (both directions have then read the whole sentence); `mean` averages
 * the 2H-feature outputs over the sentence's words (padded steps are exactly 0 in the layer's output, so a sum
 * over time divided by the length is the mean over valid steps); `both` concatenates the two (4H features).
 * The CLI defaults to `mean`: on these short sentences it generalised best (see the README), as every word's
 * output gets a direct gradient instead of reaching the loss only through the final states.
 */
import { concat, div, foldIn, reshape, splitKey, sum, tensor, transpose, type Key, type Tensor } from '@tapestry/core';
import { dropout, embedding, gru, linear, lstm, type GatedCellParams, type RecurrentParams } from '@tapestry/layers';
import type { SentenceBatch } from './batching.js';

/** A binary classifier: parameters from a key, and one logit per sentence of a batch. */
export interface Classifier<P> {
  /** A short name for reports and plots. */
  readonly name: string;
  init(key: Key): P;
  /** Logits [N] (positive means "positive sentiment"); `training` enables dropout, drawn from `key`. */
  logits(params: P, batch: SentenceBatch, options?: { readonly training?: boolean; readonly key?: Key }): Tensor;
}

/** Recurrent cells the classifier can use. */
export type CellType = 'lstm' | 'gru';

/** How the outputs over time become one sentence vector; see the module comment. */
export type Pooling = 'last' | 'mean' | 'both';

/** The recurrent classifier's shape. */
export interface RecurrentClassifierConfig {
  readonly vocabSize: number;
  readonly embeddingDim: number;
  readonly hiddenSize: number;
  readonly cell: CellType;
  readonly pooling: Pooling;
  /** Dropout on the word embeddings and on the pooled vector, in training only. */
  readonly dropout: number;
}

/** Parameters of the recurrent classifier. */
export interface RecurrentClassifierParams {
  readonly embedding: { readonly weight: Tensor };
  readonly rnn: RecurrentParams<GatedCellParams>;
  readonly head: { readonly weight: Tensor; readonly bias?: Tensor };
}

/** The bidirectional recurrent classifier (one layer); see the module comment. */
export function recurrentClassifier(config: RecurrentClassifierConfig): Classifier<RecurrentClassifierParams> {
  const embed = embedding({ numEmbeddings: config.vocabSize, embeddingDim: config.embeddingDim });
  const layerOptions = { inputSize: config.embeddingDim, hiddenSize: config.hiddenSize, bidirectional: true };
  const layer = config.cell === 'lstm' ? lstm(layerOptions) : gru(layerOptions);
  const pooledSize = (config.pooling === 'both' ? 4 : 2) * config.hiddenSize;
  const head = linear({ inFeatures: pooledSize, outFeatures: 1 });
  const H = config.hiddenSize;

  return {
    name: `bi-${config.cell}`,
    init: (key) => {
      const [k1, k2, k3] = splitKey(key, 3) as [Key, Key, Key];
      return { embedding: embed.init(k1), rnn: layer.init(k2), head: head.init(k3) };
    },
    logits: (params, batch, options = {}) => {
      const training = options.training ?? false;
      const drop = (x: Tensor, i: number) =>
        training && config.dropout > 0 ? dropout(x, config.dropout, { key: foldIn(options.key!, i) }) : x;
      const n = batch.lengths.length;
      const x = drop(embed.apply(params.embedding, batch.ids), 0);
      const { output, state } = layer.apply(params.rnn, x, { lengths: Array.from(batch.lengths) });
      const pooled: Tensor[] = [];
      if (config.pooling !== 'mean') pooled.push(reshape(transpose(state.h, [1, 0, 2]), [n, 2 * H])); // [2, N, H] → [N, 2H]: forward, reverse
      if (config.pooling !== 'last') {
        const lengths = tensor(Float32Array.from(batch.lengths), { shape: [n, 1] });
        pooled.push(div(sum(output, 1), lengths));
      }
      const features = drop(pooled.length === 1 ? pooled[0]! : concat(pooled, 1), 1);
      return reshape(head.apply(params.head, features), [n]);
    },
  };
}

/** Parameters of the bag-of-words baseline: one weight per vocabulary word and a bias. */
export interface BagOfWordsParams {
  readonly weight: Tensor;
  readonly bias?: Tensor;
}

/**
 * Binary bag-of-words vectors [N, V] of a batch: entry (n, w) is 1 when word id w occurs in sentence n.
 * Padding never counts.
 */
export function bagOfWords(batch: SentenceBatch, vocabSize: number, padId: number): Tensor {
  const [n, steps] = [batch.ids.shape[0]!, batch.ids.shape[1]!];
  const ids = batch.ids.dataSync();
  const out = new Float32Array(n * vocabSize);
  for (let b = 0; b < n; b++) {
    for (let t = 0; t < batch.lengths[b]!; t++) {
      const id = ids[b * steps + t]!;
      if (id !== padId) out[b * vocabSize + id] = 1;
    }
  }
  return tensor(out, { shape: [n, vocabSize] });
}

/** Logistic regression on binary bag-of-words vectors: the baseline, trained by the same code as the recurrent model. */
export function bagOfWordsClassifier(vocabSize: number, padId: number): Classifier<BagOfWordsParams> {
  const head = linear({ inFeatures: vocabSize, outFeatures: 1 });
  return {
    name: 'bag-of-words',
    init: (key) => head.init(key),
    logits: (params, batch) => reshape(head.apply(params, bagOfWords(batch, vocabSize, padId)), [batch.lengths.length]),
  };
}
