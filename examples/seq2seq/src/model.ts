/**
 * The sequence-to-sequence model: a bidirectional recurrent encoder over letters, a recurrent decoder over
 * phonemes whose initial state is projected from the encoder's final states, and optional Luong ("general")
 * dot-product attention over the encoder outputs, masked at padded letters. Pure functions of a parameter
 * tree: `loss` for teacher-forced training, `encode` + `step` for decoding one phoneme at a time.
 */
import { concat, expandDims, matmul, reshape, softmax, splitKey, tanh, transpose, where, type Key, type Tensor } from '@tapestry/core';
import { crossEntropy, embedding, gru, linear, lstm, type GatedCellParams, type RecurrentParams } from '@tapestry/layers';
import type { DecodeStep } from '@tapestry/data';

/** The recurrent cell of the encoder and the decoder. */
export type CellType = 'gru' | 'lstm';

/** The model's shape. */
export interface ModelConfig {
  /** Letters, padding included. */
  readonly sourceVocab: number;
  /** Phonemes, padding / start / end included. */
  readonly targetVocab: number;
  /** Width of the letter and phoneme embeddings. */
  readonly embeddingDim: number;
  /** Hidden size of each encoder direction and of the decoder. */
  readonly hiddenSize: number;
  /** GRU or LSTM, for the encoder and the decoder alike. */
  readonly cell: CellType;
  /** Attend over the encoder outputs (otherwise the decoder sees the source only through its initial state). */
  readonly attention: boolean;
}

/** The parameter tree. */
export interface Seq2SeqParams {
  /** Letter embeddings [letters, E]. */
  readonly sourceEmbedding: { readonly weight: Tensor };
  /** The bidirectional encoder. */
  readonly encoder: RecurrentParams<GatedCellParams>;
  /** Encoder final states [B, 2H] → decoder initial `h` (and `c` for an LSTM). */
  readonly bridgeH: { readonly weight: Tensor; readonly bias?: Tensor };
  /** The same for the LSTM cell state (LSTM only). */
  readonly bridgeC?: { readonly weight: Tensor; readonly bias?: Tensor };
  /** Phoneme embeddings [phonemes, E]. */
  readonly targetEmbedding: { readonly weight: Tensor };
  /** The one-layer decoder. */
  readonly decoder: RecurrentParams<GatedCellParams>;
  /** W_a of Luong's general score hᵀ W_a s, applied once to the encoder outputs (attention only). */
  readonly attentionKey?: { readonly weight: Tensor };
  /** tanh(W_c [context; h]) (attention only). */
  readonly combine?: { readonly weight: Tensor; readonly bias?: Tensor };
  /** Features [B, T, H] → phoneme logits. */
  readonly head: { readonly weight: Tensor; readonly bias?: Tensor };
}

/** What the decoder needs from the source, per sequence (batch axis 0 everywhere, so beam search can reorder it). */
interface Memory {
  /** Encoder outputs [B, Ts, 2H] (zero at padding). */
  readonly outputs: Tensor;
  /** `outputs · W_aᵀ` [B, Ts, H]: the attention keys, computed once per source. */
  readonly keys: Tensor;
  /** int32 [B, 1, Ts]: 1 at real letters, 0 at padding. */
  readonly mask: Tensor;
}

/** The decoder state while decoding one token at a time. */
interface DecoderState {
  /** Hidden state [B, H]. */
  readonly h: Tensor;
  /** Cell state [B, H] (LSTM only). */
  readonly c?: Tensor;
  /** The encoded source, carried along unchanged. */
  readonly memory: Memory;
}

/** A padded batch of word / pronunciation pairs. */
export interface Batch {
  /** Letter ids int32 [B, Ts], padding 0. */
  readonly source: Tensor;
  /** Letters per word. */
  readonly sourceLengths: Int32Array;
  /** int32 [B, 1, Ts] padding mask of the source. */
  readonly sourceMask: Tensor;
  /** Decoder inputs int32 [B, Td]: start token, then the phonemes; padding 0. */
  readonly decoderInput: Tensor;
  /** Targets int32 [B, Td]: the phonemes, then the end token; -1 at padding (ignored by the loss). */
  readonly targets: Tensor;
}

/** The padding target the loss ignores. */
export const IGNORE = -1;

/** Scores of masked (padded) source positions: exp underflows to exactly 0 in float32 and float64. */
const MASKED_SCORE = -1e9;

/** A seq2seq model definition: holds no weights, like every tapestry layer. */
export interface Seq2SeqModel {
  /** The shape it was built with. */
  readonly config: ModelConfig;
  /** A fresh parameter tree (PyTorch's default initialisation in every layer). */
  init(key: Key): Seq2SeqParams;
  /** Encodes a batch of sources into the decoder's initial state (with the memory it attends to). */
  encode(params: Seq2SeqParams, source: Tensor, lengths: Int32Array, mask: Tensor): DecoderState;
  /** Teacher-forced mean cross-entropy per target phoneme (end tokens included, padding ignored). */
  loss(params: Seq2SeqParams, batch: Batch): Tensor;
  /** One decoding step for `@tapestry/data`'s beamSearch and for greedy decoding: tokens [B] → logits [B, V]. */
  step(params: Seq2SeqParams): DecodeStep<DecoderState>;
}

