import { allocate, dtypeOfArray, DTYPES, DTYPE_ABBREVIATION, type DType, type TensorData } from './dtype.js';
import { ArgumentError, DTypeError, ShapeError } from './errors.js';
import { checkShape, checkSize, formatShape, sizeOf, type Shape } from './shape.js';
import type { Track } from './binding/track.js';
import type { Backend } from './backend/backend.js';
import { cpu } from './backend/cpu.js';

/**
 * Where an abstract (traced) value lives: the trace recording it and its node there. Abstract values have
 * a shape and a dtype but no data; they exist only while `trace` or `jit` runs a function.
 * @internal
 */
export interface TraceRef {
  /** The trace that created the value. */
  readonly owner: object;
  /** The value's node id in that trace's graph. */
  readonly id: number;
}

function tracedReadMessage(what: string, x: Tensor): string {
  return (
    `${what}: traced value read: ${DTYPE_ABBREVIATION[x.dtype]}${formatShape(x.shape)} (%${x.traced!.id}) is an abstract value of trace/jit, ` +
    'with a shape and a dtype but no data. Inside a traced function JS control flow may depend on shapes, not on values: ' +
    'compute with ops instead (where() for a branch), or read the value outside the traced function (from its result)'
  );
}

/**
 * The storage of every abstract value: any read (a kernel, `item`, `toArray`) throws, naming the problem.
 * A kernel only meets it when an abstract value escapes its trace and is used eagerly afterwards.
 */
const TRACED_DATA = new Proxy(new Float32Array(0), {
  get(): never {
    throw new ArgumentError(
      'traced value read: a kernel tried to read the data of an abstract value (from trace/jit). Traced values have ' +
        'shapes and dtypes but no data, and must not escape the traced function: return them instead',
    );
  },
}) as unknown as TensorData;

const DONATED_MESSAGE =
  "donated tensor read: this tensor was donated to a jitted call (jit's `donate` option), which may have reused its " +
  "storage for the call's results; use the results of that call instead";

/** The storage of a tensor donated to a jitted call: any read throws, naming the problem. */
const DONATED_DATA = new Proxy(new Float32Array(0), {
  get(): never {
    throw new ArgumentError(DONATED_MESSAGE);
  },
}) as unknown as TensorData;

/**
 * Marks `x` as donated: its storage now belongs to a jitted call, and reading `x` throws from here on. Returns
 * the storage it had.
 * @internal
 */
export function donateStorage(x: Tensor): unknown {
  const storage = x.storage;
  (x as { storage: unknown }).storage = DONATED_DATA;
  return storage;
}

/**
 * Whether `x` was donated to a jitted call (see {@link donateStorage}).
 * @internal
 */
export function isDonated(x: Tensor): boolean {
  return x.storage === DONATED_DATA;
}

/** Nested JS arrays of numbers, as accepted by {@link tensor} and returned by {@link Tensor.toArray}. */
export type NestedArray = number | readonly NestedArray[];

/** A tensor, or a plain number standing for a 0-d tensor of the other operand's dtype. */
export type TensorLike = Tensor | number;

/**
 * An immutable n-dimensional array: a dtype, a shape and contiguous row-major storage on one backend (the
 * CPU unless placed elsewhere with `devicePut`). No op mutates a tensor; every op returns a new one, on the
 * backend its inputs live on. Tensors are created with {@link tensor}, {@link zeros} and friends.
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4]], { dtype: 'float64' });
 * x.shape;     // [2, 2]
 * x.toArray(); // [[1, 2], [3, 4]]
 * ```
 */
export class Tensor {
  /** The element type. */
  readonly dtype: DType;
  /** The size of each axis, outermost first. */
  readonly shape: Shape;
  /** The number of elements. */
  readonly size: number;
  /** The backend whose storage holds the values (`cpu` unless placed elsewhere). */
  readonly backend: Backend;
  /**
   * The storage, owned by {@link Tensor.backend} (a typed array on the CPU). Treat it as read-only: other
   * tensors may share it.
   * @internal
   */
  readonly storage: unknown;
  /**
   * The tapes this value is recorded on (null outside any differentiation).
   * @internal
   */
  readonly track: Track | null;
  /**
   * Set on abstract values (data-less, made while tracing): the trace and node they stand for.
   * @internal
   */
  readonly traced: TraceRef | null;

