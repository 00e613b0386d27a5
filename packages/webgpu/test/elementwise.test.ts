/**
 * Elementwise kernels against core's CPU ops in float32. Tolerances: add, sub, mul and the exact ops
 * (comparisons, where, cast, max/min, abs, …) must match bit for bit, since IEEE-754 single operations are
 * correctly rounded on both sides (the CPU rounds a double result once, which for one add or multiply of two
 * float32 values gives the same float32). Division may be 2.5 ulp off in Vulkan; a parameter (leaky slope)
 * enters the CPU as a double and the GPU as a float32, one rounding apart. Transcendentals are the GPU's own
 * float32 implementations (Vulkan allows several ulp), and the CPU's are computed in double and rounded, so
 * each gets a relative tolerance of a few ulp over the value ranges below, with an absolute floor near zero.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@tapestry/core';
import { tensor, type Tensor } from '@tapestry/core';
import type { FusedInstruction } from '@tapestry/core';
import { backendOrSkip, broadcastableTo, mismatch, runOnGpu, RUNS, shapeArb, values } from './gpu-harness.js';

const backend = await backendOrSkip('elementwise');
const ULP = 2 ** -23;

interface UnaryCase {
  op: string;
  cpu: (x: Tensor) => Tensor;
  attrs?: unknown;
  low: number;
  high: number;
  rtol: number;
  atol: number;
  int?: boolean;
}

const UNARY: UnaryCase[] = [
  { op: 'neg', cpu: core.neg, low: -3, high: 3, rtol: 0, atol: 0, int: true },
  { op: 'abs', cpu: core.abs, low: -3, high: 3, rtol: 0, atol: 0, int: true },
  { op: 'square', cpu: core.square, low: -3, high: 3, rtol: 0, atol: 0, int: true },
  { op: 'sign', cpu: core.sign, low: -3, high: 3, rtol: 0, atol: 0, int: true },
  { op: 'floor', cpu: core.floor, low: -3, high: 3, rtol: 0, atol: 0, int: true },
  { op: 'relu', cpu: core.relu, low: -3, high: 3, rtol: 0, atol: 0 },
  { op: 'leakyRelu', cpu: (x) => core.leakyRelu(x, 0.1), attrs: { slope: 0.1 }, low: -3, high: 3, rtol: 2 * ULP, atol: 0 },
  { op: 'exp', cpu: core.exp, low: -4, high: 4, rtol: 16 * ULP, atol: 0 },
  { op: 'expm1', cpu: core.expm1, low: -4, high: 4, rtol: 16 * ULP, atol: 2 ** -26 },
  { op: 'log', cpu: core.log, low: 0.01, high: 10, rtol: 8 * ULP, atol: 2 ** -21 },
  { op: 'log1p', cpu: core.log1p, low: -0.9, high: 5, rtol: 8 * ULP, atol: 2 ** -22 },
  { op: 'sqrt', cpu: core.sqrt, low: 0, high: 10, rtol: 4 * ULP, atol: 0 },
  { op: 'cos', cpu: core.cos, low: -Math.PI, high: Math.PI, rtol: 0, atol: 2 ** -18 },
  { op: 'sin', cpu: core.sin, low: -Math.PI, high: Math.PI, rtol: 0, atol: 2 ** -18 },
  { op: 'tanh', cpu: core.tanh, low: -6, high: 6, rtol: 16 * ULP, atol: 2 ** -24 },
  { op: 'sigmoid', cpu: core.sigmoid, low: -12, high: 12, rtol: 16 * ULP, atol: 2 ** -30 },
  { op: 'elu', cpu: (x) => core.elu(x, 0.7), attrs: { alpha: 0.7 }, low: -4, high: 4, rtol: 16 * ULP, atol: 2 ** -24 },
  { op: 'softplus', cpu: (x) => core.softplus(x, 2, 5), attrs: { beta: 2, threshold: 5 }, low: -6, high: 6, rtol: 16 * ULP, atol: 2 ** -24 },
  { op: 'isFinite', cpu: core.isFinite, low: -3, high: 3, rtol: 0, atol: 0 },
];

const BINARY: [string, (a: Tensor, b: Tensor) => Tensor, number, boolean][] = [
  ['add', core.add, 0, true],
  ['sub', core.sub, 0, true],
  ['mul', core.mul, 0, true],
  ['div', core.div, 3 * ULP, false],
  ['maximum', core.maximum, 0, true],
  ['minimum', core.minimum, 0, true],
  ['greater', core.greater, 0, true],
  ['less', core.less, 0, true],
  ['equal', core.equal, 0, true],
  ['greaterEqual', core.greaterEqual, 0, true],
  ['lessEqual', core.lessEqual, 0, true],
  ['notEqual', core.notEqual, 0, true],
];

describe.skipIf(backend === null)('webgpu elementwise kernels', () => {
  const gpu = backend!;

  for (const c of UNARY) {
    it(`${c.op} matches the CPU in float32${c.int === true ? ' and int32' : ''}`, async () => {
      await fc.assert(
        fc.asyncProperty(shapeArb(0, 3), fc.integer({ min: 0, max: 1000 }), async (shape, seed) => {
          for (const dtype of c.int === true ? (['float32', 'int32'] as const) : (['float32'] as const)) {
            const x = values(shape, seed, c.low, c.high, dtype);
            const want = c.cpu(x);
            const got = await runOnGpu(gpu, c.op as 'neg', [x], want, c.attrs as undefined);
            expect(mismatch(got, want, c.rtol, c.atol)).toBeNull();
          }
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('unary ops keep NaN and infinities as the CPU does', async () => {
    const x = tensor([NaN, Infinity, -Infinity, 0, -0, 50, -50, 1e-30]);
    for (const c of UNARY.filter((u) => !['log', 'log1p', 'sqrt', 'cos', 'sin'].includes(u.op))) {
      const want = c.cpu(x);
      const got = await runOnGpu(gpu, c.op as 'neg', [x], want, c.attrs as undefined);
      expect(mismatch(got, want, Math.max(c.rtol, 16 * ULP), c.atol), c.op).toBeNull();
    }
  });

  for (const [op, cpu, rtol, int] of BINARY) {
    it(`${op} broadcasts like NumPy and matches the CPU`, async () => {
      const pair = shapeArb(0, 4, 4).chain((out) => fc.tuple(broadcastableTo(out), broadcastableTo(out)));
      await fc.assert(
        fc.asyncProperty(pair, fc.integer({ min: 0, max: 1000 }), async ([sa, sb], seed) => {
          for (const dtype of int ? (['float32', 'int32'] as const) : (['float32'] as const)) {
            // small integers in floats too, so that ties and equalities happen
            const a = dtype === 'int32' ? values(sa, seed, -3, 3, dtype) : core.floor(values(sa, seed, -3, 3));
            const b = dtype === 'int32' ? values(sb, seed + 1, -3, 3, dtype) : core.add(core.floor(values(sb, seed + 1, -3, 3)), 0.5);
            const bb = op === 'div' ? b : core.floor(b);
            const want = cpu(a, bb);
            const got = await runOnGpu(gpu, op as 'add', [a, bb], want, undefined);
            expect(mismatch(got, want, rtol, 0)).toBeNull();
          }
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('maximum, minimum and notEqual treat NaN as the CPU does', async () => {
    const a = tensor([NaN, 1, NaN, -Infinity]);
    const b = tensor([1, NaN, NaN, Infinity]);
    for (const [op, cpu] of [
      ['maximum', core.maximum],
      ['minimum', core.minimum],
      ['notEqual', core.notEqual],
      ['equal', core.equal],
    ] as const) {
      const want = cpu(a, b);
      expect(mismatch(await runOnGpu(gpu, op, [a, b], want, undefined), want, 0, 0), op).toBeNull();
    }
  });

  it('pow matches the CPU within a few ulp, with its sign and zero rules', async () => {
    const a = tensor([2, -2, -2, 0, 0, 0, -3, 1.5, 0.5, 10, -0.5, 7]);
    const b = tensor([3, 3, 2, 2, 0, -1, 0.5, -2.5, 10, 0.25, 4, 1]);
    const want = core.pow(a, b);
    expect(mismatch(await runOnGpu(gpu, 'pow', [a, b], want, undefined), want, 16 * ULP, 0)).toBeNull();
    await fc.assert(
      fc.asyncProperty(shapeArb(0, 3), fc.integer({ min: 0, max: 1000 }), async (shape, seed) => {
        const x = values(shape, seed, 0.1, 4);
        const y = values(shape, seed + 7, -3, 3);
        const w = core.pow(x, y);
        expect(mismatch(await runOnGpu(gpu, 'pow', [x, y], w, undefined), w, 32 * ULP, 0)).toBeNull();
      }),
      { numRuns: RUNS },
    );
  });

  it('where broadcasts three ways and cast truncates toward zero', async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb(0, 3, 4).chain((out) => fc.tuple(broadcastableTo(out), broadcastableTo(out), broadcastableTo(out))),
        fc.integer({ min: 0, max: 1000 }),
        async ([sc, sa, sb], seed) => {
          const c = core.greater(values(sc, seed), 0);
          const a = values(sa, seed + 1);
          const b = values(sb, seed + 2);
          const want = core.where(c, a, b);
          expect(mismatch(await runOnGpu(gpu, 'where', [c, a, b], want, undefined), want, 0, 0)).toBeNull();
          const x = values(sa, seed + 3, -100, 100);
          const toInt = core.cast(x, 'int32');
          expect(mismatch(await runOnGpu(gpu, 'cast', [x], toInt, { dtype: 'int32' }), toInt, 0, 0)).toBeNull();
          const back = core.cast(toInt, 'float32');
          expect(mismatch(await runOnGpu(gpu, 'cast', [toInt], back, { dtype: 'float32' }), back, 0, 0)).toBeNull();
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a fused group (an LSTM cell update) is one kernel with two outputs, matching the eager ops', async () => {
    const gates = values([3, 8], 1);
    const c = values([3, 2], 2);
    const [i, f, g, o] = core.split(gates, 4, -1) as [Tensor, Tensor, Tensor, Tensor];
    const cNext = core.add(core.mul(core.sigmoid(f), c), core.mul(core.sigmoid(i), core.tanh(g)));
    const hNext = core.mul(core.sigmoid(o), core.tanh(cNext));
    // inputs: 0..3 the gate slices, 4 the cell state
    const program: FusedInstruction[] = [
      { op: 'sigmoid', attrs: undefined, dtype: 'float32', operands: [1], stored: false }, // m0 σ(f)
      { op: 'mul', attrs: undefined, dtype: 'float32', operands: [-1, 4], stored: false }, // m1
      { op: 'sigmoid', attrs: undefined, dtype: 'float32', operands: [0], stored: false }, // m2 σ(i)
      { op: 'tanh', attrs: undefined, dtype: 'float32', operands: [2], stored: false }, // m3
      { op: 'mul', attrs: undefined, dtype: 'float32', operands: [-3, -4], stored: false }, // m4
      { op: 'add', attrs: undefined, dtype: 'float32', operands: [-2, -5], stored: true }, // m5 c'
      { op: 'sigmoid', attrs: undefined, dtype: 'float32', operands: [3], stored: false }, // m6
      { op: 'tanh', attrs: undefined, dtype: 'float32', operands: [-6], stored: false }, // m7
      { op: 'mul', attrs: undefined, dtype: 'float32', operands: [-7, -8], stored: true }, // m8 h'
    ];
    const ins = [i, f, g, o, c];
    const run = gpu.planFused({ instructions: program, inputs: ins.map((t) => ({ shape: t.shape, dtype: t.dtype })), shape: [3, 2] });
    const storages = ins.map((t) => gpu.upload(t.dataSync()));
    const outs = [gpu.allocate('float32', 6), gpu.allocate('float32', 6)];
    const before = gpu.stats.dispatches;
    run(storages, outs);
    expect(gpu.stats.dispatches - before).toBe(1);
    expect(mismatch(await gpu.read(outs[0]!), cNext, 16 * ULP, 2 ** -24)).toBeNull();
    expect(mismatch(await gpu.read(outs[1]!), hNext, 16 * ULP, 2 ** -24)).toBeNull();
  });

  it('float64 is an error that says WGSL has no f64', () => {
    expect(() => gpu.allocate('float64', 4)).toThrow(/float64 is not supported on the GPU \(WGSL has no f64\)/);
    expect(() => gpu.plan('exp', [{ shape: [2], dtype: 'float64' }], { shape: [2], dtype: 'float64' }, undefined)).toThrow(/exp: float64/);
  });
});
