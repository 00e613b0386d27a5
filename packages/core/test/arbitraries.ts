/**
 * Shared fast-check arbitraries and reference helpers for the core test suite. Kinks (relu at 0, |x| at 0,
 * ties of max/min) and the domains of log/sqrt are kept out of the generated values here, never by loosening
 * a tolerance in a test.
 */
import fc from 'fast-check';
import { randomKey, tensor, uniform, type Shape, type Tensor } from '@tapestry/core';

/** Runs per property: enough to cover ranks 0–3 and broadcasting cases, small enough for a fast suite. */
export const RUNS = 30;

/** A dimension size. */
export const dim = fc.integer({ min: 1, max: 4 });

/** A shape of rank `minRank`…`maxRank` with sizes 1–4. */
export function shapeArb(minRank = 0, maxRank = 3): fc.Arbitrary<number[]> {
  return fc.integer({ min: minRank, max: maxRank }).chain((rank) => fc.array(dim, { minLength: rank, maxLength: rank }));
}

/** A shape broadcast-compatible with `out`: some leading axes dropped and some of the rest set to 1. */
export function broadcastableTo(out: Shape): fc.Arbitrary<number[]> {
  return fc
    .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
    .map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
}

/** Two shapes that broadcast together (possibly to a shape neither has), e.g. [3, 1] and [4]. */
export const broadcastPair: fc.Arbitrary<[number[], number[]]> = shapeArb(0, 3).chain((out) => fc.tuple(broadcastableTo(out), broadcastableTo(out)));

/** Three shapes that broadcast together (for `where`). */
export const broadcastTriple: fc.Arbitrary<[number[], number[], number[]]> = shapeArb(0, 3).chain((out) =>
  fc.tuple(broadcastableTo(out), broadcastableTo(out), broadcastableTo(out)),
);

/** Operand shapes for matmul covering 1-D promotion on either side and broadcast batch axes, with the result's shape. */
export const matmulShapes: fc.Arbitrary<{ a: number[]; b: number[]; out: number[] }> = fc
  .tuple(dim, dim, dim, shapeArb(0, 2), fc.constantFrom('vv', 'vm', 'mv', 'mm'))
  .chain(([m, k, n, batch, kind]) =>
    fc.tuple(broadcastableTo(batch), broadcastableTo(batch)).map(([ba, bb]) => {
      const outBatch = naiveBroadcastShape(ba, bb);
      switch (kind) {
        case 'vv':
          return { a: [k], b: [k], out: [] };
        case 'vm':
          return { a: [k], b: [...bb, k, n], out: [...bb, n] };
        case 'mv':
          return { a: [...ba, m, k], b: [k], out: [...ba, m] };
        default:
          return { a: [...ba, m, k], b: [...bb, k, n], out: [...outBatch, m, n] };
      }
    }),
  );

/** Options of {@link valueArb}. */
export interface ValueOptions {
  /** Smallest value (default -3). */
  min?: number;
  /** Largest value (default 3). */
  max?: number;
  /** Points the values keep away from (kinks), default none. */
  avoid?: readonly number[];
  /** How far they keep away from them (default 0.05, far beyond the 1e-6 finite-difference step). */
  margin?: number;
}

/** A finite double in [min, max], at least `margin` from every point of `avoid`. */
function valueArb(options: ValueOptions = {}): fc.Arbitrary<number> {
  const { min = -3, max = 3, avoid = [], margin = 0.05 } = options;
  const base = fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  return avoid.length === 0 ? base : base.filter((v) => avoid.every((k) => Math.abs(v - k) >= margin));
}

/** The number of elements of a shape. */
export function sizeOf(shape: Shape): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** A float64 tensor of the given shape with values from {@link valueArb}. */
export function tensorArb(shape: Shape, options: ValueOptions = {}): fc.Arbitrary<Tensor> {
  const n = sizeOf(shape);
  return fc.array(valueArb(options), { minLength: n, maxLength: n }).map((values) => tensor(new Float64Array(values), { shape: shape.slice() }));
}