  /** @internal Use {@link tensor} and the other creation functions. */
  constructor(storage: unknown, shape: Shape, dtype: DType, track: Track | null = null, traced: TraceRef | null = null, backend: Backend = cpu) {
    this.storage = storage;
    this.shape = shape;
    this.dtype = dtype;
    this.size = sizeOf(shape);
    this.track = track;
    this.traced = traced;
    this.backend = backend;
  }

  /**
   * Whether this is an abstract value of a `trace`/`jit` (a shape and a dtype, no data yet). Code that
   * validates values eagerly (say, ids against a vocabulary) skips that check for abstract values; the
   * compiled plan checks indices when it runs.
   */
  get isAbstract(): boolean {
    return this.traced !== null;
  }

  /** The number of axes. */
  get rank(): number {
    return this.shape.length;
  }

  /** The value as nested JS arrays (a plain number for a 0-d tensor). CPU tensors only: see {@link Tensor.data}. */
  toArray(): NestedArray {
    const data = hostData(this, 'toArray()');
    if (this.shape.length === 0) return data[0]!;
    const build = (axis: number, offset: number, stride: number): NestedArray[] => {
      const n = this.shape[axis]!;
      const inner = stride / n;
      const out: NestedArray[] = new Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = axis === this.shape.length - 1 ? data[offset + i]! : build(axis + 1, offset + i * inner, inner);
      }
      return out;
    };
    return build(0, 0, this.size);
  }

  /** The single element of a tensor of size 1, as a number. CPU tensors only: see {@link Tensor.data}. */
  item(): number {
    const data = hostData(this, 'item()');
    if (this.size !== 1) {
      throw new ShapeError(`item: expected a tensor with exactly one element, got shape ${formatShape(this.shape)}`);
    }
    return data[0]!;
  }

  /** A copy of the values as a typed array of the tensor's dtype, safe to modify. CPU tensors only. */
  dataSync(): TensorData {
    return hostData(this, 'dataSync()').slice();
  }

  /**
   * A copy of the values as a typed array of the tensor's dtype, from any backend: a GPU tensor is read back
   * once its pending work is done.
   * @example
   * ```ts
   * const values = await loss.data();
   * ```
   */
  async data(): Promise<TensorData> {
    if (this.traced !== null) throw new ArgumentError(tracedReadMessage('data()', this));
    const host = this.backend.hostView?.(this.storage);
    if (host !== undefined) return host.slice();
    return this.backend.toHost(this.storage, this.dtype, this.size);
  }

  /** A short description such as `Tensor(f32[2, 3])` (the backend is named when it is not the CPU). */
  toString(): string {
    const where = this.backend === cpu ? '' : ` on ${this.backend.name}`;
    return `Tensor(${DTYPE_ABBREVIATION[this.dtype]}${formatShape(this.shape)}${where})`;
  }
}

/**
 * The storage of a tensor on a host-memory backend (the CPU), for reading it synchronously; throws naming
 * `what` and the asynchronous form for a tensor elsewhere, and for an abstract value of a trace.
 * @internal
 */
export function hostData(x: Tensor, what: string): TensorData {
  if (x.traced !== null) throw new ArgumentError(tracedReadMessage(what, x));
  const view = x.backend.hostView;
  if (view === undefined) {
    throw new ArgumentError(
      `${what}: ${x.toString()} lives on ${x.backend.name}, whose memory cannot be read synchronously: ` +
        'use `await x.data()` or `await deviceGet(tree)` instead',
    );
  }
  return view(x.storage);
}

/**
 * An abstract value of a trace: shape and dtype, no data.
 * @internal
 */
export function abstractTensor(shape: Shape, dtype: DType, traced: TraceRef, backend: Backend = cpu): Tensor {
  return new Tensor(TRACED_DATA, shape, dtype, null, traced, backend);
}

function checkDType(op: string, dtype: unknown): DType {
  if (!DTYPES.includes(dtype as DType)) {
    throw new DTypeError(`${op}: unknown dtype ${JSON.stringify(dtype)} (expected one of ${DTYPES.join(', ')})`);
  }
  return dtype as DType;
}

function inferShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = values;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0]!;
  }
  return shape;
}

