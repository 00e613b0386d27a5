/** Bits per character of a model on a held-out stream. */
import { devicePut, deviceGet, type Tensor } from '@tapestry/core';
import { batchify, bpttWindows } from '@tapestry/data';
import type { CarriedState, CharModel, ModelParams } from './model.js';

/**
 * Mean cross-entropy in bits per character over `ids`, run as `batchSize` parallel streams in windows of
 * `seqLen` with the state carried across windows (as in training, without gradients or dropout), on the
 * device the parameters live on. The windows' losses are read back once, at the end, so a GPU runs them
 * without a stall between windows.
 */
export async function bitsPerCharacter(
  model: CharModel,
  params: ModelParams,
  ids: Int32Array,
  options: { batchSize: number; seqLen: number; maxChars?: number },
): Promise<number> {
  const data = options.maxChars !== undefined && options.maxChars < ids.length ? ids.subarray(0, options.maxChars) : ids;
  const streams = Math.max(1, Math.min(options.batchSize, Math.floor((data.length - 1) / 2)));
  const source = batchify(data, streams);
  const device = params.embedding.weight.backend;
  let state: CarriedState | undefined;
  const losses: Tensor[] = [];
  const counts: number[] = [];
  for (const window of bpttWindows(source, options.seqLen)) {
    const { inputs, targets } = devicePut(window, device);
    const [loss, next] = model.loss(params, inputs, targets, state);
    losses.push(loss);
    counts.push(targets.size);
    state = next;
  }
  let nats = 0;
  let count = 0;
  (await deviceGet(losses)).forEach((loss, i) => {
    nats += loss.item() * counts[i]!;
    count += counts[i]!;
  });
  return nats / count / Math.LN2;
}
