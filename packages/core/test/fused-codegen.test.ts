/**
 * A fused group's generated WebAssembly loop on arrays outside its memory (a jitted function's arguments
 * and results): they go through staging registers in the memory, chunk by chunk, with the bits of the ops
 * run one by one; without staging registers the loop declines and the group runs member by member.
 */
import { describe, expect, it } from 'vitest';
import { add, mul, tanh, tensor, type FusedInstruction, type FusedProgram } from '@tapestry/core';
import { generateFusedKernel } from '../src/kernels/wasm/fused-codegen.js';
import { wasmRegister } from '../src/kernels/wasm/elementwise-wasm.js';
import { valuesFor } from './graph/programs.js';

const member = (op: FusedInstruction['op'], operands: number[], stored: boolean): FusedInstruction =>
  ({ op, operands, stored, attrs: {}, dtype: 'float32' }) as unknown as FusedInstruction;

// y = tanh(a·b + a), stored with a·b
const program: FusedProgram = {
  inputs: [
    { shape: [6, 16], dtype: 'float32' },
    { shape: [6, 16], dtype: 'float32' },
  ],
  shape: [6, 16],
  instructions: [member('mul', [0, 1], true), member('add', [-1, 0], false), member('tanh', [-2], true)],
};

describe('generated fused kernels', () => {
  it("run on arrays outside their memory through staging registers, with the ops' bits", () => {
    const register = (k: number) => wasmRegister('float32', 24 + k, 48)!;
    const kernel = generateFusedKernel(program, [1, 1], undefined, { inputs: [register(0), register(1)], outputs: [register(2), register(3)] })!;
    expect(kernel).not.toBeNull();
    const a = valuesFor([6, 16], 1, 'float32');
    const b = valuesFor([6, 16], 2, 'float32');
    const [x, y] = [a.dataSync() as Float32Array, b.dataSync() as Float32Array];
    const product = new Float32Array(96).fill(NaN);
    const result = new Float32Array(96).fill(NaN);
    expect(kernel.prepare([x, y], [product, result])).toBe(true);
    // two chunks of 48: the second reads its inputs from element 48 and writes from there
    expect(kernel.call(0, 48, Int32Array.from([0, 0]))).toBe(true);
    expect(kernel.call(48, 48, Int32Array.from([48, 48]))).toBe(true);
    const shape = { shape: [6, 16], dtype: 'float32' } as const;
    expect(tensor(product, shape).toArray()).toEqual(mul(a, b).toArray());
    expect(tensor(result, shape).toArray()).toEqual(tanh(add(mul(a, b), a)).toArray());
  });

  it('decline arrays outside their memory without staging registers', () => {
    const kernel = generateFusedKernel(program, [1, 1])!;
    const outside = () => new Float32Array(96);
    expect(kernel.prepare([outside(), outside()], [outside(), outside()])).toBe(false);
  });
});
