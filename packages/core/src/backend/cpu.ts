/**
 * The CPU backend: storage is a typed array, kernels are the TypeScript and WebAssembly kernels of
 * `kernels/`, and work runs at once (there is nothing to flush).
 */
import type { AttrsOf } from '../binding/primitive.js';
import { allocate, DTYPES, type DType, type TensorData } from '../dtype.js';
import { cpuKernels, rowsRun, type CpuPlanState, type CpuRun, type PlanKernel, type RowKernel } from '../kernels/cpu-kernels.js';
import { addRuns, runsOf } from '../kernels/copy.js';
import { binaryRange } from '../kernels/elementwise.js';
import { planBroadcast } from '../kernels/broadcast-plan.js';
import { planFused, rowsPerChunk } from '../kernels/fused.js';
import { planProductSum } from '../kernels/product-sum.js';
import { scatterAddInto } from '../kernels/layout.js';
import { planGemmBytes, SharedRightOperands } from '../kernels/matmul-shared.js';
import { RegisterFile } from '../kernels/registers.js';
import { WasmArena } from '../kernels/wasm/elementwise-wasm.js';
import { GemmSpace } from '../kernels/wasm/gemm-wasm.js';
import { axisBlocks, stridesOf } from '../shape.js';
import type { Backend, FusedInstruction, KernelName, KernelRun } from './backend.js';

/** The CPU backend, the default home of every tensor. */
export const cpu: Backend = {
  name: 'cpu',
  dtypes: DTYPES,
  allocate: (dtype: DType, size: number) => allocate(dtype, size),
  fromHost: (data: TensorData) => data.slice(),
  toHost: async (storage) => (storage as TensorData).slice(),
  hostView: (storage) => storage as TensorData,
  view: (storage, size) => {
    const data = storage as TensorData;
    return data.length === size ? data : data.subarray(0, size);
  },
  window: (storage, offset, size) => (storage as TensorData).subarray(offset, offset + size),
  planContext: (graph): CpuPlanState => ({
    operands: new SharedRightOperands(),
    registers: new RegisterFile(),
    gemmBytes: graph === undefined ? 0 : planGemmBytes(graph.nodes),
  }),
  plan<P extends KernelName>(
    op: P,
    inputs: Parameters<Backend['plan']>[1],
    output: Parameters<Backend['plan']>[2],
    attrs: AttrsOf<P>,
    context: Parameters<Backend['plan']>[4],
  ): KernelRun {
    const kernel = cpuKernels[op];
    if (kernel.arity !== undefined) {
      const state = context.shared as CpuPlanState | null;
      // in a compiled plan, an op over rows that batch (a bias add) runs as a fused group of one, whole rows per call
      if (
        state !== null &&
        kernel.arity > 1 &&
        rowsPerChunk(
          planBroadcast(
            inputs.map((x) => x.shape),
            output.shape,
          ),
        ) > 1
      ) {
        const instruction = {
          op: op as FusedInstruction['op'],
          attrs: attrs as FusedInstruction['attrs'],
          dtype: output.dtype,
          operands: inputs.map((_, k) => k),
          stored: true,
        };
        const run = planFused({ instructions: [instruction], inputs, shape: output.shape }, state.registers);
        const outputs: unknown[] = [null];
        return (storage, o) => {
          outputs[0] = o;
          run(storage, outputs);
        };
      }
      return rowsRun(kernel as RowKernel<never>, inputs, output, attrs as never) as KernelRun;
    }
    if ('alias' in kernel) return (inputs, output) => (output as TensorData).set(inputs[0] as TensorData);
    return (kernel as PlanKernel<P>).plan(inputs, output, attrs, context) as CpuRun as KernelRun;
  },
  allocatePlan: (buffers, shared) => {
    const state = shared as CpuPlanState;
    let gemmBytes = state.gemmBytes;
    let arena = WasmArena.create(buffers, gemmBytes);
    if (arena === null && gemmBytes > 0) {
      // too large with the products' room (over 1 GiB, or refused): the buffers alone, the products copying
      gemmBytes = 0;
      arena = WasmArena.create(buffers);
    }
    if (arena === null) return undefined;
    // the fused groups' registers in the same memory, so that they meet the buffers without copies
    state.registers.placeIn(arena);
    // and a GEMM instance on it, so that products of the plan's values read and write them in place
    const space = gemmBytes > 0 ? GemmSpace.inArena(arena.memory, arena.reservedAt, gemmBytes) : null;
    if (space !== null) state.operands.placeIn(space);
    return buffers.map((b) => arena.allocate(b.dtype, b.size));
  },
  planFused: (program, context) => planFused(program, (context.shared as CpuPlanState).registers),
  fusedInputViews: true,
  planProductSum: (inputs, output, attrs) => planProductSum(inputs, output, attrs),
  aliases: (op) => 'alias' in cpuKernels[op],
  accumulate: (acc, ct) => {
    const a = acc as TensorData;
    // the add row loop: SIMD for float rows where it can (the same bits as `a[i] += b[i]`)
    binaryRange('add', a, 0, 1, ct as TensorData, 0, 1, a, 0, a.length);
    return true;
  },
  accumulateSparse: (op, acc, ct, inputs, inputStorage, attrs) => {
    const x = inputs[0]!;
    if (op === 'slice') {
      const { begin, size } = attrs as AttrsOf<'slice'>;
      const strides = stridesOf(x.shape);
      const base = begin.reduce((t, v, i) => t + v * strides[i]!, 0);
      addRuns(ct as TensorData, acc as TensorData, runsOf(size, strides, base));
    } else {
      const [outer, n, inner] = axisBlocks(x.shape, (attrs as AttrsOf<'gather'>).axis);
      scatterAddInto(acc as TensorData, ct as TensorData, outer, n, inner, inputStorage[1] as Int32Array);
    }
    return true;
  },
  flush: () => {},
};
