/**
 * A fused group's generated WebAssembly loop on arrays outside its memory (a jitted function's arguments
 * and results): they go through staging registers in the memory, chunk by chunk, with the bits of the ops
 * run one by one; without staging registers the loop declines and the group runs member by member. Groups
 * with transcendentals interleave several vectors per iteration, with the bits of one vector at a time.
 */
import { describe, expect, it } from 'vitest';
import { add, mul, sigmoid, tanh, tensor, type FusedInstruction, type FusedProgram, type Tensor } from '@tapestry/core';
import { fusedKernelText, generateFusedKernel } from '../src/kernels/wasm/fused-codegen.js';
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

  // gates i, f, g, o and the previous c: c' = σ(f)·c + σ(i)·tanh(g), h = σ(o)·tanh(c'): 14 inputs and members
  const cell: FusedProgram = {
    inputs: Array.from({ length: 5 }, () => ({ shape: [1, 1], dtype: 'float32' as const })),
    shape: [1, 1],
    instructions: [
      member('sigmoid', [1], false),
      member('mul', [-1, 4], false),
      member('sigmoid', [0], false),
      member('tanh', [2], false),
      member('mul', [-3, -4], false),
      member('add', [-2, -5], true),
      member('sigmoid', [3], false),
      member('tanh', [-6], false),
      member('mul', [-7, -8], true),
    ],
  };
  const cellOps = ([i, f, g, o, c]: Tensor[]): Tensor[] => {
    const next = add(mul(sigmoid(f!), c!), mul(sigmoid(i!), tanh(g!)));
    return [next, mul(sigmoid(o!), tanh(next))];
  };
  const smallOps = ([a, b]: Tensor[]): Tensor[] => [mul(a!, b!), tanh(add(mul(a!, b!), a!))];

  it('interleave four vectors of a small group with transcendentals per iteration, two of a larger one, none without', () => {
    const interleaved = (p: FusedProgram) =>
      Math.max(
        0,
        ...[
          ...fusedKernelText(
            p,
            p.inputs.map(() => false),
          )!.body.matchAll(/offset=(\d+) \(local\.get \$ptr/g),
        ].map((m) => Number(m[1]) / 16),
      ) + 1;
    expect(interleaved(program)).toBe(4);
    expect(interleaved(cell)).toBe(2);
    expect(interleaved({ ...program, instructions: [member('mul', [0, 1], true), member('add', [-1, 0], true)] })).toBe(1);
  });

  it('give the bits of the ops one by one for every number of vectors, odd ones left over included, and by rows', () => {
    for (const [group, ops] of [
      [program, smallOps],
      [cell, cellOps],
    ] as const) {
      const inputCount = group.inputs.length;
      const stored = group.instructions.filter((ins) => ins.stored).length;
      // every count of vectors from 1 to 11 (tails of 1, 2, 3 after the interleaved iterations), then rows of
      // 2, 4 and 6 vectors (6: rows that four vectors do not divide)
      const cases = [
        ...Array.from({ length: 11 }, (_, v) => ({ rows: 1, inner: 4 * (v + 1) })),
        { rows: 3, inner: 8 },
        { rows: 3, inner: 16 },
        { rows: 2, inner: 24 },
      ];
      for (const { rows, inner } of cases) {
        const size = rows * inner;
        const shape = [rows, inner];
        const sized = { ...group, shape, inputs: group.inputs.map(() => ({ shape, dtype: 'float32' as const })) };
        const registers = Array.from({ length: inputCount + stored }, (_, k) => wasmRegister('float32', k, size) as Float32Array);
        // the inputs read as rows of `inner` from values `inner` wide: a pitch equal to the row
        const byRows = rows > 1 ? { inner, pitches: group.inputs.map(() => inner) } : undefined;
        const kernel = generateFusedKernel(
          sized,
          group.inputs.map(() => 1),
          byRows,
        )!;
        const values = Array.from({ length: inputCount }, (_, k) => valuesFor(shape, 11 + k, 'float32'));
        values.forEach((v, k) => registers[k]!.set(v.dataSync() as Float32Array));
        const outputs = registers.slice(inputCount);
        outputs.forEach((o) => o.fill(NaN));
        expect(kernel.prepare(registers.slice(0, inputCount), outputs)).toBe(true);
        expect(kernel.call(0, size, new Int32Array(inputCount))).toBe(true);
        const expected = ops(values);
        outputs.forEach((o, s) =>
          expect(tensor(o.slice(), { shape, dtype: 'float32' }).toArray(), `${rows} × ${inner}, output ${s}`).toEqual(expected[s]!.toArray()),
        );
      }
    }
  });
});
