/** Bits per character of a model on a held-out stream. */
import { batchify, bpttWindows } from '@tapestry/data';
import type { CarriedState, CharModel, ModelParams } from './model.js';

/**
 * Mean cross-entropy in bits per character over `ids`, run as `batchSize` parallel streams in windows of
 * `seqLen` with the state carried across windows (as in training, without gradients or dropout).
 */
export function bitsPerCharacter(
  model: CharModel, params: ModelParams, ids: Int32Array, options: { batchSize: number; seqLen: number; maxChars?: number },
): number {
  const data = options.maxChars !== undefined && options.maxChars < ids.length ? ids.subarray(0, options.maxChars) : ids;
  const streams = Math.max(1, Math.min(options.batchSize, Math.floor((data.length - 1) / 2)));
  const source = batchify(data, streams);
  let state: CarriedState | undefined;
  let nats = 0;
  let count = 0;
  for (const { inputs, targets } of bpttWindows(source, options.seqLen)) {
    const [loss, next] = model.loss(params, inputs, targets, state);
    nats += loss.item() * targets.size;
    count += targets.size;
    state = next;
  }
  return nats / count / Math.LN2;
}
