/**
 * The run-time assembler of fused groups' kernels (wat-assembler.ts) against wabt, the build's assembler: the
 * same text gives the same bytes, instruction by instruction and for whole generated kernels. Node only, as
 * wabt is a build tool.
 */
import wabtInit from 'wabt';
import { describe, expect, it } from 'vitest';
import type { FusedInstruction, FusedProgram } from '../src/backend/backend.js';
import { fusedKernelText } from '../src/kernels/wasm/fused-codegen.js';
import { assembleFunction, OPCODES, type FunctionText } from '../src/kernels/wasm/wat-assembler.js';

/** wabt's bytes for the module assembleFunction builds from `fn`. */
async function wabtBytes(fn: FunctionText): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const params = fn.params.map((p) => `(param ${p} i32)`).join(' ');
  const locals = fn.locals.map(([name, type]) => `(local ${name} ${type})`).join(' ');
  const text = `(module (import "env" "memory" (memory 1)) (func (export "${fn.name}") ${params} ${locals} ${fn.body}))`;
  const module = wabt.parseWat('fused.wat', text, { simd: true });
  try {
    module.resolveNames();
    module.validate();
    return module.toBinary({ write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}

/** A function over two i32 parameters and two v128 locals with `body`. */
const fn = (body: string): FunctionText => ({
  name: 'run',
  params: ['$a', '$b'],
  locals: [
    ['$u', 'v128'],
    ['$w', 'v128'],
  ],
  body,
});

/** A use of each SIMD instruction with operands of the types it takes. */
function useOf(op: string): string {
  const v = '(local.get $u)';
  if (op === 'v128.const') return '(local.set $u (v128.const i32x4 0x80000000 -1 7 0))';
  if (op.endsWith('load') || op.endsWith('_splat')) return `(local.set $u (${op} offset=48 (local.get $a)))`;
  if (op === 'v128.store') return `(${op} offset=16 (local.get $a) ${v})`;
  if (op === 'i32x4.splat') return `(local.set $u (${op} (local.get $a)))`;
  if (op === 'f32x4.splat') return `(local.set $u (${op} (f32.const -0x1.5555560000000p-2)))`;
  if (op === 'f64x2.splat') return `(local.set $u (${op} (f64.const 0x1.71547652b82fep+0)))`;
  if (/shl|shr/.test(op)) return `(local.set $u (${op} ${v} (i32.const 23)))`;
  if (op === 'v128.bitselect') return `(local.set $u (${op} ${v} (local.get $w) ${v}))`;
  if (/\.(abs|neg|sqrt|floor|not)$/.test(op)) return `(local.set $u (${op} ${v}))`;
  return `(local.set $u (${op} ${v} (local.get $w)))`;
}

describe('wat-assembler', () => {
  it('encodes every SIMD instruction it knows as wabt does', async () => {
    for (const op of Object.keys(OPCODES)) {
      const text = fn(useOf(op));
      expect(assembleFunction(text), op).toEqual(await wabtBytes(text));
    }
  });

  it('encodes loops, blocks, integer arithmetic, loads and constants as wabt does', async () => {
    const text = fn(`
      (local.set $u (v128.const i64x2 0 -2))
      (local.set $w (v128.const f32x4 1 -0.5 0x1p-149 3.25))
      (loop $outer
        (local.set $a (i32.add (i32.load offset=4 (local.get $b)) (i32.const -129)))
        (local.set $b (i32.mul (i32.shl (local.get $a) (i32.const 2)) (i32.sub (local.get $b) (i32.const 640))))
        (loop $inner (br_if $outer (i32.lt_u (local.get $a) (local.get $b))) (br_if $inner (i32.eqz (local.tee $a (local.get $b))))))
      (block $skip (br_if $skip (i32.eqz (local.get $a))) (loop $again (br_if $skip (local.get $b)) (br_if $again (local.get $a))))`);
    expect(assembleFunction(text)).toEqual(await wabtBytes(text));
  });

  it('assembles generated fused kernels as wabt does (the LSTM cell, by vectors and by rows, selects, comparisons, splatted inputs)', async () => {
    const input = (dtype: 'float32' | 'int32') => ({ shape: [32, 128], dtype });
    const member = (op: FusedInstruction['op'], operands: number[], stored = false, attrs: object = {}, dtype = 'float32'): FusedInstruction =>
      ({ op, operands, stored, attrs, dtype }) as FusedInstruction;
    // gates i, f, g, o and the previous c: c' = σ(f)·c + σ(i)·tanh(g), h = σ(o)·tanh(c')
    const cell: FusedProgram = {
      inputs: [input('float32'), input('float32'), input('float32'), input('float32'), input('float32')],
      shape: [32, 128],
      instructions: [
        member('sigmoid', [1]),
        member('mul', [-1, 4]),
        member('sigmoid', [0]),
        member('tanh', [2]),
        member('mul', [-3, -4]),
        member('add', [-2, -5], true),
        member('sigmoid', [3]),
        member('tanh', [-6]),
        member('mul', [-7, -8], true),
      ],
    };
    const mixed: FusedProgram = {
      inputs: [input('float32'), input('float32'), input('int32')],
      shape: [32, 128],
      instructions: [
        member('greater', [0, 1], true, {}, 'int32'),
        member('leakyRelu', [0], false, { slope: 0.25 }),
        member('where', [-1, -2, 1]),
        member('where', [2, -3, 0]),
        member('exp', [-4]),
        member('sign', [-5]),
        member('relu', [-6]),
        member('floor', [-7]),
        member('maximum', [-8, 1]),
        member('minimum', [-9, 0], true),
      ],
    };
    // and the cell by rows: gates read in place from a [32, 512] value (rows 512 apart), a repeated bias row
    const byRows = { vectorsPerRow: 32, skips: [4 * 384, 4 * 384, 4 * 384, -4 * 128, 0] };
    for (const [program, splat, rows] of [
      [cell, [false, false, false, false, false], undefined],
      [mixed, [false, true, false], undefined],
      [cell, [false, false, false, false, false], byRows],
    ] as const) {
      const text = fusedKernelText(program, splat, rows)!;
      expect(text).not.toBeNull();
      expect(assembleFunction(text)).toEqual(await wabtBytes(text));
    }
  });

  it('names what it cannot assemble', () => {
    expect(() => assembleFunction(fn('(local.set $u (f32x4.relaxed_madd (local.get $u) (local.get $u) (local.get $u)))'))).toThrow(
      /unknown instruction f32x4\.relaxed_madd/,
    );
    expect(() => assembleFunction(fn('(local.set $q (local.get $u))'))).toThrow(/unknown local \$q/);
    expect(() => assembleFunction(fn('(br_if $nowhere (local.get $a))'))).toThrow(/unknown label \$nowhere/);
  });
});
