/**
 * The CPU backend's kernel table: one entry per primitive, typed so that a primitive without a kernel fails
 * to compile. Each kernel is planned once from shapes and attributes (broadcast walks, copy runs, GEMM batch
 * maps are worked out there) and then runs over given storage: eager calls plan and run at once, compiled
 * plans run the same plans over their planned storage. Elementwise primitives are given as row functions,
 * which eager kernels loop over broadcast rows and the fused-group interpreter chains in registers, so both
 * round identically.
 */
import type { KernelName, PlanContext } from '../backend/backend.js';
import type { AbstractValue, AttrsOf, BinaryName, ElementwiseName, PlainUnaryName } from '../binding/primitive.js';
import type { TensorData } from '../dtype.js';
import { ShapeError } from '../errors.js';
import { axisBlocks, broadcastShapes, formatShape, sizeOf, stridesOf, type Shape } from '../shape.js';
import { deriveKeyWords, keyWords } from '../random/threefry.js';
import { drawSample } from '../random/samplers.js';
import { planBroadcast } from './broadcast-plan.js';
import { COPY_RUN_MIN, gatherRuns, runsOf, scatterRuns, sharedView } from './copy.js';
import { binaryRange, castRange, unaryRange, whereRange, type BinaryCode, type UnaryCode } from './elementwise.js';
import { gatherInto, scatterAddInto } from './layout.js';
import { batchedGemmInto, batchedGemmPackedBInto, gemmBackend } from './matmul.js';
import { argmaxInto, reduceInto } from './reduce.js';
import { broadcastIndex } from './strided.js';
import type { SharedRightOperands } from './matmul-shared.js';
import type { RegisterFile } from './registers.js';
import { sumRowsWasm, wasmGemmAvailable } from './wasm/gemm-wasm.js';
import { copyRowsWasm, sumColumnsInPlaceWasm } from './wasm/elementwise-wasm.js';

/** The CPU backend's per-plan state: shared right operands of products and the fused groups' registers. */
export interface CpuPlanState {
  /** Right operands read by several products of the plan, packed once per run. */
  readonly operands: SharedRightOperands;
  /** The registers of the plan's fused groups. */
  readonly registers: RegisterFile;
  /** Bytes the plan's products need in its own GEMM memory (see `planGemmBytes`); 0 when none runs there. */
  readonly gemmBytes: number;
}

/** One row of an elementwise op of one operand: `o[oo + i] = f(x[xo + i·xs])`, strides 0 or 1. */
export type Row1 = (x: TensorData, xo: number, xs: number, o: TensorData, oo: number, n: number) => void;
/** One row of an elementwise op of two operands. */
export type Row2 = (a: TensorData, ao: number, as: number, b: TensorData, bo: number, bs: number, o: TensorData, oo: number, n: number) => void;
/** One row of an elementwise op of three operands (`where`). */
export type Row3 = (
  c: TensorData,
  co: number,
  cs: number,
  a: TensorData,
  ao: number,
  as: number,
  b: TensorData,
  bo: number,
  bs: number,
  o: TensorData,
  oo: number,
  n: number,
) => void;

/** An elementwise kernel: its row function for given attributes, by arity. */
export type RowKernel<P extends ElementwiseName> =
  | { readonly arity: 1; readonly row: (attrs: AttrsOf<P>, output: AbstractValue) => Row1 }
  | { readonly arity: 2; readonly row: (attrs: AttrsOf<P>, output: AbstractValue) => Row2 }
  | { readonly arity: 3; readonly row: (attrs: AttrsOf<P>, output: AbstractValue) => Row3 };

/** Any other kernel: planned for shapes and attributes, then run over typed arrays. */
export interface PlanKernel<P extends KernelName> {
  readonly arity?: undefined;
  /** Plans the kernel; `state` is the compiled plan's shared state, or null for an eager call. */
  readonly plan: (inputs: readonly AbstractValue[], output: AbstractValue, attrs: AttrsOf<P>, context: PlanContext) => CpuRun;
}

/** A kernel run over typed arrays. */
export type CpuRun = (inputs: readonly TensorData[], output: TensorData) => void;

/** A kernel that computes nothing: the output shares its input's storage (reshape). */
interface AliasKernel {
  readonly arity?: undefined;
  readonly alias: true;
}

/** The table's entry type for primitive `P`: row functions for elementwise ops, a planner (or an alias) otherwise. */
export type CpuKernel<P extends KernelName> = P extends ElementwiseName ? RowKernel<P> : PlanKernel<P> | AliasKernel;

