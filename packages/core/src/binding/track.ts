import type { Tape } from './tape.js';

/**
 * Where a value sits on the tapes that record it: one link per enclosing differentiation (usually one).
 * A linked list rather than a map, because the common case is zero or one tape and it must cost nothing.
 * @internal
 */
export interface Track {
  readonly tape: Tape;
  /** The value's slot on that tape. */
  readonly id: number;
  readonly next: Track | null;
}

/** The slot of a value on `tape`, or -1 when the tape does not record it. @internal */
export function slotOn(track: Track | null, tape: Tape): number {
  for (let t = track; t !== null; t = t.next) if (t.tape === tape) return t.id;
  return -1;
}
