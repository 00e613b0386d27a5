/**
 * A thread's view of its pool: which thread it is, and the collectives it takes part in. Every thread runs
 * the same replica code, so every thread calls the same collectives in the same order with trees of the same
 * layout (checked: a thread whose tree differs fails the run with an error naming both layouts).
 */
import { ArgumentError, formatShape, tensor, Tensor, treeFlattenWithPath, treeStructure, treeUnflatten, type DType, type TensorData } from '@tapestry/core';
import { Barrier } from './barrier.js';
import { Word, type PoolMemory } from './memory.js';

/** One thread of a pool, as its replica sees it. */
export interface Thread {
  /** This thread's index, 0 for the coordinating thread (the one that called `dataParallel`). */
  readonly index: number;
  /** How many threads the pool has. */
  readonly threads: number;
  /**
   * The elementwise mean of `tree` over all threads (an all-reduce): a tree like `tree` of new float32 or
   * float64 tensors, summed in float64 in thread order 0, 1, … and divided by the thread count, so every
   * thread gets the same bits, and the same thread count gives the same bits on every run. Every thread
   * must call it, with a tree of the same structure, shapes and dtypes. With one thread it returns `tree`.
   */
  mean<T>(tree: T): T;
  /**
   * Every thread's `tree` concatenated along `axis` in thread order (an all-gather): a tree like `tree` whose
   * leaves are `threads` times longer on that axis. Every thread must call it with a tree of the same layout.
   * With one thread it returns `tree`.
   */
  gather<T>(tree: T, axis: number): T;
}

/** The thread of a pool of one: collectives are identities. */
export class SoloThread implements Thread {
  readonly index = 0;
  readonly threads = 1;

  mean<T>(tree: T): T {
    tensorLeaves('mean', tree, true);
    return tree;
  }

  gather<T>(tree: T, axis: number): T {
    for (const [path, leaf] of tensorLeaves('gather', tree, false)) checkAxis(path, leaf, axis);
    return tree;
  }
}

type ArrayType = Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor;
const ARRAY: Record<DType, ArrayType> = { float32: Float32Array, float64: Float64Array, int32: Int32Array };

/**
 * `out[i] = (parts[0][i] + parts[1][i] + …) / parts.length` for `from ≤ i < to`: summed in double precision in
 * thread order and rounded once by the store. One loop per array type, so that each sees one type only.
 */
function averageRange(parts: readonly TensorData[], out: TensorData, from: number, to: number): void {
  if (out instanceof Float32Array) averageFloat32(parts as Float32Array[], out, from, to);
  else averageFloat64(parts as Float64Array[], out as Float64Array, from, to);
}

function averageFloat32(parts: readonly Float32Array[], out: Float32Array, from: number, to: number): void {
  const count = parts.length;
  if (count === 2) {
    const [a, b] = parts as [Float32Array, Float32Array];
    for (let i = from; i < to; i++) out[i] = (a[i]! + b[i]!) / 2;
    return;
  }
  for (let i = from; i < to; i++) {
    let sum = parts[0]![i]!;
    for (let t = 1; t < count; t++) sum += parts[t]![i]!;
    out[i] = sum / count;
  }
}

function averageFloat64(parts: readonly Float64Array[], out: Float64Array, from: number, to: number): void {
  const count = parts.length;
  for (let i = from; i < to; i++) {
    let sum = parts[0]![i]!;
    for (let t = 1; t < count; t++) sum += parts[t]![i]!;
    out[i] = sum / count;
  }
}