const unary =
  (code: UnaryCode, p0 = 0, p1 = 0): Row1 =>
  (x, xo, xs, o, oo, n) =>
    unaryRange(code, x, xo, xs, o, oo, n, p0, p1);
const plainUnary = (code: PlainUnaryName & UnaryCode): RowKernel<PlainUnaryName> => ({ arity: 1, row: () => unary(code) });
const binary = (code: BinaryName & BinaryCode): RowKernel<BinaryName> => ({
  arity: 2,
  row: () => (a, ao, as, b, bo, bs, o, oo, n) => binaryRange(code, a, ao, as, b, bo, bs, o, oo, n),
});

/** Throws a ShapeError naming the op if an index is outside `[0, n)` (compiled plans meet indices only when they run). */
function checkIndexRange(op: string, indices: TensorData, n: number, what: string): void {
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i]!;
    if (v < 0 || v >= n) throw new ShapeError(`${op}: index ${v} (at flat position ${i}) is out of range for ${what} (size ${n})`);
  }
}

const reduction = <P extends 'sum' | 'max' | 'min'>(code: P): PlanKernel<P> => ({
  plan: ([x], output, { axes }) => {
    const xShape = x!.shape;
    if (code === 'sum' && output.dtype === 'float32') {
      const columnSums = columnSumRun(xShape, axes);
      if (columnSums !== null) return columnSums;
    }
    return ([xd], o) => reduceInto(code, xd!, xShape, axes, o);
  },
});

/**
 * A float32 sum over the leading axes (`axes` = 0, 1, …, q − 1, as the gradient of a broadcast bias is),
 * seen as the column sums of a [rows, cols] matrix and run on the WebAssembly kernel, which gives the bits
 * {@link reduceInto} gives; null for any other sum, or where WebAssembly SIMD is missing. Measured (best of
 * five, bench machine): [32, 1024], an LSTM step's bias gradient, 149 µs in TypeScript and 11 µs here;
 * [2048, 1024] 9.2 ms and 0.66 ms; even [4, 16] 0.31 µs and 0.16 µs, so there is no size threshold.
 */
function columnSumRun(xShape: Shape, axes: readonly number[]): CpuRun | null {
  if (axes.length === 0 || axes.length === xShape.length || !axes.every((axis, i) => axis === i)) return null;
  const rows = sizeOf(xShape.slice(0, axes.length));
  const cols = sizeOf(xShape.slice(axes.length));
  if (rows < 2 || !wasmGemmAvailable()) return null;
  return ([x], o) => {
    // a compiled plan's buffers live in the elementwise kernels' memory: summed there, nothing is copied
    if (!sumColumnsInPlaceWasm(x!, rows, cols, o)) sumRowsWasm(x as Float32Array, 0, rows, cols, o as Float32Array, 0);
  };
}

/**
 * A product's kernel. In a compiled plan, a float32 product on the WebAssembly kernel whose batch entries all
 * read one op(B) registers that operand (by its storage slot) with the plan's shared registry: if other
 * products of the plan read it too, the first of them packs it at each run and the rest skip copying and
 * packing it; a batched product packs it once for all its batch entries. The results are bit-identical to
 * the plain kernel's either way. Plans must be built, and run, in one order for this.
 */
const matmulKernel: PlanKernel<'matmul'> = {
  plan: ([aType, bType], output, { transA, transB }, context) => {
    const aShape = aType!.shape;
    const bShape = bType!.shape;
    const r = aShape.length;
    const m = transA ? aShape[r - 1]! : aShape[r - 2]!;
    const k = transA ? aShape[r - 2]! : aShape[r - 1]!;
    const n = transB ? bShape[bShape.length - 2]! : bShape[bShape.length - 1]!;
    const aBatch = aShape.slice(0, -2);
    const bBatch = bShape.slice(0, -2);
    const batchShape = broadcastShapes('matmul', aBatch, bBatch);
    const batch = sizeOf(batchShape);
    const aIndex = broadcastIndex(aBatch, batchShape);
    const bIndex = broadcastIndex(bBatch, batchShape);
    const dtype = output.dtype;
    const plain: CpuRun = ([a, b], c) => batchedGemmInto(a!, b!, c, batch, aIndex, bIndex, m, n, k, transA, transB, dtype);
    const state = context.shared as CpuPlanState | null;
    const slot = context.inputSlots[1] ?? -1;
    if (state === null || slot < 0 || gemmBackend(dtype, m, n, k) !== 'wasm' || sizeOf(bBatch) !== 1) return plain;
    const operand = state.operands.operand(slot, k, n, transB);
    const packs = operand.addUser();
    // whether other products read the operand is known only once the whole plan is built, so it is read at
    // run time; a batch of products over one op(B) packs it once in any case
    return (inputs, c) => {
      if (batch === 1 && !operand.shared) plain(inputs, c);
      else {
        const packed = packs ? operand.pack(inputs[1]! as Float32Array) : operand.panels();
        batchedGemmPackedBInto(inputs[0]! as Float32Array, packed, c as Float32Array, batch, aIndex, m, transA);
      }
    };
  },
};