/** The int32 range, as PyTorch enforces it: a value outside is refused, never wrapped. */
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/** Throws unless `value` is an integer in the int32 range, naming the function, the argument and the value. */
function checkInt32(op: string, argument: string, value: number): void {
  if (!Number.isInteger(value)) throw new DTypeError(`${op}: int32 tensors hold integers, got ${argument} = ${value}`);
  if (value < INT32_MIN || value > INT32_MAX) {
    throw new ArgumentError(`${op}: ${argument} = ${value} is outside the int32 range [${INT32_MIN}, ${INT32_MAX}] (it would wrap)`);
  }
}

/** A leaf of a nested array for a message: what it is, not just its type. */
function describeValue(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (v === null || v === undefined) return String(v);
  return Array.isArray(v) ? `an array of ${v.length}` : typeof v;
}

function flattenInto(op: string, values: NestedArray, shape: Shape, axis: number, out: TensorData, offset: number): number {
  if (axis === shape.length) {
    if (typeof values !== 'number') {
      const what = Array.isArray(values) ? 'ragged nested array: ' : '';
      throw new ShapeError(`${op}: ${what}expected a number at depth ${axis} (shape ${formatShape(shape)}), got ${describeValue(values)}`);
    }
    out[offset] = values;
    return offset + 1;
  }
  if (!Array.isArray(values) || values.length !== shape[axis]) {
    throw new ShapeError(
      `${op}: ragged nested array: expected ${shape[axis]} entries at depth ${axis} (shape ${formatShape(shape)}), ` +
        `got ${Array.isArray(values) ? values.length : describeValue(values)}`,
    );
  }
  for (const v of values) offset = flattenInto(op, v, shape, axis + 1, out, offset);
  return offset;
}

/** Options of {@link tensor}. */
export interface TensorOptions {
  /** The dtype; defaults to `float32` for numbers and arrays, and to a typed array's own dtype. */
  dtype?: DType;
  /** The shape; defaults to the nesting of the array (or `[length]` for a typed array). */
  shape?: readonly number[];
}

/**
 * Creates a tensor from a number, nested arrays or a typed array (copied). An integer dtype requires
 * integer values; a typed array must already have the requested dtype (no silent casts).
 *
 * @example
 * ```ts
 * tensor(3);                                         // 0-d float32
 * tensor([[1, 2, 3]], { dtype: 'float64' });         // [1, 3]
 * tensor(new Int32Array([0, 2, 1]));                 // int32 [3]
 * tensor(new Float32Array(6), { shape: [2, 3] });   // reshaped view of a copy
 * ```
 */
export function tensor(values: NestedArray | TensorData, options: TensorOptions = {}): Tensor {
  const op = 'tensor';
  if (options === null || typeof options !== 'object') throw new ArgumentError(`${op}: options must be an object { dtype, shape }, got ${String(options)}`);
  const arrayDType = dtypeOfArray(values);
  if (arrayDType !== undefined) {
    const typed = values as TensorData;
    const dtype = options.dtype === undefined ? arrayDType : checkDType(op, options.dtype);
    if (dtype !== arrayDType) {
      throw new DTypeError(`${op}: a ${arrayDType} array was given with dtype ${dtype}; convert it first or use cast()`);
    }
    const shape = options.shape === undefined ? [typed.length] : checkShape(op, 'options.shape', options.shape);
    if (sizeOf(shape) !== typed.length) {
      throw new ShapeError(`${op}: shape ${formatShape(shape)} holds ${sizeOf(shape)} elements but the array has ${typed.length}`);
    }
    return new Tensor(typed.slice(), shape, dtype);
  }
  if (typeof values !== 'number' && !Array.isArray(values)) {
    throw new ArgumentError(`${op}: expected a number, nested arrays of numbers or a typed array, got ${Object.prototype.toString.call(values)}`);
  }
  const dtype = checkDType(op, options.dtype ?? 'float32');
  const nested = values as NestedArray;
  const natural = inferShape(nested);
  const data = allocate(dtype, sizeOf(natural));
  flattenInto(op, nested, natural, 0, data, 0);
  if (dtype === 'int32') {
    // checked on the given numbers: the Int32Array has already wrapped them
    let index = 0;
    const check = (v: NestedArray): void => {
      if (typeof v === 'number') checkInt32(op, `values (flat index ${index++})`, v);
      else v.forEach(check);
    };
    check(nested);
  }
  const shape = options.shape === undefined ? natural : checkShape(op, 'options.shape', options.shape);
  if (sizeOf(shape) !== data.length) {
    throw new ShapeError(`${op}: shape ${formatShape(shape)} holds ${sizeOf(shape)} elements but the values have ${data.length}`);
  }
  return new Tensor(data, shape, dtype);
}