/** The tensor leaves of a collective's tree, with their paths; anything else is an error. */
function tensorLeaves(op: string, tree: unknown, floatOnly: boolean): [string, Tensor][] {
  const leaves = treeFlattenWithPath<unknown>(tree);
  for (const [path, leaf] of leaves) {
    const where = path === '' ? 'the tree' : `leaf ${path}`;
    if (!(leaf instanceof Tensor)) throw new ArgumentError(`${op}: every leaf must be a tensor, but ${where} is ${typeof leaf}`);
    if (leaf.isAbstract) throw new ArgumentError(`${op}: ${where} is an abstract value of a trace; call ${op} outside jit, on the jitted function's results`);
    if (floatOnly && leaf.dtype === 'int32') throw new ArgumentError(`${op}: ${where} is int32; only float32 and float64 tensors can be averaged`);
  }
  return leaves as [string, Tensor][];
}

function checkAxis(path: string, leaf: Tensor, axis: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= leaf.rank) {
    throw new ArgumentError(
      `gather: axis must be an integer in [0, ${leaf.rank}) for leaf ${path || '(the tree)'} of shape ${formatShape(leaf.shape)}, got ${axis}`,
    );
  }
}

/** A small hash of a layout, so threads can check they exchange the same trees. */
function layoutHash(op: string, leaves: readonly [string, Tensor][], extra: number): number {
  let h = 2166136261 ^ extra;
  const mix = (s: string): void => {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  };
  mix(op);
  for (const [path, t] of leaves) mix(`${path}:${t.dtype}[${t.shape.join(',')}]`);
  return h | 0;
}