/** A copy kernel from the runs of its input (slice, transpose). */
function copyOut(runs: ReturnType<typeof runsOf>): CpuRun {
  return ([x], o) => gatherRuns(x!, o, runs);
}

/** The CPU kernel of every primitive. */
export const cpuKernels: { readonly [P in KernelName]: CpuKernel<P> } = {
  neg: plainUnary('neg'),
  exp: plainUnary('exp'),
  expm1: plainUnary('expm1'),
  log: plainUnary('log'),
  log1p: plainUnary('log1p'),
  sqrt: plainUnary('sqrt'),
  abs: plainUnary('abs'),
  square: plainUnary('square'),
  sign: plainUnary('sign'),
  cos: plainUnary('cos'),
  sin: plainUnary('sin'),
  floor: plainUnary('floor'),
  tanh: plainUnary('tanh'),
  sigmoid: plainUnary('sigmoid'),
  relu: plainUnary('relu'),
  isFinite: plainUnary('isFinite'),
  leakyRelu: { arity: 1, row: ({ slope }) => unary('leakyRelu', slope) },
  elu: { arity: 1, row: ({ alpha }) => unary('elu', alpha) },
  softplus: { arity: 1, row: ({ beta, threshold }) => unary('softplus', beta, threshold) },
  add: binary('add'),
  sub: binary('sub'),
  mul: binary('mul'),
  div: binary('div'),
  pow: binary('pow'),
  maximum: binary('maximum'),
  minimum: binary('minimum'),
  greater: binary('greater'),
  less: binary('less'),
  equal: binary('equal'),
  greaterEqual: binary('greaterEqual'),
  lessEqual: binary('lessEqual'),
  notEqual: binary('notEqual'),
  where: { arity: 3, row: () => whereRange },
  cast: {
    arity: 1,
    row:
      ({ dtype }) =>
      (x, xo, xs, o, oo, n) =>
        castRange(x, xo, xs, o, oo, n, dtype === 'int32'),
  },
  sum: reduction('sum'),
  max: reduction('max'),
  min: reduction('min'),
  argmax: {
    plan: ([x], _output, { axis }) => {
      const xShape = x!.shape;
      return ([xd], o) => argmaxInto(xd!, xShape, axis, o);
    },
  },
  matmul: matmulKernel,
  reshape: { alias: true },
  transpose: {
    plan: ([x], output, { perm }) => {
      const strides = stridesOf(x!.shape);
      return copyOut(
        runsOf(
          output.shape,
          perm.map((p) => strides[p]!),
          0,
        ),
      );
    },
  },
  broadcastTo: {
    plan: ([x], output) => {
      const index = broadcastIndex(x!.shape, output.shape);
      return ([xd], o) => {
        for (let i = 0; i < index.length; i++) o[i] = xd![index[i]!]!;
      };
    },
  },
  slice: {
    plan: ([x], _output, { begin, size }) => {
      const strides = stridesOf(x!.shape);
      const base = begin.reduce((t, v, i) => t + v * strides[i]!, 0);
      return copyOut(runsOf(size, strides, base));
    },
  },
  pad: {
    plan: ([x], output, { begin }) => {
      const strides = stridesOf(output.shape);
      const base = begin.reduce((t, v, i) => t + v * strides[i]!, 0);
      const runs = runsOf(x!.shape, strides, base);
      return ([xd], o) => {
        o.fill(0);
        scatterRuns(xd!, o, runs);
      };
    },
  },
  concat: {
    plan: (inputs, output, { axis }) => {
      const outer = sizeOf(output.shape.slice(0, axis));
      const widths = inputs.map((s) => sizeOf(s.shape.slice(axis)));
      const total = widths.reduce((t, w) => t + w, 0);
      return (parts, o) => {
        let column = 0;
        for (let j = 0; j < parts.length; j++) {
          const part = parts[j]!;
          const w = widths[j]!;
          // parts in the output's buffer (a compiled plan's) copy within it: every row in one call, or at least
          // without a view per run
          if (w >= COPY_RUN_MIN && copyRowsWasm(part, 0, w, o, column, total, outer, w)) {
            column += w;
            continue;
          }
          const whole = w >= COPY_RUN_MIN && outer > 1 ? sharedView(part, o) : null;
          const partAt = part.byteOffset / part.BYTES_PER_ELEMENT;
          const oAt = o.byteOffset / o.BYTES_PER_ELEMENT;
          for (let r = 0; r < outer; r++) {
            const src = r * w;
            const dst = r * total + column;
            // a run of at least a few cache lines is a memcpy (several times faster than the element loop)
            if (whole !== null) whole.copyWithin(oAt + dst, partAt + src, partAt + src + w);
            else if (w >= COPY_RUN_MIN) o.set(part.subarray(src, src + w), dst);
            else for (let e = 0; e < w; e++) o[dst + e] = part[src + e]!;
          }
          column += w;
        }
      };
    },
  },
  gather: {
    plan: ([x], _output, { axis }) => {
      const [outer, n, inner] = axisBlocks(x!.shape, axis);
      const what = `axis ${axis} of x ${formatShape(x!.shape)}`;
      return ([xd, indices], o) => {
        checkIndexRange('gather', indices!, n, what);
        gatherInto(xd!, outer, n, inner, indices as Int32Array, o);
      };
    },
  },
  scatterAdd: {
    plan: (_inputs, _output, { axis, shape }) => {
      const [outer, n, inner] = axisBlocks(shape, axis);
      const what = `axis ${axis} of x ${formatShape(shape)}`;
      return ([g, indices], o) => {
        checkIndexRange('gather (gradient)', indices!, n, what);
        o.fill(0);
        scatterAddInto(o, g!, outer, n, inner, indices as Int32Array);
      };
    },
  },
  oneHot: {
    plan:
      (_inputs, _output, { depth }) =>
      ([indices], o) => {
        checkIndexRange('oneHot', indices!, depth, 'depth');
        o.fill(0);
        for (let i = 0; i < indices!.length; i++) o[i * depth + indices![i]!] = 1;
      },
  },
  deriveKey: {
    plan:
      (_inputs, _output, { c0, c1 }) =>
      ([key], o) => {
        const [k0, k1] = keyWords(key!);
        o.set(deriveKeyWords(k0, k1, c0, c1));
      },
  },
  // a fresh sample per run from the key the run was given, drawn straight into the output's storage
  random: {
    plan:
      (_inputs, _output, sample) =>
      ([key], o) => {
        const [k0, k1] = keyWords(key!);
        drawSample(k0, k1, sample, o);
      },
  },
};

