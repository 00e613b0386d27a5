import { isFloat } from '../dtype.js';
import { Tensor } from '../tensor.js';
import type { Primitive } from './primitive.js';
import { slotOn, type Track } from './track.js';

/**
 * One recorded op: data, not a closure, so a tape can be printed, inspected and replayed.
 * @internal
 */
export interface TapeNode {
  /** The primitive, or null for an input of the differentiation. */
  readonly primitive: Primitive<unknown> | null;
  readonly inputs: readonly Tensor[];
  /** Each input's slot on this tape (-1: not recorded here, so it gets no cotangent). */
  readonly inputSlots: readonly number[];
  readonly attrs: unknown;
  readonly output: Tensor;
}

/**
 * The record of one differentiation: an array of nodes in execution order. Reverse mode walks it once from
 * the end; no recursion, so a 100k-step unrolled loop cannot overflow the stack.
 * @internal
 */
export class Tape {
  readonly nodes: TapeNode[] = [];
  active = true;
}

/** The tapes of the differentiations in progress, innermost last. @internal */
const activeTapes: Tape[] = [];

/** Opens a tape; every op on a value it records is appended to it until {@link closeTape}. @internal */
export function openTape(): Tape {
  const tape = new Tape();
  activeTapes.push(tape);
  return tape;
}

/** Closes the innermost tape. @internal */
export function closeTape(tape: Tape): void {
  const top = activeTapes.pop();
  if (top !== tape) throw new Error('internal: tapes closed out of order');
  tape.active = false;
}

/**
 * What a trace plugs into {@link bind}: it makes an abstract output (shape and dtype, no data) and a graph
 * node instead of running the kernel. Tape recording is unchanged, so differentiation traces too.
 * @internal
 */
export interface Tracer {
  /** The abstract output of `primitive` applied to `inputs`, recorded as a graph node. */
  bind(primitive: Primitive<unknown>, inputs: readonly Tensor[], attrs: unknown): Tensor;
}

/** The trace in progress, or null: eager execution costs one comparison with it per op. */
let tracer: Tracer | null = null;

/** Installs `next` as the active tracer (null: eager) and returns the previous one. @internal */
export function setTracer(next: Tracer | null): Tracer | null {
  const previous = tracer;
  tracer = next;
  return previous;
}

/** Whether a trace is in progress (values are abstract: nothing may be computed in place). @internal */
export function tracing(): boolean {
  return tracer !== null;
}

/** Whether any differentiation is in progress (the eager fast path checks this first). @internal */
export function recording(): boolean {
  return activeTapes.length > 0;
}

/** Records `x` as an input of `tape`: a new value sharing x's storage, tracked there too. @internal */
export function watch(tape: Tape, x: Tensor): Tensor {
  const id = tape.nodes.length;
  const watched = new Tensor(x.data, x.shape, x.dtype, { tape, id, next: x.track }, x.traced);
  tape.nodes.push({ primitive: null, inputs: [], inputSlots: [], attrs: undefined, output: watched });
  return watched;
}

/**
 * Runs a primitive: computes its output and, on every active tape that records one of its inputs, appends
 * a node. This is the only place where ops meet the tape.
 * @internal
 */
export function bind<Attrs>(primitive: Primitive<Attrs>, inputs: readonly Tensor[], attrs: Attrs): Tensor {
  const output = tracer === null ? primitive.forward(inputs, attrs) : tracer.bind(primitive as Primitive<unknown>, inputs, attrs);
  if (activeTapes.length === 0 || primitive.vjp === null || !isFloat(output.dtype)) return output;
  const hits: { tape: Tape; slots: number[] }[] = [];
  for (const tape of activeTapes) {
    let slots: number[] | null = null;
    for (let i = 0; i < inputs.length; i++) {
      const slot = slotOn(inputs[i]!.track, tape);
      if (slot >= 0) {
        slots ??= new Array<number>(inputs.length).fill(-1);
        slots[i] = slot;
      }
    }
    if (slots !== null) hits.push({ tape, slots });
  }
  if (hits.length === 0) return output;
  let track: Track | null = null;
  for (const { tape } of hits) track = { tape, id: tape.nodes.length, next: track };
  // The node holds the tracked value, so VJPs that reuse the output stay differentiable on outer tapes.
  const tracked = new Tensor(output.data, output.shape, output.dtype, track, output.traced);
  for (const { tape, slots } of hits) {
    tape.nodes.push({ primitive: primitive as Primitive<unknown>, inputs, inputSlots: slots, attrs, output: tracked });
  }
  return tracked;
}

/** A value with the same storage that no tape records: the gradient stops here. @internal */
export function untracked(x: Tensor): Tensor {
  return x.track === null ? x : new Tensor(x.data, x.shape, x.dtype, null, x.traced);
}