/** A view of `length` elements of `dtype` at `offset` bytes into `buffer`. */
function viewOf(dtype: DType, buffer: SharedArrayBuffer, offset: number, length: number): TensorData {
  if (dtype === 'float64') return new Float64Array(buffer, offset, length);
  if (dtype === 'int32') return new Int32Array(buffer, offset, length);
  return new Float32Array(buffer, offset, length);
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

/** A thread of a pool of several, over shared memory. */
export class SharedThread implements Thread {
  readonly threads: number;
  private readonly barrier: Barrier;
  private readonly words: Int32Array;
  /** Where the next collective of this step puts its data (reset at each step: all threads have finished the last one). */
  private cursor = 0;
  /** Collectives so far in this step: their layout words alternate between two slots (see exchange). */
  private collectives = 0;

  constructor(
    readonly index: number,
    private readonly memory: PoolMemory,
  ) {
    this.threads = memory.threads;
    this.words = new Int32Array(memory.control);
    this.barrier = new Barrier(this.words, this.threads, Word.Barrier);
  }

  /** Waits for the next command at the pool's barrier. */
  awaitCommand(): number {
    this.barrier.arrive();
    this.cursor = 0;
    this.collectives = 0;
    return Atomics.load(this.words, Word.Op);
  }

  /** Fails the run: every thread waiting at the barrier throws. */
  fail(): void {
    this.barrier.fail();
  }

  /** Whether some thread has failed the run. */
  get broken(): boolean {
    return this.barrier.broken;
  }

  mean<T>(tree: T): T {
    const leaves = tensorLeaves('mean', tree, true);
    const { views, result } = this.exchange('mean', leaves, 0, true);
    // a reduce-scatter then an all-gather: each thread averages its share of every leaf into the shared result
    // block, and once all have, every thread copies the whole result out (tensor() copies). Each element's
    // arithmetic is the same on whichever thread does it, so every thread gets the same bits.
    leaves.forEach(([, leaf], j) => {
      const from = Math.floor((leaf.size * this.index) / this.threads);
      const to = Math.floor((leaf.size * (this.index + 1)) / this.threads);
      averageRange(
        views.map((v) => v[j]!),
        result[j]!,
        from,
        to,
      );
    });
    this.barrier.arrive();
    const means = leaves.map(([, leaf], j) => tensor(result[j]!, { dtype: leaf.dtype, shape: leaf.shape }));
    return treeUnflatten(treeStructure(tree), means) as T;
  }

  gather<T>(tree: T, axis: number): T {
    const leaves = tensorLeaves('gather', tree, false);
    for (const [path, leaf] of leaves) checkAxis(path, leaf, axis);
    const { views } = this.exchange('gather', leaves, axis);
    const threads = this.threads;
    const gathered = leaves.map(([, leaf], j) => {
      const outer = leaf.shape.slice(0, axis).reduce((a, b) => a * b, 1);
      const run = leaf.size / outer; // the contiguous elements of one thread per outer index
      const out = new ARRAY[leaf.dtype](leaf.size * threads);
      for (let o = 0; o < outer; o++) {
        for (let t = 0; t < threads; t++) out.set(views[t]![j]!.subarray(o * run, (o + 1) * run), (o * threads + t) * run);
      }
      const shape = leaf.shape.map((d, k) => (k === axis ? d * threads : d));
      return tensor(out as TensorData, { dtype: leaf.dtype, shape });
    });
    return treeUnflatten(treeStructure(tree), gathered) as T;
  }

  /**
   * Writes this thread's leaves into its block of the data area, waits for every thread, checks that all
   * blocks have the same layout, and returns views of every thread's leaves: `views[thread][leaf]`; with
   * `withResult`, also views of one more block laid out alike, after the threads' (`result[leaf]`).
   */
  private exchange(op: string, leaves: readonly [string, Tensor][], extra: number, withResult = false): { views: TensorData[][]; result: TensorData[] } {
    const offsets: number[] = [];
    let stride = 0;
    for (const [, leaf] of leaves) {
      offsets.push(stride);
      stride = align8(stride + leaf.size * ARRAY[leaf.dtype].BYTES_PER_ELEMENT);
    }
    const base = this.cursor;
    // with a result block after the threads' blocks, laid out like each of them
    const need = base + (this.threads + (withResult ? 1 : 0)) * stride;
    this.ensureCapacity(need);
    const viewsOf = (t: number): TensorData[] => leaves.map(([, leaf], j) => viewOf(leaf.dtype, this.memory.data, base + t * stride + offsets[j]!, leaf.size));
    viewsOf(this.index).forEach((view, j) => view.set(leaves[j]![1].dataSync() as never));
    const hash = layoutHash(op, leaves, extra);
    // the next collective writes the other slot: a thread may start it while another still reads this one's
    const slot = Word.Layouts + (this.collectives++ % 2) * 2 * this.threads;
    Atomics.store(this.words, slot + 2 * this.index, stride);
    Atomics.store(this.words, slot + 2 * this.index + 1, hash);
    this.barrier.arrive();
    for (let t = 0; t < this.threads; t++) {
      const theirStride = Atomics.load(this.words, slot + 2 * t);
      const theirHash = Atomics.load(this.words, slot + 2 * t + 1);
      if (theirStride !== stride || theirHash !== hash) {
        const mine = leaves.map(([path, leaf]) => `${path || '(tree)'}: ${leaf.dtype}${formatShape(leaf.shape)}`).join(', ');
        throw new ArgumentError(
          `${op}: thread ${t} passed a tree of another layout (${theirStride} bytes) than thread ${this.index} (${stride} bytes: ${mine}); ` +
            `every thread must call the same collectives in the same order with trees of the same structure, shapes and dtypes`,
        );
      }
    }
    this.cursor = need;
    return { views: Array.from({ length: this.threads }, (_, t) => viewsOf(t)), result: withResult ? viewsOf(this.threads) : [] };
  }

  private ensureCapacity(bytes: number): void {
    const data = this.memory.data;
    if (bytes > data.maxByteLength) {
      throw new ArgumentError(
        `dataParallel: a collective needs ${bytes} bytes of shared memory, more than maxSharedBytes ${data.maxByteLength}; raise maxSharedBytes`,
      );
    }
    // several threads may grow it at once: growing to a length it already has, or a shorter one, is refused
    while (data.byteLength < bytes) {
      try {
        data.grow(bytes);
      } catch (error) {
        if (data.byteLength < bytes) throw error;
      }
    }
  }
}
