/**
 * The kernel call of one graph node inside a compiled plan: everything that depends only on shapes
 * (broadcast plans, index tables, GEMM batch maps) is worked out once here, so the returned step only runs
 * the loop, reading its operands from and writing its result into the plan's value table.
 */
import { primitiveNamed } from '../autodiff/primitive.js';
import type { DType, TensorData } from '../dtype.js';
import { InternalError } from '../errors.js';
import { planBroadcast } from '../kernels/broadcast-plan.js';
import { binaryInto, castRange, unaryRange, whereInto, type BinaryCode, type UnaryCode } from '../kernels/elementwise.js';
import { gatherInto, scatterAddInto } from '../kernels/layout.js';
import { batchedGemmInto, batchedGemmPackedBInto, gemmBackend } from '../kernels/matmul.js';
import { SharedRightOperands } from '../kernels/matmul-shared.js';
import { sumRowsWasm, wasmGemmAvailable } from '../kernels/wasm/gemm-wasm.js';
import { argmaxInto, reduceInto, type ReduceCode } from '../kernels/reduce.js';
import { broadcastIndex, stridedIndex } from '../kernels/strided.js';
import { axisBlocks, broadcastShapes, sizeOf, stridesOf, type Shape } from '../shape.js';
import { keyWords } from '../random/key-data.js';
import { drawSample, type Sample } from '../random/samplers.js';
import { Tensor } from '../tensor.js';
import type { Graph, GraphNode } from './graph.js';
import { checkIndexRange } from './index-checks.js';
import { ELEMENTWISE } from './passes/fusion.js';

/**
 * Contiguous runs at least this long (in concats, slices, transposes and pads) are copied with
 * `TypedArray.set` rather than element by element: for a char-RNN step's concats (runs of 256 floats and
 * whole [32, 1024] blocks) it is 5–15 times faster, while for runs of a few elements creating the subarray
 * costs more than it saves.
 */
const COPY_RUN_MIN = 16;

/** A compiled kernel call. */
export type StepFn = () => void;

/**
 * A strided copy as runs of contiguous elements: run r reads `length` elements from `starts[r]` (the
 * innermost axis is contiguous in the source) or single elements when it is not.
 */
interface Runs {
  readonly starts: Int32Array;
  readonly length: number;
}

function runsOf(shape: Shape, strides: readonly number[], base: number): Runs {
  const rank = shape.length;
  if (rank > 0 && strides[rank - 1] === 1) {
    return { starts: stridedIndex(shape.slice(0, -1), strides.slice(0, -1), base), length: shape[rank - 1]! };
  }
  return { starts: stridedIndex(shape, strides, base), length: 1 };
}

/** o (contiguous) ← the runs of x. */
function gatherRuns(x: TensorData, o: TensorData, { starts, length }: Runs): void {
  if (length >= COPY_RUN_MIN) {
    for (let r = 0; r < starts.length; r++) o.set(x.subarray(starts[r]!, starts[r]! + length), r * length);
    return;
  }
  let k = 0;
  for (let r = 0; r < starts.length; r++) {
    const s = starts[r]!;
    for (let j = 0; j < length; j++) o[k++] = x[s + j]!;
  }
}

/** The runs of o ← x (contiguous). */
function scatterRuns(x: TensorData, o: TensorData, { starts, length }: Runs): void {
  if (length >= COPY_RUN_MIN) {
    for (let r = 0; r < starts.length; r++) o.set(x.subarray(r * length, (r + 1) * length), starts[r]!);
    return;
  }
  let k = 0;
  for (let r = 0; r < starts.length; r++) {
    const s = starts[r]!;
    for (let j = 0; j < length; j++) o[s + j] = x[k++]!;
  }
}

// the shared operands of each plan, found by its value table when the caller does not pass them
const sharedOperandsOfPlan = new WeakMap<TensorData[], SharedRightOperands>();

function sharedOperandsOf(values: TensorData[]): SharedRightOperands {
  let shared = sharedOperandsOfPlan.get(values);
  if (shared === undefined) {
    shared = new SharedRightOperands();
    sharedOperandsOfPlan.set(values, shared);
  }
  return shared;
}

/**
 * The step computing `node`: reads `values[slot(i)]` for each input i and writes `values[slot(node)]`.
 * Primitives without a dedicated step run their eager forward and copy (correct, but allocating).
 *
 * The steps of one plan must be built in the order they run, and run in that order: float32 products that
 * read the same right operand share it through `shared` (by default, one registry per `values` table), and
 * the first of them built is the one that packs it for the others at each run.
 */
