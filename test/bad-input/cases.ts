/**
 * The table-driven harness of the bad-input suite: each case is one call a user might write, the error class it
 * must throw, what the message must name (the function called, the argument, the values given), and the inputs
 * the caller holds, which must be exactly as they were afterwards (data, shape, contents, frozen-ness).
 */
import { expect, it } from 'vitest';
import { Tensor } from '@tapestry/core';

/** An error class tapestry throws (ShapeError, DTypeError, ArgumentError and their subclasses). */
type ErrorClass = new (...args: any[]) => Error;

/** One bad input. */
export interface BadInputCase {
  /** The call as the user writes it; also the test's name. */
  readonly name: string;
  /** The function the user called: the message must start with it (then `:` or `.`). */
  readonly fn: string;
  /** Runs the call. */
  readonly run: () => unknown;
  /** The class the error must be an instance of. */
  readonly error: ErrorClass;
  /** What the message must mention besides the function: the argument and the values given. */
  readonly mentions: readonly (string | RegExp)[];
  /** What the message must not say (a misleading cause or fix). */
  readonly absent?: readonly (string | RegExp)[];
  /** Inputs the caller holds: each must be unchanged by the failing call. */
  readonly held?: readonly unknown[];
}

/** A deep, comparable copy of a value: tensors by dtype, shape and data; containers with their frozen-ness. */
function snapshot(x: unknown): unknown {
  if (x instanceof Tensor) {
    return x.isAbstract ? { tensor: x.toString() } : { dtype: x.dtype, shape: [...x.shape], data: Array.from(x.dataSync()) };
  }
  if (ArrayBuffer.isView(x)) return { typed: x.constructor.name, data: Array.from(x as unknown as ArrayLike<number>) };
  if (x instanceof Map) return { map: [...x.entries()].map(([k, v]) => [snapshot(k), snapshot(v)]), frozen: Object.isFrozen(x) };
  if (Array.isArray(x)) return { array: x.map(snapshot), frozen: Object.isFrozen(x) };
  if (x !== null && typeof x === 'object') {
    const proto = Object.getPrototypeOf(x);
    if (proto === Object.prototype || proto === null) {
      return { object: Object.entries(x).map(([k, v]) => [k, snapshot(v)]), frozen: Object.isFrozen(x) };
    }
    return { instance: x }; // compared by identity: its own class keeps it immutable (Key, Vocabulary)
  }
  return x;
}

/** Registers one test per case. */
export function badInputCases(cases: readonly BadInputCase[]): void {
  const names = new Set<string>();
  for (const c of cases) {
    if (names.has(c.name)) throw new Error(`duplicate case name ${c.name}`);
    names.add(c.name);
  }
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const before = (c.held ?? []).map(snapshot);
    let thrown: unknown;
    try {
      c.run();
    } catch (e) {
      thrown = e;
    }
    expect(thrown, 'the call must throw').toBeDefined();
    expect(thrown).toBeInstanceOf(c.error);
    const message = (thrown as Error).message;
    expect(message.startsWith(`${c.fn}:`) || message.startsWith(`${c.fn}.`), `"${message}" must start with ${c.fn}`).toBe(true);
    for (const m of c.mentions) {
      if (typeof m === 'string') expect(message).toContain(m);
      else expect(message).toMatch(m);
    }
    for (const m of c.absent ?? []) {
      if (typeof m === 'string') expect(message).not.toContain(m);
      else expect(message).not.toMatch(m);
    }
    expect((c.held ?? []).map(snapshot)).toEqual(before);
  });
}
