import { ArgumentError, ShapeError } from './errors.js';

/** A tensor's shape: the size of each axis, outermost first. */
export type Shape = readonly number[];

/** Formats a shape as `[2, 3]` for messages. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** The number of elements of a tensor of this shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let size = 1;
  for (let i = 0; i < shape.length; i++) size *= shape[i]!;
  return size;
}

/** Row-major strides (in elements) of a contiguous tensor of this shape. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i]!;
  }
  return strides;
}

/** Whether two shapes are equal axis by axis. */
export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The most elements a tensor may hold: 2^31 − 1, so every element has an int32 index (gather, argmax) and the
 * storage fits a typed array in every engine. Larger shapes are refused before anything is allocated.
 */
const MAX_ELEMENTS = 0x7fffffff;

/** Throws a ShapeError naming the op when a tensor of `shape` would hold more than {@link MAX_ELEMENTS}. */
export function checkSize(op: string, argument: string, shape: Shape): void {
  const size = sizeOf(shape);
  if (size > MAX_ELEMENTS) {
    throw new ShapeError(`${op}: ${argument} ${formatShape(shape)} would hold ${size} elements; a tensor holds at most 2^31 − 1 = ${MAX_ELEMENTS}`);
  }
}

/** Validates a user-given shape: non-negative integers only, and at most {@link MAX_ELEMENTS} elements. */
export function checkShape(op: string, argument: string, shape: readonly number[]): Shape {
  if (!Array.isArray(shape)) {
    throw new ArgumentError(`${op}: ${argument} must be an array of sizes, got ${typeof shape === 'string' ? JSON.stringify(shape) : String(shape)}`);
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${op}: ${argument} must hold non-negative integers, got [${shape.map(describeEntry).join(', ')}]`);
    }
  }
  checkSize(op, argument, shape);
  return shape.slice();
}

/** An entry of a user-given list for a message: numbers as they are, anything else quoted with its type. */
function describeEntry(x: unknown): string {
  return typeof x === 'number' ? String(x) : typeof x === 'string' ? JSON.stringify(x) : `${String(x)} (${typeof x})`;
}

/**
 * The shape two shapes broadcast to, by NumPy's rules: align trailing axes; each pair of sizes must be
 * equal or one of them 1. Anything else is a {@link ShapeError} naming the op and both shapes.
 */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else {
      throw new ShapeError(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (axis ${i - rank} has sizes ${da} and ${db}; ` +
          `sizes must be equal or one of them 1)`,
      );
    }
  }
  checkSize(op, `the broadcast of ${formatShape(a)} and ${formatShape(b)},`, out);
  return out;
}

/** Resolves a possibly negative axis against `rank`, or throws naming the op. */
export function normalizeAxis(op: string, axis: number, rank: number, argument = 'axis'): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis)) {
    throw new ArgumentError(`${op}: ${argument} must be an integer, got ${describeEntry(axis)}`);
  }
  if (axis < -rank || axis >= rank) {
    throw new ShapeError(`${op}: ${argument} ${axis} is out of range for a tensor of rank ${rank} (valid: ${-rank} … ${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/**
 * Resolves the `axis` option of a reduction: undefined means every axis; a number or a list means those
 * axes (negative counts from the end). Returns sorted unique axes; a repeated axis is an error.
 */
export function normalizeAxes(op: string, axis: number | readonly number[] | undefined, rank: number): number[] {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  if (typeof axis !== 'number' && !Array.isArray(axis)) {
    throw new ArgumentError(`${op}: axis must be an integer or an array of integers, got ${describeEntry(axis)}`);
  }
  const list = typeof axis === 'number' ? [axis] : Array.from(axis);
  const axes = list.map((a) => normalizeAxis(op, a, rank));
  const sorted = [...axes].sort((x, y) => x - y);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new ShapeError(`${op}: axis ${sorted[i]} is repeated in [${list.join(', ')}]`);
  }
  return sorted;
}

/** A shape viewed as [outer, shape[axis], inner] around one axis (how gather and scatter walk it). */
export function axisBlocks(shape: Shape, axis: number): [number, number, number] {
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[axis]!, inner];
}