export function nodeStep(
  graph: Graph, node: GraphNode, slot: (id: number) => number, values: TensorData[], shared: SharedRightOperands = sharedOperandsOf(values),
): StepFn {
  const ins = node.inputs.map(slot);
  const shapes = node.inputs.map((i) => graph.nodes[i]!.shape);
  const out = slot(node.id);
  const size = sizeOf(node.shape);
  const attrs = node.attrs as Record<string, any>;
  const kind = ELEMENTWISE.get(node.op);
  const [a, b, c] = ins as [number, number, number];
  if (kind === 'unary') {
    const code = node.op as UnaryCode;
    const p0 = (attrs?.p0 as number | undefined) ?? 0;
    const p1 = (attrs?.p1 as number | undefined) ?? 0;
    return () => unaryRange(code, values[a]!, 0, 1, values[out]!, 0, size, p0, p1);
  }
  if (kind === 'binary') {
    const plan = planBroadcast([shapes[0]!, shapes[1]!], node.shape);
    const code = node.op as BinaryCode;
    return () => binaryInto(code, values[a]!, values[b]!, values[out]!, plan);
  }
  if (kind === 'where') {
    const plan = planBroadcast([shapes[0]!, shapes[1]!, shapes[2]!], node.shape);
    return () => whereInto(values[a]!, values[b]!, values[c]!, values[out]!, plan);
  }
  if (kind === 'cast') {
    const toInt = node.dtype === 'int32';
    return () => castRange(values[a]!, 0, 1, values[out]!, 0, size, toInt);
  }
  switch (node.op) {
    case 'transpose': {
      const strides = stridesOf(shapes[0]!);
      const runs = runsOf(node.shape, (attrs.perm as number[]).map((p) => strides[p]!), 0);
      return () => gatherRuns(values[a]!, values[out]!, runs);
    }
    case 'slice': {
      const strides = stridesOf(shapes[0]!);
      const base = (attrs.begin as number[]).reduce((t, v, i) => t + v * strides[i]!, 0);
      const runs = runsOf(node.shape, strides, base);
      return () => gatherRuns(values[a]!, values[out]!, runs);
    }
    case 'broadcastTo': {
      const index = broadcastIndex(shapes[0]!, node.shape);
      return () => {
        const x = values[a]!;
        const o = values[out]!;
        for (let i = 0; i < index.length; i++) o[i] = x[index[i]!]!;
      };
    }
    case 'pad': {
      const strides = stridesOf(node.shape);
      const base = (attrs.begin as number[]).reduce((t, v, i) => t + v * strides[i]!, 0);
      const runs = runsOf(shapes[0]!, strides, base);
      return () => {
        const o = values[out]!;
        o.fill(0);
        scatterRuns(values[a]!, o, runs);
      };
    }
    case 'concat': {
      const axis = attrs.axis as number;
      const outer = sizeOf(node.shape.slice(0, axis));
      const widths = shapes.map((s) => sizeOf(s.slice(axis)));
      const total = widths.reduce((t, w) => t + w, 0);
      return () => {
        const o = values[out]!;
        let column = 0;
        for (let j = 0; j < ins.length; j++) {
          const part = values[ins[j]!]!;
          const w = widths[j]!;
          for (let r = 0; r < outer; r++) {
            const src = r * w;
            const dst = r * total + column;
            // a run of at least a few cache lines is a memcpy (several times faster than the element loop)
            if (w >= COPY_RUN_MIN) o.set(part.subarray(src, src + w), dst);
            else for (let e = 0; e < w; e++) o[dst + e] = part[src + e]!;
          }
          column += w;
        }
      };
    }
    case 'gather': {
      const [outer, n, inner] = axisBlocks(shapes[0]!, attrs.axis as number);
      return () => {
        const indices = values[b]! as Int32Array;
        checkIndexRange('gather', indices, n, `axis ${attrs.axis} of x`);
        gatherInto(values[a]!, outer, n, inner, indices, values[out]!);
      };
    }
    case 'scatterAdd': {
      const [outer, n, inner] = axisBlocks(attrs.shape as Shape, attrs.axis as number);
      return () => {
        const indices = values[b]! as Int32Array;
        checkIndexRange('gather (gradient)', indices, n, `axis ${attrs.axis} of x`);
        const o = values[out]!;
        o.fill(0);
        scatterAddInto(o, values[a]!, outer, n, inner, indices);
      };
    }
    case 'sum':
    case 'max':
    case 'min': {
      const code = node.op as ReduceCode;
      const xShape = shapes[0]!;
      const axes = attrs.axes as number[];
      if (code === 'sum' && node.dtype === 'float32') {
        const columnSums = columnSumStep(xShape, axes, a, out, values);
        if (columnSums !== null) return columnSums;
      }
      return () => reduceInto(code, values[a]!, xShape, axes, values[out]!);
    }
    case 'matmul':
      return matmulStep(shapes[0]!, shapes[1]!, attrs.transA as boolean, attrs.transB as boolean, node.dtype, a, b, out, values, shared);
    case 'argmax': {
      const xShape = shapes[0]!;
      const axis = attrs.axis as number;
      return () => argmaxInto(values[a]!, xShape, axis, values[out]!);
    }
    case 'oneHot': {
      const depth = attrs.depth as number;
      return () => {
        const indices = values[a]!;
        checkIndexRange('oneHot', indices, depth, 'depth');
        const o = values[out]!;
        o.fill(0);
        for (let i = 0; i < indices.length; i++) o[i * depth + indices[i]!] = 1;
      };
    }
    case 'random': {
      // a fresh sample per run from the key the run was given, drawn straight into the planned storage
      const sample = attrs as unknown as Sample;
      return () => {
        const [k0, k1] = keyWords(values[a]!);
        drawSample(k0, k1, sample, values[out]!);
      };
    }
    default:
      return fallbackStep(graph, node, ins, out, values);
  }
}