/** A 0-d tensor holding `value`. */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return filled('scalar', [], value, dtype);
}

/**
 * A tensor of the given shape filled with `value`.
 * @example
 * ```ts
 * full([2, 2], 0.5, 'float64');
 * ```
 */
export function full(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  return filled('full', shape, value, dtype);
}

/** `full` for each creation function, so errors name the function the user called (`zeros`, not `full`). */
function filled(op: string, shape: readonly number[], value: number, dtype: DType): Tensor {
  const s = checkShape(op, 'shape', shape);
  checkDType(op, dtype);
  if (typeof value !== 'number') throw new ArgumentError(`${op}: value must be a number, got ${describeValue(value)}`);
  if (dtype === 'int32') checkInt32(op, 'value', value);
  const data = allocate(dtype, sizeOf(s));
  if (value !== 0) data.fill(value);
  return new Tensor(data, s, dtype);
}

/** A tensor of zeros. @example `zeros([3, 4], 'float64')` */
export function zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return filled('zeros', shape, 0, dtype);
}

/** A tensor of ones. @example `ones([3], 'int32')` */
export function ones(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return filled('ones', shape, 1, dtype);
}

/** Zeros with the shape and dtype of `x`, on its backend. */
export function zerosLike(x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new ArgumentError(`zerosLike: x must be a Tensor, got ${describeValue(x)}`);
  return onBackendOf(x, filled('zerosLike', x.shape, 0, x.dtype));
}

/** Ones with the shape and dtype of `x`, on its backend. */
export function onesLike(x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new ArgumentError(`onesLike: x must be a Tensor, got ${describeValue(x)}`);
  return onBackendOf(x, filled('onesLike', x.shape, 1, x.dtype));
}

/**
 * `value` (a CPU tensor just made) placed on the backend of `like`: constants an op makes for its operands
 * (a literal, zeros for a gradient) must live where the operands do.
 * @internal
 */
export function onBackendOf(like: Tensor, value: Tensor): Tensor {
  if (like.backend === value.backend) return value;
  return new Tensor(like.backend.fromHost(hostData(value, 'onBackendOf')), value.shape, value.dtype, null, null, like.backend);
}

/**
 * Evenly spaced values in `[start, stop)`: `arange(5)` is 0…4, `arange(2, 8, 2)` is 2, 4, 6.
 */
export function arange(start: number, stop?: number, step = 1, dtype: DType = 'float32'): Tensor {
  checkDType('arange', dtype);
  const [from, to] = stop === undefined ? [0, start] : [start, stop];
  if (step === 0 || !Number.isFinite(step)) throw new ArgumentError(`arange: step must be a non-zero finite number, got ${step}`);
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new ArgumentError(`arange: start and stop must be finite, got ${from} and ${to}`);
  if (dtype === 'int32' && (!Number.isInteger(from) || !Number.isInteger(step))) {
    throw new DTypeError(`arange: int32 needs integer start and step, got ${from} and ${step}`);
  }
  const n = Math.max(0, Math.ceil((to - from) / step));
  checkSize('arange', 'the result', [n]);
  if (dtype === 'int32' && n > 0) {
    checkInt32('arange', 'start', from);
    checkInt32('arange', 'the last value', from + (n - 1) * step);
  }
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = from + i * step;
  return new Tensor(data, [n], dtype);
}

/** The `n × n` identity matrix. */
export function eye(n: number, dtype: DType = 'float32'): Tensor {
  checkShape('eye', 'n', [n]);
  checkDType('eye', dtype);
  checkSize('eye', 'the result', [n, n]);
  const data = allocate(dtype, n * n);
  for (let i = 0; i < n; i++) data[i * n + i] = 1;
  return new Tensor(data, [n, n], dtype);
}
