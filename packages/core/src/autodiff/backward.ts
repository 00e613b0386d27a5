import { InternalError } from '../errors.js';
import { add } from '../ops/arithmetic.js';
import { sum } from '../ops/reduce.js';
import { reshape } from '../ops/shape-ops.js';
import { formatShape, shapesEqual, type Shape } from '../shape.js';
import type { AttrsOf } from '../binding/primitive.js';
import { Tensor, zerosLike } from '../tensor.js';
import { recording, tracing, type Tape } from '../binding/tape.js';

/**
 * Sums a cotangent computed at a broadcast shape back to its input's shape. This is the single place where
 * broadcasting is undone, so no VJP rule needs to think about it.
 */
function sumToShape(g: Tensor, shape: Shape, context: () => string): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const offset = g.rank - shape.length;
  const axes: number[] = [];
  let fits = offset >= 0;
  for (let i = 0; i < g.rank && fits; i++) {
    if (i < offset) axes.push(i);
    else if (shape[i - offset] === 1 && g.shape[i] !== 1) axes.push(i);
    else if (shape[i - offset] !== g.shape[i]) fits = false;
  }
  if (!fits) {
    throw new InternalError(`internal: ${context()} returned a gradient of shape ${formatShape(g.shape)}, which does not match ${formatShape(shape)}`);
  }
  return reshape(sum(g, axes, true), shape);
}

/**
 * Reverse mode: walks the tape once from the end, calling each node's VJP and accumulating cotangents per
 * slot. `seeds` gives the cotangents of the output values (by slot). Returns the cotangent of every slot
 * (undefined where none flowed). The VJPs run on ordinary ops, so enclosing tapes record them (higher order).
 */
export function backward(tape: Tape, seeds: Map<number, Tensor>): (Tensor | undefined)[] {
  const nodes = tape.nodes;
  const cts: (Tensor | undefined)[] = new Array(nodes.length);
  const owned: boolean[] = new Array(nodes.length);
  for (const [slot, ct] of seeds) cts[slot] = cts[slot] === undefined ? ct : add(cts[slot]!, ct);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    const ct = cts[i];
    if (ct === undefined || node.primitive === null) continue;
    const name = node.primitive.name;
    const fastSlot = node.inputSlots[0]!;
    if ((name === 'slice' || name === 'gather') && fastSlot >= 0 && !recording() && !tracing() && ct.backend.accumulateSparse !== undefined) {
      // the VJP would build a mostly-zero cotangent of the input's shape; the backend adds ct in place instead
      const input = node.inputs[0]!;
      let acc = cts[fastSlot];
      if (acc === undefined || owned[fastSlot] !== true) {
        acc = acc === undefined ? zerosLike(input) : copyOf(acc);
        cts[fastSlot] = acc;
        owned[fastSlot] = true;
      }
      const storage = node.inputs.map((x) => x.storage);
      if (ct.backend.accumulateSparse(name, acc.storage, ct.storage, node.inputs, storage, node.attrs as AttrsOf<'slice' | 'gather'>)) {
        cts[i] = undefined;
        continue;
      }
    }
    const vjp = node.primitive.vjp!;
    const grads = vjp(ct, node.inputs, node.output, node.attrs);
    if (grads.length !== node.inputs.length) {
      throw new InternalError(`internal: vjp of '${node.primitive.name}' returned ${grads.length} cotangents for ${node.inputs.length} inputs`);
    }
    for (let j = 0; j < grads.length; j++) {
      const slot = node.inputSlots[j]!;
      const g = grads[j];
      if (slot < 0 || g === null || g === undefined) continue;
      const input = node.inputs[j]!;
      const shaped = sumToShape(g, input.shape, () => `vjp of '${node.primitive!.name}' for input ${j}`);
      if (shaped.dtype !== input.dtype) {
        throw new InternalError(`internal: vjp of '${node.primitive.name}' returned a ${shaped.dtype} gradient for a ${input.dtype} input ${j}`);
      }
      const previous = cts[slot];
      if (previous === undefined) cts[slot] = shaped;
      else if (owned[slot] === true && previous.backend.accumulate?.(previous.storage, shaped.storage, shaped.dtype, shaped.size) === true) continue;
      else {
        cts[slot] = add(previous, shaped);
        // a sum made here is ours alone until its node's VJP reads it; with no enclosing tape to record
        // the accumulation, later contributions can be added into it in place (no allocation per step);
        // abstract values of a trace have no storage to add into
        owned[slot] = !recording() && !tracing();
      }
    }
    // free what this node held: the tape is walked once
    cts[i] = undefined;
  }
  return cts;
}

/** A copy of `x` with storage of its own (which the engine may then add into in place). */
function copyOf(x: Tensor): Tensor {
  const storage = x.backend.allocate(x.dtype, x.size);
  // a cast to the same dtype is the identity, and a kernel every backend has: it copies
  x.backend.plan('cast', [x], x, { dtype: x.dtype }, { inputSlots: [], shared: null })([x.storage], storage);
  return new Tensor(storage, x.shape, x.dtype, null, null, x.backend);
}
