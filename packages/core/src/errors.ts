/**
 * Errors thrown by tapestry. Every message names the op (or function) that rejected its input, the
 * argument, and the shapes or values involved, so the fix can be read off the message. They are thrown
 * when the op is called, before any work is done, so a failing call leaves its inputs untouched.
 */

/** Shapes that do not fit together: ranks, broadcasting, inner dimensions, axes out of range. */
export class ShapeError extends Error {
  /** `'ShapeError'`, so the class survives serialisation and shows in stack traces. */
  override name = 'ShapeError';
}

/** A dtype an op does not accept, or two inputs whose dtypes differ (tapestry never casts silently). */
export class DTypeError extends Error {
  /** `'DTypeError'`, so the class survives serialisation and shows in stack traces. */
  override name = 'DTypeError';
}

/** Any other bad argument: a value out of range, a wrong option, a malformed tree. */
export class ArgumentError extends Error {
  /** `'ArgumentError'`, so the class survives serialisation and shows in stack traces. */
  override name = 'ArgumentError';
}

/** A broken internal invariant: a bug in tapestry (or in a user's custom VJP), never a user mistake. */
export class InternalError extends Error {
  /** `'InternalError'`, so the class survives serialisation and shows in stack traces. */
  override name = 'InternalError';
}
