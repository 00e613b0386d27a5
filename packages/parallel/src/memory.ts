/**
 * The memory the threads of a pool share: control words (the barrier, the command, the failure record and
 * each thread's layout of the collective under way), two slots for the step's input (alternating by step,
 * so the coordinating thread can write the next input while a slow thread still reads this one), a record
 * of the first failure, and a growable data area for the collectives.
 */
import { BARRIER_WORDS } from './barrier.js';

/** Indices of the control words. */
export const Word = {
  /** The barrier's three words. */
  Barrier: 0,
  /** The command of the step about to run: {@link Op}. */
  Op: BARRIER_WORDS,
  /** The byte lengths of the two input slots. */
  InputLength: BARRIER_WORDS + 1,
  /** The index of the first thread that failed, or -1. */
  FailedThread: BARRIER_WORDS + 3,
  /** The byte length of the failure record. */
  ErrorLength: BARRIER_WORDS + 4,
  /** Two slots (alternate collectives) of two words per thread: the byte size and a hash of its part's layout. */
  Layouts: BARRIER_WORDS + 5,
} as const;

/** The commands. */
export const Op = { Step: 1, Stop: 2 } as const;

/** Bytes of one input slot: a step's input is small (window numbers, flags), written as JSON. */
export const INPUT_BYTES = 64 * 1024;

/** Bytes of the failure record (the error's name, message and stack as JSON, cut to fit). */
export const ERROR_BYTES = 16 * 1024;

/** A SharedArrayBuffer that can grow in place (ES2024; Node 20, Chrome 111, Firefox 128, Safari 16.4). */
export interface GrowableSharedArrayBuffer extends SharedArrayBuffer {
  readonly maxByteLength: number;
  grow(byteLength: number): void;
}

/**
 * A growable SharedArrayBuffer. The constructor is looked up when called, not when this module loads: a page
 * that is not cross-origin isolated has no `SharedArrayBuffer` at all, and a one-thread pool must still load.
 */
function growableSharedArrayBuffer(byteLength: number, maxByteLength: number): GrowableSharedArrayBuffer {
  const Growable = SharedArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => GrowableSharedArrayBuffer;
  return new Growable(byteLength, { maxByteLength });
}

/** The shared buffers of a pool of `threads` threads. */
export interface PoolMemory {
  readonly threads: number;
  readonly control: SharedArrayBuffer;
  readonly input: SharedArrayBuffer;
  readonly error: SharedArrayBuffer;
  /** Growable up to its `maxByteLength`: collectives take what their trees need. */
  readonly data: GrowableSharedArrayBuffer;
}

/** Fresh shared memory for `threads` threads, whose collectives may use up to `maxDataBytes`. */
export function allocatePoolMemory(threads: number, maxDataBytes: number): PoolMemory {
  const control = new SharedArrayBuffer((Word.Layouts + 4 * threads) * Int32Array.BYTES_PER_ELEMENT);
  new Int32Array(control)[Word.FailedThread] = -1;
  return {
    threads,
    control,
    input: new SharedArrayBuffer(2 * INPUT_BYTES),
    error: new SharedArrayBuffer(ERROR_BYTES),
    data: growableSharedArrayBuffer(0, maxDataBytes),
  };
}

/** What a failed thread leaves for the others. */
export interface FailureRecord {
  readonly thread: number;
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

/** Records `error` as the run's failure if no thread has failed yet; returns whether this one was first. */
export function recordFailure(memory: PoolMemory, thread: number, error: unknown): boolean {
  const words = new Int32Array(memory.control);
  if (Atomics.compareExchange(words, Word.FailedThread, -1, thread) !== -1) return false;
  const e = error instanceof Error ? error : new Error(String(error));
  const bytes = new TextEncoder().encode(JSON.stringify({ name: e.name, message: e.message, stack: e.stack }));
  // a record cut to fit is no longer JSON: keep the message, drop the stack
  const fitted = bytes.length <= ERROR_BYTES ? bytes : new TextEncoder().encode(JSON.stringify({ name: e.name, message: e.message.slice(0, ERROR_BYTES / 4) }));
  new Uint8Array(memory.error).set(fitted);
  Atomics.store(words, Word.ErrorLength, fitted.length);
  return true;
}

/** The failure recorded by {@link recordFailure}, if any. */
export function readFailure(memory: PoolMemory): FailureRecord | undefined {
  const words = new Int32Array(memory.control);
  const thread = Atomics.load(words, Word.FailedThread);
  if (thread < 0) return undefined;
  const length = Atomics.load(words, Word.ErrorLength);
  // a thread that failed without a record (it died) has length 0
  if (length === 0) return { thread, name: 'Error', message: 'the thread stopped without reporting an error' };
  const text = new TextDecoder().decode(new Uint8Array(memory.error).slice(0, length));
  return { thread, ...(JSON.parse(text) as Omit<FailureRecord, 'thread'>) };
}

/** The error a failed run throws on the coordinating thread: the failing thread's error, with its stack. */
export function failureError(record: FailureRecord): Error {
  const cause = new Error(record.message);
  cause.name = record.name;
  if (record.stack !== undefined) cause.stack = record.stack;
  const error = new Error(`dataParallel: thread ${record.thread} failed: ${record.name}: ${record.message}`, { cause });
  if (record.stack !== undefined) error.stack = `${error.stack ?? error.message}\ncaused by (thread ${record.thread}): ${record.stack}`;
  return error;
}
