import { ArgumentError, DTypeError, expectKnownOptions, expectPositiveInteger, formatShape, gather, Tensor } from '@tapestry/core';
import type { DType, Key } from '@tapestry/core';
import { normal, type Initializer } from './init.js';
import { readStateDict, type StateDict, type StateDictInput } from './state-dict.js';

/** Options of {@link embedding}. */
export interface EmbeddingOptions {
  /** Size of the vocabulary. */
  readonly numEmbeddings: number;
  /** Features of each embedding vector. */
  readonly embeddingDim: number;
  /** Parameter dtype (default `'float32'`). */
  readonly dtype?: DType;
  /** Weight initialiser (default PyTorch's N(0, 1)). */
  readonly weightInit?: Initializer;
}

/** Parameters of an {@link embedding}: the table, [numEmbeddings, embeddingDim]. */
export interface EmbeddingParams {
  /** The embedding table, one row per id. */
  readonly weight: Tensor;
}

/** An embedding layer definition. */
export interface EmbeddingLayer {
  /** Size of the vocabulary. */
  readonly numEmbeddings: number;
  /** Features of each embedding vector. */
  readonly embeddingDim: number;
  /** Creates `{ weight }`. */
  init(key: Key): EmbeddingParams;
  /** Looks up int32 ids of any shape S: returns [...S, embeddingDim]. */
  apply(params: EmbeddingParams, ids: Tensor): Tensor;
  /** `{ weight }` under PyTorch's name. */
  toStateDict(params: EmbeddingParams): StateDict;
  /** The inverse of `toStateDict`, checking the name and shape. */
  fromStateDict(dict: StateDictInput): EmbeddingParams;
}

/**
 * PyTorch's `nn.Embedding`: a table lookup, differentiable in the table (the gradient of a row is the sum
 * of the gradients of its lookups). Ids must be int32 in 0 … numEmbeddings-1.
 * @example
 * ```ts
 * const embed = embedding({ numEmbeddings: 65, embeddingDim: 32 });
 * const vectors = embed.apply(embed.init(randomKey(0)), ids); // ids int32 [N, T] → [N, T, 32]
 * ```
 */
export function embedding(options: EmbeddingOptions): EmbeddingLayer {
  expectKnownOptions('embedding', options, ['numEmbeddings', 'embeddingDim', 'dtype', 'weightInit']);
  const numEmbeddings = expectPositiveInteger('embedding', 'numEmbeddings', options?.numEmbeddings);
  const embeddingDim = expectPositiveInteger('embedding', 'embeddingDim', options.embeddingDim);
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw new DTypeError(`embedding: dtype must be 'float32' or 'float64', got ${String(dtype)}`);
  const weightInit = options.weightInit ?? normal(0, 1);
  const expected = [{ name: 'weight', shape: [numEmbeddings, embeddingDim], dtype }];
  return {
    numEmbeddings,
    embeddingDim,
    init: (key) => Object.freeze({ weight: weightInit(key, [numEmbeddings, embeddingDim], dtype) }),
    apply: (params, ids) => {
      if (!(ids instanceof Tensor)) throw new ArgumentError(`embedding: ids must be an int32 Tensor, got ${typeof ids}`);
      if (ids.dtype !== 'int32') {
        throw new DTypeError(`embedding: ids must be int32 (token ids), got ${ids.dtype} ${formatShape(ids.shape)} (use cast(ids, 'int32'))`);
      }
      // under trace/jit the ids have no values yet, and a device's cannot be read synchronously: there the
      // kernels range-check them when they run
      const data = ids.isAbstract || ids.backend.hostView === undefined ? new Int32Array(0) : ids.dataSync();
      for (let i = 0; i < data.length; i++) {
        if (data[i]! < 0 || data[i]! >= numEmbeddings) {
          throw new ArgumentError(
            `embedding: ids contains ${data[i]} (at flat index ${i}), outside 0 … ${numEmbeddings - 1} (numEmbeddings ${numEmbeddings})` +
              (data[i]! >= numEmbeddings ? '; is the vocabulary larger than the embedding table? its numEmbeddings must be the vocabulary size' : ''),
          );
        }
      }
      return gather(params.weight, ids, 0);
    },
    toStateDict: (params) => Object.freeze({ weight: params.weight }),
    fromStateDict: (dict) => Object.freeze({ weight: readStateDict('embedding.fromStateDict', expected, dict)[0]! }),
  };
}
