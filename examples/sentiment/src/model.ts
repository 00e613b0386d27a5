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
 * over time divided by the length is the mean over valid steps); `max` takes each feature's largest value over
 * the sentence's words (padded steps are pushed to -1e9 first, so they never win); `mean-max` and `both`
 * concatenate mean and max, or last and mean (4H features). The CLI defaults to `mean-max`: it had the best
 * validation accuracy over seeds (see the README); a max over time can let one strongly worded phrase decide a
 * feature wherever it sits, while the mean keeps every word's output in view.
 *
 * Word dropout. In training, each word of a sentence is replaced by `<unk>` with probability `wordDropout`, so
 * the model learns to classify a sentence from the words it knows when some are unknown — as validation and
 * test sentences are, since their words never seen in training are `<unk>` — and cannot lean on any single
 * word.
 */
import { add, ArgumentError, concat, div, foldIn, max, reshape, splitKey, sum, tensor, transpose, uniform, type Key, type Tensor } from '@tapestry/core';
import { dropout, embedding, gru, linear, lstm, type GatedCellParams, type RecurrentParams } from '@tapestry/layers';
import type { SentenceBatch } from './batching.js';

/**
 * A classifier as plain data: what each thread of a training pool builds its copy from with
 * {@link classifierOf} (functions cannot be sent to another thread).
 */
export type ClassifierSpec =
  | { readonly kind: 'recurrent'; readonly config: RecurrentClassifierConfig }
  | { readonly kind: 'bag-of-words'; readonly vocabSize: number; readonly padId: number };

/** A binary classifier: parameters from a key, and one logit per sentence of a batch. */
export interface Classifier<P> {
  /** A short name for reports and plots. */
  readonly name: string;
  /** How to build it again (on another thread). */
  readonly spec: ClassifierSpec;
  init(key: Key): P;
  /** Logits [N] (positive means "positive sentiment"); `training` enables dropout, drawn from `key`. */
  logits(params: P, batch: SentenceBatch, options?: { readonly training?: boolean; readonly key?: Key }): Tensor;
}

/** Recurrent cells the classifier can use. */
type CellType = 'lstm' | 'gru';

/** How the outputs over time become one sentence vector; see the module comment. */
type Pooling = 'last' | 'mean' | 'max' | 'mean-max' | 'both';

// the 2H-feature summaries each pooling concatenates, in order
const POOLED: Record<Pooling, readonly ('last' | 'mean' | 'max')[]> = {
  last: ['last'],
  mean: ['mean'],
  max: ['max'],
  'mean-max': ['mean', 'max'],
  both: ['last', 'mean'],
};

/** The recurrent classifier's shape. */
export interface RecurrentClassifierConfig {
  readonly vocabSize: number;
  readonly embeddingDim: number;
  readonly hiddenSize: number;
  readonly cell: CellType;
  readonly pooling: Pooling;
  /** Dropout on the word embeddings and on the pooled vector, in training only. */
  readonly dropout: number;
  /** In training, each word is replaced by `unkId` with this probability (word dropout; default 0, none). */
  readonly wordDropout?: number;
  /** The vocabulary's `<unk>` id; required when `wordDropout` > 0. */
  readonly unkId?: number;
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
  const parts = POOLED[config.pooling];
  const head = linear({ inFeatures: parts.length * 2 * config.hiddenSize, outFeatures: 1 });
  const H = config.hiddenSize;
  const wordDropout = config.wordDropout ?? 0;
  if (wordDropout > 0 && config.unkId === undefined) {
    throw new ArgumentError(
      `recurrentClassifier: wordDropout is ${wordDropout} but unkId is missing; pass the vocabulary's <unk> id, which dropped words become`,
    );
  }

  return {
    name: `bi-${config.cell}`,
    spec: { kind: 'recurrent', config },
    init: (key) => {
      const [k1, k2, k3] = splitKey(key, 3) as [Key, Key, Key];
      return { embedding: embed.init(k1), rnn: layer.init(k2), head: head.init(k3) };
    },
    logits: (params, batch, options = {}) => {
      const training = options.training ?? false;
      const drop = (x: Tensor, i: number) => (training && config.dropout > 0 ? dropout(x, config.dropout, { key: foldIn(options.key!, i) }) : x);
      const n = batch.lengths.length;
      const ids = training && wordDropout > 0 ? dropWords(batch, wordDropout, config.unkId!, foldIn(options.key!, 2)) : batch.ids;
      const x = drop(embed.apply(params.embedding, ids), 0);
      const { output, state } = layer.apply(params.rnn, x, { lengths: Array.from(batch.lengths) });
      const pooled = parts.map((part) => {
        if (part === 'last') return reshape(transpose(state.h, [1, 0, 2]), [n, 2 * H]); // [2, N, H] → [N, 2H]: forward, reverse
        if (part === 'mean') return div(sum(output, 1), tensor(Float32Array.from(batch.lengths), { shape: [n, 1] }));
        return max(add(output, paddingMask(batch)), 1);
      });
      const features = drop(pooled.length === 1 ? pooled[0]! : concat(pooled, 1), 1);
      return reshape(head.apply(params.head, features), [n]);
    },
  };
}

/** [N, T, 1]: 0 at a sentence's words, -1e9 at padded steps, so a max over time never picks padding (whose output is 0). */
function paddingMask(batch: SentenceBatch): Tensor {
  const [n, steps] = [batch.ids.shape[0]!, batch.ids.shape[1]!];
  const mask = new Float32Array(n * steps);
  for (let b = 0; b < n; b++) mask.fill(-1e9, b * steps + batch.lengths[b]!, (b + 1) * steps);
  return tensor(mask, { shape: [n, steps, 1] });
}

/** Word dropout: the batch's ids with each word replaced by `unkId` with probability `p`, drawn from `key` (padding is left alone). */
export function dropWords(batch: SentenceBatch, p: number, unkId: number, key: Key): Tensor {
  const [n, steps] = [batch.ids.shape[0]!, batch.ids.shape[1]!];
  const ids = Int32Array.from(batch.ids.dataSync());
  const u = uniform(key, [n, steps], { dtype: 'float32' }).dataSync();
  for (let b = 0; b < n; b++) for (let t = 0; t < batch.lengths[b]!; t++) if (u[b * steps + t]! < p) ids[b * steps + t] = unkId;
  return tensor(ids, { shape: [n, steps] });
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
function bagOfWords(batch: SentenceBatch, vocabSize: number, padId: number): Tensor {
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
    spec: { kind: 'bag-of-words', vocabSize, padId },
    init: (key) => head.init(key),
    logits: (params, batch) => reshape(head.apply(params, bagOfWords(batch, vocabSize, padId)), [batch.lengths.length]),
  };
}

/** The classifier `spec` describes. */
export function classifierOf(spec: ClassifierSpec): Classifier<any> {
  return spec.kind === 'recurrent' ? recurrentClassifier(spec.config) : bagOfWordsClassifier(spec.vocabSize, spec.padId);
}
