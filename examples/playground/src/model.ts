/**
 * The playground's model: embedding → recurrent stack → linear head, the same layout and the same
 * state-dict names as the char-rnn CLI's (`embedding.weight`, `rnn.weight_ih_l0`, …, `head.weight`,
 * `head.bias`), over any cell: a built-in one through `lstm`/`gru`/`rnn`, or the editor's through `recurrent`.
 */
import { foldIn, randomKey, reshape, splitKey, zeros, type Key, type KeyLike, type Tensor } from '@tapestry/core';
import {
  crossEntropy,
  dropout,
  embedding,
  gru,
  linear,
  lstm,
  recurrent,
  rnn,
  type CellState,
  type RecurrentLayer,
  type RecurrentParams,
} from '@tapestry/layers';
import type { PlaygroundConfig } from './config.js';
import { compileCell } from './custom-cell.js';

/** The parameter tree. */
export interface PlaygroundParams {
  readonly embedding: { readonly weight: Tensor };
  readonly rnn: RecurrentParams<unknown>;
  readonly head: { readonly weight: Tensor; readonly bias?: Tensor };
}

/** The state carried from one window to the next: the layer's named states, each [layers, N, …]. */
export type Carry = CellState;

function recurrentLayer(config: PlaygroundConfig): RecurrentLayer<unknown, CellState> {
  const options = { inputSize: config.embeddingDim, hiddenSize: config.hiddenSize, numLayers: config.numLayers, dropout: config.dropout };
  switch (config.cell) {
    case 'lstm':
      return lstm(options) as unknown as RecurrentLayer<unknown, CellState>;
    case 'gru':
      return gru(options) as unknown as RecurrentLayer<unknown, CellState>;
    case 'rnn':
      return rnn({ ...options, nonlinearity: 'tanh' }) as unknown as RecurrentLayer<unknown, CellState>;
    case 'custom': {
      const cell = compileCell(config.cellSource ?? '', config.hiddenSize);
      return recurrent(cell, { inputSize: config.embeddingDim, numLayers: config.numLayers, dropout: config.dropout, name: 'customCell' });
    }
  }
}

/** How a forward pass runs: `training` turns dropout on, drawing masks from `key`. */
export interface ApplyOptions {
  readonly training?: boolean;
  readonly key?: KeyLike;
}

/** The model's pure functions for a configuration over a vocabulary of `vocabSize` characters. */
export function playgroundModel(config: PlaygroundConfig, vocabSize: number) {
  const embed = embedding({ numEmbeddings: vocabSize, embeddingDim: config.embeddingDim });
  const layer = recurrentLayer(config);
  // the head reads whatever the cell outputs (a custom cell's output need not be hiddenSize wide)
  const outputSize = layer.cell.outputSize ?? layer.apply(layer.init(randomKey(0)), zeros([1, 1, config.embeddingDim])).output.shape[2]!;
  const head = linear({ inFeatures: outputSize, outFeatures: vocabSize });

  const init = (key: Key): PlaygroundParams => {
    const [k1, k2, k3] = splitKey(key, 3);
    return { embedding: embed.init(k1!), rnn: layer.init(k2!), head: head.init(k3!) };
  };

  /** Logits [N, L, V] for int32 ids [N, L], and the state after the last step. */
  const apply = (params: PlaygroundParams, ids: Tensor, state: Carry | undefined, options: ApplyOptions = {}) => {
    const training = options.training === true && config.dropout > 0;
    const drop = (x: Tensor, stream: number): Tensor => (training ? dropout(x, config.dropout, { key: foldIn(options.key!, stream) }) : x);
    const result = layer.apply(params.rnn, drop(embed.apply(params.embedding, ids), 0), {
      ...(state === undefined ? {} : { initialState: state }),
      ...(training ? { training: true, key: foldIn(options.key!, 1) } : {}),
    });
    return { logits: head.apply(params.head, drop(result.output, 2)), state: result.state };
  };

  /** Mean cross-entropy in nats over every target, and the carried state. */
  const loss = (params: PlaygroundParams, inputs: Tensor, targets: Tensor, state: Carry | undefined, options: ApplyOptions = {}): [Tensor, Carry] => {
    const { logits, state: next } = apply(params, inputs, state, options);
    return [crossEntropy(reshape(logits, [-1, vocabSize]), reshape(targets, [-1])), next];
  };

  /** The parameters under the CLI's PyTorch-style names. */
  const toStateDict = (params: PlaygroundParams): Record<string, Tensor> => {
    const out: Record<string, Tensor> = { 'embedding.weight': params.embedding.weight, 'head.weight': params.head.weight };
    if (params.head.bias) out['head.bias'] = params.head.bias;
    for (const [name, value] of Object.entries(layer.toStateDict(params.rnn))) out[`rnn.${name}`] = value as Tensor;
    return out;
  };

  /** The inverse of {@link toStateDict}; a missing or misshaped entry is an error naming it. */
  const fromStateDict = (dict: Record<string, Tensor>): PlaygroundParams => {
    const rnnDict: Record<string, Tensor> = {};
    for (const [name, value] of Object.entries(dict)) if (name.startsWith('rnn.')) rnnDict[name.slice(4)] = value;
    const need = (name: string): Tensor => {
      const t = dict[name];
      if (t === undefined) throw new Error(`playground: the weights file has no ${name}`);
      return t;
    };
    const bias = dict['head.bias'];
    return {
      embedding: { weight: need('embedding.weight') },
      rnn: layer.fromStateDict(rnnDict),
      head: bias ? { weight: need('head.weight'), bias } : { weight: need('head.weight') },
    };
  };

  return { config, vocabSize, layer, init, apply, loss, toStateDict, fromStateDict };
}

/** The model functions' type. */
export type PlaygroundModel = ReturnType<typeof playgroundModel>;