/**
 * A product's step. A float32 product on the WebAssembly kernel whose batch entries all read one op(B)
 * registers that operand with `shared`: if other products of the plan read it too, the first of them packs
 * it at each run and the rest skip copying and packing it; a batched product packs it once for all its
 * batch entries. The results are bit-identical to the plain kernel's either way.
 */
function matmulStep(
  aShape: Shape, bShape: Shape, transA: boolean, transB: boolean, dtype: DType, a: number, b: number, out: number, values: TensorData[],
  shared: SharedRightOperands,
): StepFn {
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
  const plain: StepFn = () => batchedGemmInto(values[a]!, values[b]!, values[out]!, batch, aIndex, bIndex, m, n, k, transA, transB, dtype);
  if (gemmBackend(dtype, m, n, k) !== 'wasm' || sizeOf(bBatch) !== 1) return plain;
  const operand = shared.operand(b, k, n, transB);
  const packs = operand.addUser();
  // whether other products read the operand is known only once the whole plan is built, so it is read at
  // run time; a batch of products over one op(B) packs it once in any case
  return () => {
    if (batch === 1 && !operand.shared) plain();
    else {
      const packed = packs ? operand.pack(values[b]! as Float32Array) : operand.panels();
      batchedGemmPackedBInto(values[a]! as Float32Array, packed, values[out]! as Float32Array, batch, aIndex, m, transA);
    }
  };
}

/**
 * A float32 sum over the leading axes (`axes` = 0, 1, …, q − 1, as the gradient of a broadcast bias is),
 * seen as the column sums of a [rows, cols] matrix and run on the WebAssembly kernel, which gives the bits
 * {@link reduceInto} gives; null for any other sum, or where WebAssembly SIMD is missing. Measured (best of
 * five, bench machine): [32, 1024], an LSTM step's bias gradient, 149 µs in TypeScript and 11 µs here;
 * [2048, 1024] 9.2 ms and 0.66 ms; even [4, 16] 0.31 µs and 0.16 µs, so there is no size threshold.
 */
function columnSumStep(xShape: Shape, axes: readonly number[], a: number, out: number, values: TensorData[]): StepFn | null {
  if (axes.length === 0 || axes.length === xShape.length || !axes.every((axis, i) => axis === i)) return null;
  const rows = sizeOf(xShape.slice(0, axes.length));
  const cols = sizeOf(xShape.slice(axes.length));
  if (rows < 2 || !wasmGemmAvailable()) return null;
  return () => sumRowsWasm(values[a]! as Float32Array, 0, rows, cols, values[out]! as Float32Array, 0);
}

/** Any other primitive: its eager forward, copied into the planned storage. */
function fallbackStep(graph: Graph, node: GraphNode, ins: readonly number[], out: number, values: TensorData[]): StepFn {
  const primitive = primitiveNamed(node.op);
  if (primitive === undefined) throw new InternalError(`internal: compile: no primitive named '${node.op}' (node %${node.id})`);
  const inputs = node.inputs.map((i) => graph.nodes[i]!);
  return () => {
    const operands = inputs.map((x, j) => new Tensor(values[ins[j]!]!, x.shape, x.dtype));
    values[out]!.set(primitive.forward(operands, node.attrs).data);
  };
}
