/**
 * Keys as tensors: a key's two uint32 words held in an int32 tensor of shape [2], and the two primitives
 * that take one, `deriveKey` (split and foldIn) and `random` (a sample). Being ops, they trace like any
 * other: a key tensor passed to a jitted function is an argument, so every call draws new numbers.
 * Neither has a gradient.
 */
import { definePrimitive } from '../binding/primitive.js';
import { bind } from '../binding/tape.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import type { Sample } from './samplers.js';

/** Checks that `key` is a key tensor: int32 of shape [2]. */
export function expectKeyData(op: string, key: unknown): Tensor {
  if (!(key instanceof Tensor)) throw new ArgumentError(`${op}: key must be a Key or a key tensor (from keyData), got ${typeof key}`);
  if (key.dtype !== 'int32') throw new DTypeError(`${op}: a key tensor must be int32 (from keyData), got ${key.dtype}`);
  if (key.rank !== 1 || key.shape[0] !== 2) throw new ShapeError(`${op}: a key tensor has shape [2] (from keyData), got ${formatShape(key.shape)}`);
  return key;
}

// the key of counter (c0, c1) under a key, as split and foldIn derive a Key's
const deriveKeyPrimitive = definePrimitive({
  name: 'deriveKey',
  kind: 'random',
  shape: () => ({ shape: [2], dtype: 'int32' }),
  vjp: null,
});

const randomPrimitive = definePrimitive({
  name: 'random',
  kind: 'random',
  shape: (_, sample) => ({ shape: sample.shape, dtype: sample.dtype }),
  vjp: null,
});

/** The key tensor of counter (c0, c1) under `key` (checked by the caller). */
export function deriveKeyData(key: Tensor, c0: number, c1: number): Tensor {
  return bind(deriveKeyPrimitive, [key], { c0, c1 });
}

/** `sample` drawn from the stream of a key tensor (checked by the caller). */
export function sampleFromKeyData(key: Tensor, sample: Sample): Tensor {
  return bind(randomPrimitive, [key], sample);
}

/** The primitives this module defines, for the primitive table. @internal */
export const randomPrimitives = { deriveKey: deriveKeyPrimitive, random: randomPrimitive };
