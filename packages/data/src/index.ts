/**
 * @tapestry/data — getting text and tensors in and out of tapestry models: vocabularies and a word
 * tokenizer, language-model batching for truncated BPTT (as PyTorch's word_language_model), padding and
 * shuffled minibatches for classification, the safetensors file format (and trees to and from it by path),
 * and decoding — sampling, generation and beam search. Browser-safe: no Node-only API.
 *
 * @packageDocumentation
 */
export { Vocabulary } from './vocabulary.js';
export type { VocabularyJSON, VocabularyOptions, CharacterVocabularyOptions, TokenVocabularyOptions } from './vocabulary.js';
export { tokenizeWords } from './tokenize.js';
export { batchify, getBatch, bpttWindows, countBpttWindows } from './lm-batching.js';
export type { LanguageModelBatch } from './lm-batching.js';
export { splitByPosition } from './split.js';
export type { Sliceable } from './split.js';
export { padSequences } from './padding.js';
export type { PadOptions, PaddedBatch } from './padding.js';
export { permutation, batchIndices } from './shuffle.js';
export type { BatchIndicesOptions } from './shuffle.js';
export { classificationBatches } from './classification-batches.js';
export type { ClassificationBatch, ClassificationBatchOptions } from './classification-batches.js';
export { encodeSafetensors, decodeSafetensors } from './safetensors.js';
export type { SafetensorsContents } from './safetensors.js';
export { saveTree, loadTree } from './tree-safetensors.js';
export type { LoadTreeOptions } from './tree-safetensors.js';
export { SAFETENSORS_DTYPES } from './safetensors-dtypes.js';
export type { SafetensorsDType } from './safetensors-dtypes.js';
export { sampleLogits } from './sampling.js';
export type { SampleOptions } from './sampling.js';
export { reorderState } from './decode-step.js';
export type { DecodeStep, DecodeStepResult } from './decode-step.js';
export { generate } from './generate.js';
export type { GenerateOptions } from './generate.js';
export { beamSearch } from './beam-search.js';
export type { BeamSearchOptions, Hypothesis } from './beam-search.js';
