/**
 * The character language model: embedding → recurrent stack (LSTM, GRU or tanh RNN) → linear head over the
 * vocabulary. Pure functions of a parameter tree, like everything in tapestry.
 */
import { foldIn, reshape, type DType, type Key, type KeyLike, type Tensor, splitKey } from '@tapestry/core';
import {
  crossEntropy,
  dropout,
  embedding,
  gru,
  linear,
  lstm,
  rnn,
  type CellState,
  type GatedCellParams,
  type RecurrentLayer,
  type RecurrentParams,
  type StateDict,
} from '@tapestry/layers';

/** The kinds of recurrent cell the model can use. */
export type CellType = 'lstm' | 'gru' | 'rnn';

/** The model's shape. */
export interface ModelConfig {
  readonly vocabSize: number;
  readonly embeddingDim: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly cell: CellType;
  /** Dropout on the embeddings, between recurrent layers and on the last layer's output while training. */
  readonly dropout: number;
  readonly dtype: DType;
}

/** The recurrent state carried between windows: `h` (and `c` for an LSTM), each [layers, N, H]. */
export type CarriedState = { readonly h: Tensor; readonly c?: Tensor };

/** The parameter tree. */
export interface ModelParams {
  readonly embedding: { readonly weight: Tensor };
  readonly rnn: RecurrentParams<GatedCellParams>;
  readonly head: { readonly weight: Tensor; readonly bias?: Tensor };
}

// The three built-in layers share their parameter layout; their states differ only by the LSTM's `c`.
function recurrentLayer(config: ModelConfig): RecurrentLayer<GatedCellParams, CellState> {
  const options = {
    inputSize: config.embeddingDim,
    hiddenSize: config.hiddenSize,
    numLayers: config.numLayers,
    dropout: config.dropout,
    dtype: config.dtype,
  };
  if (config.cell === 'lstm') return lstm(options) as RecurrentLayer<GatedCellParams, CellState>;
  if (config.cell === 'gru') return gru(options) as unknown as RecurrentLayer<GatedCellParams, CellState>;
  return rnn({ ...options, nonlinearity: 'tanh' }) as unknown as RecurrentLayer<GatedCellParams, CellState>;
}

/** How a forward pass runs: `training` turns dropout on, drawing its masks from `key` (a Key or a key tensor). */
export interface ApplyOptions {
  readonly training?: boolean;
  readonly key?: KeyLike;
}

/**
 * Builds the model's functions for a configuration. Dropout sits where PyTorch's word_language_model puts
 * it: on the embeddings, between recurrent layers and on the recurrent output before the head.
 */
export function charModel(config: ModelConfig) {
  const embed = embedding({ numEmbeddings: config.vocabSize, embeddingDim: config.embeddingDim, dtype: config.dtype });
  const layer = recurrentLayer(config);
  const head = linear({ inFeatures: config.hiddenSize, outFeatures: config.vocabSize, dtype: config.dtype });

  /** Fresh parameters (PyTorch's default initialisation for each part). */
  const init = (key: Key): ModelParams => {
    const [k1, k2, k3] = splitKey(key, 3);
    return { embedding: embed.init(k1!), rnn: layer.init(k2!), head: head.init(k3!) };
  };

  /** Logits [N, L, V] for int32 ids [N, L], and the state after the last step. */
  const apply = (params: ModelParams, ids: Tensor, state: CarriedState | undefined, options: ApplyOptions = {}): { logits: Tensor; state: CarriedState } => {
    const training = options.training === true && config.dropout > 0;
    if (training && options.key === undefined)
      throw new Error(`char-rnn: training with dropout ${config.dropout} needs a key: apply(params, ids, state, { training: true, key })`);
    const drop = (x: Tensor, stream: number): Tensor => (training ? dropout(x, config.dropout, { key: foldIn(options.key!, stream) }) : x);
    const x = drop(embed.apply(params.embedding, ids), 0);
    const result = layer.apply(params.rnn, x, {
      ...(state === undefined ? {} : { initialState: state }),
      ...(training ? { training: true, key: foldIn(options.key!, 1) } : {}),
    });
    return { logits: head.apply(params.head, drop(result.output, 2)), state: result.state as CarriedState };
  };

  /** Mean cross-entropy in nats over all N·L targets, and the carried state. */
  const loss = (params: ModelParams, inputs: Tensor, targets: Tensor, state: CarriedState | undefined, options: ApplyOptions = {}): [Tensor, CarriedState] => {
    const { logits, state: next } = apply(params, inputs, state, options);
    const v = config.vocabSize;
    return [crossEntropy(reshape(logits, [-1, v]), reshape(targets, [-1])), next];
  };

  /** The parameters under PyTorch-style names (`rnn.weight_ih_l0`, `head.weight`, …). */
  const toStateDict = (params: ModelParams): Record<string, Tensor> => {
    const out: Record<string, Tensor> = { 'embedding.weight': params.embedding.weight, 'head.weight': params.head.weight };
    if (params.head.bias) out['head.bias'] = params.head.bias;
    const rnnDict: StateDict = layer.toStateDict(params.rnn);
    for (const [name, value] of Object.entries(rnnDict)) out[`rnn.${name}`] = value as Tensor;
    return out;
  };

  /** The inverse of {@link toStateDict}. */
  const fromStateDict = (dict: Record<string, Tensor>): ModelParams => {
    const rnnDict: Record<string, Tensor> = {};
    for (const [name, value] of Object.entries(dict)) if (name.startsWith('rnn.')) rnnDict[name.slice(4)] = value;
    const need = (name: string): Tensor => {
      const t = dict[name];
      if (t === undefined) throw new Error(`char-rnn: checkpoint is missing ${name}`);
      return t;
    };
    return {
      embedding: { weight: need('embedding.weight') },
      rnn: layer.fromStateDict(rnnDict),
      head: dict['head.bias'] ? { weight: need('head.weight'), bias: dict['head.bias'] } : { weight: need('head.weight') },
    };
  };

  return { config, init, apply, loss, toStateDict, fromStateDict };
}

/** The model functions' type. */
export type CharModel = ReturnType<typeof charModel>;