/**
 * A float64 tensor whose elements are pairwise at least 0.01 apart (no ties), in about [-3, 3]: max, min,
 * maximum and argmax have kinks at ties.
 */
export function distinctTensorArb(shape: Shape): fc.Arbitrary<Tensor> {
  const n = sizeOf(shape);
  return fc
    .uniqueArray(fc.integer({ min: -300, max: 300 }), { minLength: n, maxLength: n })
    .map((ints) => tensor(new Float64Array(ints.map((i) => i / 100)), { shape: shape.slice() }));
}

/** A float64 tensor with a shape from {@link shapeArb}. */
export function anyTensorArb(options: ValueOptions = {}, minRank = 0, maxRank = 3): fc.Arbitrary<Tensor> {
  return shapeArb(minRank, maxRank).chain((s) => tensorArb(s, options));
}

/** A permutation of 0…n-1. */
export function permutationArb(n: number): fc.Arbitrary<number[]> {
  return fc.shuffledSubarray(
    Array.from({ length: n }, (_, i) => i),
    { minLength: n, maxLength: n },
  );
}

/** Reduction axes for a rank: undefined (all), a single (possibly negative) axis, or a list of axes. */
export function axesArb(rank: number): fc.Arbitrary<number | number[] | undefined> {
  const all = Array.from({ length: rank }, (_, i) => i);
  const options: fc.Arbitrary<number | number[] | undefined>[] = [fc.constant(undefined), fc.shuffledSubarray(all)];
  if (rank > 0) options.push(fc.integer({ min: -rank, max: rank - 1 }));
  return fc.oneof(...options);
}

/** Int32 indices in [0, n) of the given shape (repeats are likely, which is the point). */
export function indicesArb(shape: Shape, n: number): fc.Arbitrary<Tensor> {
  const size = sizeOf(shape);
  return fc.array(fc.integer({ min: 0, max: n - 1 }), { minLength: size, maxLength: size }).map((v) => tensor(new Int32Array(v), { shape: shape.slice() }));
}

/** A seed for {@link weights}. */
export const seedArb = fc.integer({ min: 0, max: 0x7fffffff });

/**
 * Deterministic float64 weights in [-1, 1) of the given shape (core's threefry stream from `seed`). Gradient properties
 * check `sum(op(x) · w)`, so the VJP is tested against a general cotangent, not just ones.
 */
export function weights(shape: Shape, seed: number): Tensor {
  // core's own keyed stream: uniform in [-1, 1), reproducible per seed
  return uniform(randomKey(seed), shape.slice(), { dtype: 'float64', low: -1, high: 1 });
}

/** NumPy's broadcast shape, written independently of core. */
export function naiveBroadcastShape(...shapes: Shape[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) => {
    let size = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      if (d !== 1) size = d;
    }
    return size;
  });
}

/** The multi-index of flat position `flat` in a row-major shape. */
export function unravel(flat: number, shape: Shape): number[] {
  const index = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    index[i] = flat % shape[i]!;
    flat = Math.floor(flat / shape[i]!);
  }
  return index;
}

/** The flat position of a multi-index in a row-major shape. */
export function ravel(index: readonly number[], shape: Shape): number {
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * shape[i]! + index[i]!;
  return flat;
}

/** The flat position in `inShape` read by output multi-index `outIndex` under broadcasting. */
export function broadcastSource(outIndex: readonly number[], inShape: Shape): number {
  const offset = outIndex.length - inShape.length;
  return ravel(
    inShape.map((d, i) => (d === 1 ? 0 : outIndex[i + offset]!)),
    inShape,
  );
}

/** A snapshot of a tensor's storage, to show later that an op left it untouched. */
export function snapshot(x: Tensor): number[] {
  return Array.from(x.dataSync());
}
