import type { Backend } from '../backend/backend.js';
import { isFloat } from '../dtype.js';
import { ArgumentError } from '../errors.js';
import { formatShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import type { AttrsOf, CustomVjpAttrs, Primitive, PrimitiveName } from './primitive.js';
import { slotOn, type Track } from './track.js';

/**
 * One recorded op: data, not a closure, so a tape can be printed, inspected and replayed.
 * @internal
 */
export interface TapeNode {
  /** The primitive, or null for an input of the differentiation. */
  readonly primitive: Primitive | null;
  readonly inputs: readonly Tensor[];
  /** Each input's slot on this tape (-1: not recorded here, so it gets no cotangent). */
  readonly inputSlots: readonly number[];
  readonly attrs: AttrsOf<PrimitiveName>;
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
  bind<P extends PrimitiveName>(primitive: Primitive<P>, inputs: readonly Tensor[], attrs: AttrsOf<P>): Tensor;
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
  const watched = new Tensor(x.storage, x.shape, x.dtype, { tape, id, next: x.track }, x.traced, x.backend);
  tape.nodes.push({ primitive: null, inputs: [], inputSlots: [], attrs: undefined, output: watched });
  return watched;
}

/**
 * The backend an op's inputs live on: all of them must share one (an op never moves data silently).
 * @internal
 */
export function backendOf(op: string, inputs: readonly Tensor[]): Backend {
  const backend = inputs[0]!.backend;
  for (let i = 1; i < inputs.length; i++) {
    const other = inputs[i]!.backend;
    if (other !== backend) {
      throw new ArgumentError(
        `${op}: inputs live on two backends: input 0 ${formatShape(inputs[0]!.shape)} on ${backend.name} and input ${i} ` +
          `${formatShape(inputs[i]!.shape)} on ${other.name}; move one with devicePut(x, device) first`,
      );
    }
  }
  return backend;
}

const EAGER_PLAN = { inputSlots: [], shared: null };

/**
 * The value of a call whose value other ops computed already (a custom VJP's forward half), or null for a
 * primitive a kernel computes.
 * @internal
 */
export function precomputedValue<P extends PrimitiveName>(primitive: Primitive<P>, attrs: AttrsOf<P>): Tensor | null {
  return primitive.kind === 'custom' ? (attrs as CustomVjpAttrs).value : null;
}

/**
 * Computes a primitive eagerly, with no tape: the shape rule once, then the backend's kernel planned for
 * those shapes and run over the inputs' storage into new storage. A custom VJP's value was computed by
 * other ops already.
 * @internal
 */
export function runPrimitive<P extends PrimitiveName>(primitive: Primitive<P>, inputs: readonly Tensor[], attrs: AttrsOf<P>): Tensor {
  const precomputed = precomputedValue(primitive, attrs);
  if (precomputed !== null) return precomputed;
  const name = primitive.name as Exclude<PrimitiveName, 'customVjp'>;
  const backend = backendOf(name, inputs);
  const { shape, dtype } = primitive.shape(inputs, attrs);
  if (backend.aliases(name)) return new Tensor(inputs[0]!.storage, shape, dtype, null, null, backend);
  const storage = backend.allocate(dtype, sizeOf(shape));
  const storages = new Array<unknown>(inputs.length);
  for (let i = 0; i < inputs.length; i++) storages[i] = inputs[i]!.storage;
  backend.plan(name, inputs, { shape, dtype }, attrs as AttrsOf<typeof name>, EAGER_PLAN)(storages, storage);
  return new Tensor(storage, shape, dtype, null, null, backend);
}

/**
 * Runs a primitive: computes its output (or, under a trace, records it) and, on every active tape that
 * records one of its inputs, appends a node. This is the only place where ops meet the tape.
 * @internal
 */
export function bind<P extends PrimitiveName>(primitive: Primitive<P>, inputs: readonly Tensor[], attrs: AttrsOf<P>): Tensor {
  const output = tracer === null ? runPrimitive(primitive, inputs, attrs) : tracer.bind(primitive, inputs, attrs);
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
  const tracked = new Tensor(output.storage, output.shape, output.dtype, track, output.traced, output.backend);
  for (const { tape, slots } of hits) {
    tape.nodes.push({ primitive: primitive as unknown as Primitive, inputs, inputSlots: slots, attrs, output: tracked });
  }
  return tracked;
}

/** A value with the same storage that no tape records: the gradient stops here. @internal */
export function untracked(x: Tensor): Tensor {
  return x.track === null ? x : new Tensor(x.storage, x.shape, x.dtype, null, x.traced, x.backend);
}