/**
 * The eager (unfused) run of an elementwise kernel: its row function over the broadcast rows of the output.
 */
export function rowsRun<P extends ElementwiseName>(kernel: RowKernel<P>, inputs: readonly AbstractValue[], output: AbstractValue, attrs: AttrsOf<P>): CpuRun {
  const size = sizeOf(output.shape);
  switch (kernel.arity) {
    case 1: {
      // one operand: it has the output's shape
      const row = kernel.row(attrs, output);
      return ([x], o) => row(x!, 0, 1, o, 0, size);
    }
    case 2: {
      const row = kernel.row(attrs, output);
      const { outer, inner, rows, strides } = planBroadcast(
        inputs.map((x) => x.shape),
        output.shape,
      );
      const [aRows, bRows] = rows as [Int32Array | null, Int32Array | null];
      const [as, bs] = strides as [number, number];
      return ([a, b], o) => {
        for (let r = 0; r < outer; r++) row(a!, aRows === null ? 0 : aRows[r]!, as, b!, bRows === null ? 0 : bRows[r]!, bs, o, r * inner, inner);
      };
    }
    case 3: {
      const row = kernel.row(attrs, output);
      const { outer, inner, rows, strides } = planBroadcast(
        inputs.map((x) => x.shape),
        output.shape,
      );
      const [cRows, aRows, bRows] = rows as [Int32Array | null, Int32Array | null, Int32Array | null];
      const [cs, as, bs] = strides as [number, number, number];
      return ([c, a, b], o) => {
        for (let r = 0; r < outer; r++) {
          const co = cRows === null ? 0 : cRows[r]!;
          const ao = aRows === null ? 0 : aRows[r]!;
          const bo = bRows === null ? 0 : bRows[r]!;
          row(c!, co, cs, a!, ao, as, b!, bo, bs, o, r * inner, inner);
        }
      };
    }
  }
}