/** Builds the model of a configuration (parameters in float32). */
export function seq2seqModel(config: ModelConfig): Seq2SeqModel {
  const { embeddingDim: E, hiddenSize: H } = config;
  const recurrentLayer = config.cell === 'lstm' ? lstm : gru;
  const sourceEmbedding = embedding({ numEmbeddings: config.sourceVocab, embeddingDim: E });
  const targetEmbedding = embedding({ numEmbeddings: config.targetVocab, embeddingDim: E });
  const encoder = recurrentLayer({ inputSize: E, hiddenSize: H, bidirectional: true });
  const decoder = recurrentLayer({ inputSize: E, hiddenSize: H });
  const bridge = linear({ inFeatures: 2 * H, outFeatures: H });
  const attentionKey = linear({ inFeatures: 2 * H, outFeatures: H, bias: false });
  const combine = linear({ inFeatures: 3 * H, outFeatures: H });
  const head = linear({ inFeatures: H, outFeatures: config.targetVocab });
  const lstmState = config.cell === 'lstm';

  /** [2, B, H] final states of the two directions → [B, 2H], forward first. */
  const joinDirections = (s: Tensor): Tensor => reshape(transpose(s, [1, 0, 2]), [s.shape[1]!, 2 * H]);

  /** Decoder outputs q [B, Td, H] → features [B, Td, H] for the head (attentional or not). */
  const attend = (params: Seq2SeqParams, q: Tensor, memory: Memory): Tensor => {
    if (!config.attention) return q;
    // Luong: score(q_t, s) = q_t · W_a s; masked positions get a large negative score, so softmax gives them 0
    const scores = where(memory.mask, matmul(q, memory.keys, { transposeB: true }), MASKED_SCORE);
    const context = matmul(softmax(scores, -1), memory.outputs);
    return tanh(combine.apply(params.combine!, concat([context, q], -1)));
  };

  const encode = (params: Seq2SeqParams, source: Tensor, lengths: Int32Array, mask: Tensor): DecoderState => {
    const x = sourceEmbedding.apply(params.sourceEmbedding, source);
    const result = encoder.apply(params.encoder, x, { lengths: Array.from(lengths) });
    const h = tanh(bridge.apply(params.bridgeH, joinDirections(result.state.h)));
    const c = lstmState ? tanh(bridge.apply(params.bridgeC!, joinDirections((result.state as unknown as { c: Tensor }).c))) : undefined;
    const keys = config.attention ? attentionKey.apply(params.attentionKey!, result.output) : result.output;
    return { h, ...(c ? { c } : {}), memory: { outputs: result.output, keys, mask } };
  };

  return {
    config,
    init: (key) => {
      const k = splitKey(key, 9);
      return Object.freeze({
        sourceEmbedding: sourceEmbedding.init(k[0]!),
        encoder: encoder.init(k[1]!),
        bridgeH: bridge.init(k[2]!),
        ...(lstmState ? { bridgeC: bridge.init(k[3]!) } : {}),
        targetEmbedding: targetEmbedding.init(k[4]!),
        decoder: decoder.init(k[5]!),
        ...(config.attention ? { attentionKey: attentionKey.init(k[6]!), combine: combine.init(k[7]!) } : {}),
        head: head.init(k[8]!),
      });
    },
    encode,
    loss: (params, batch) => {
      const start = encode(params, batch.source, batch.sourceLengths, batch.sourceMask);
      const y = targetEmbedding.apply(params.targetEmbedding, batch.decoderInput);
      // Without input feeding the attention does not feed back into the recurrence, so the decoder runs as
      // one layer call over the whole target and attention is a few batched ops over all steps at once. The
      // decoder needs no lengths: it is causal, so padded steps (after a word's end) cannot change the steps
      // before them, and the loss ignores their targets — masking them would only cost three ops per step.
      const initialState = { h: expandDims(start.h, 0), ...(start.c ? { c: expandDims(start.c, 0) } : {}) };
      const { output } = decoder.apply(params.decoder, y, { initialState });
      const logits = head.apply(params.head, attend(params, output, start.memory));
      return crossEntropy(logits, batch.targets, { ignoreIndex: IGNORE });
    },
    step: (params) => (tokens, state) => {
      const x = targetEmbedding.apply(params.targetEmbedding, tokens);
      const carry = state.c ? { h: state.h, c: state.c } : { h: state.h };
      const next = decoder.cell.step(params.decoder.layers[0]!.forward, carry as never, x);
      const h = next.output;
      const features = attend(params, expandDims(h, 1), state.memory);
      const logits = reshape(head.apply(params.head, features), [h.shape[0]!, config.targetVocab]);
      return { logits, state: { ...(next.state as { h: Tensor; c?: Tensor }), memory: state.memory } };
    },
  };
}
