/**
 * Random programs for the graph tests: a list of instructions (op choice, operand choices, axis choice)
 * run over a pool of values. Whether an instruction applies depends only on shapes, so the same program
 * runs eagerly, traced, evaluated and jitted.
 */
import fc from 'fast-check';
import {
  add,
  broadcastShapes,
  concat,
  div,
  exp,
  matmul,
  maximum,
  mean,
  mul,
  neg,
  reshape,
  sigmoid,
  slice,
  softplus,
  square,
  sub,
  sum,
  tanh,
  tensor,
  transpose,
  where,
  greater,
  type DType,
  type Tensor,
  logSumExp,
  cast,
  type Shape,
} from '@tapestry/core';
import { broadcastPair } from '../arbitraries.js';

/** One instruction: which op, which operands (indices into the pool, taken modulo its size), which axis. */
export interface Instruction {
  readonly op: number;
  readonly a: number;
  readonly b: number;
  readonly axis: number;
}

const OPS = 16;

const instructionArb: fc.Arbitrary<Instruction> = fc.record({
  op: fc.integer({ min: 0, max: OPS - 1 }),
  a: fc.nat(20),
  b: fc.nat(20),
  axis: fc.nat(5),
});

function fits(a: Shape, b: Shape): boolean {
  try {
    broadcastShapes('test', a, b);
    return true;
  } catch {
    return false;
  }
}

/** Applies one instruction to the pool (appending its result), or does nothing when shapes do not allow it. */
function step(pool: Tensor[], ins: Instruction): void {
  const x = pool[ins.a % pool.length]!;
  const y = pool[ins.b % pool.length]!;
  const axis = x.rank === 0 ? 0 : ins.axis % x.rank;
  let out: Tensor | null = null;
  switch (ins.op) {
    case 0:
      out = tanh(x);
      break;
    case 1:
      out = sigmoid(x);
      break;
    case 2:
      out = exp(tanh(x));
      break;
    case 3:
      out = square(x);
      break;
    case 4:
      out = softplus(neg(x));
      break;
    case 5:
      if (fits(x.shape, y.shape)) out = add(x, y);
      break;
    case 6:
      if (fits(x.shape, y.shape)) out = sub(x, mul(y, 0.5));
      break;
    case 7:
      if (fits(x.shape, y.shape)) out = mul(x, y);
      break;
    // a denominator kept in [1.5, 2.5]
    case 8:
      if (fits(x.shape, y.shape)) out = div(x, add(sigmoid(y), 1.5));
      break;
    case 9:
      if (x.rank > 0) out = sum(x, axis, ins.b % 2 === 0);
      break;
    case 10:
      if (x.rank > 0) out = mean(x, axis, true);
      break;
    case 11:
      if (x.rank >= 2)
        out = matmul(
          x,
          transpose(
            x,
            [...x.shape.keys()].map((i) => (i === x.rank - 2 ? x.rank - 1 : i === x.rank - 1 ? x.rank - 2 : i)),
          ),
        );
      break;
    case 12:
      out = reshape(x, [-1]);
      break;
    case 13:
      if (x.rank > 0 && x.shape[axis]! > 1)
        out = slice(
          x,
          x.shape.map((_, i) => (i === axis ? 1 : 0)),
          x.shape.map((d, i) => (i === axis ? d - 1 : d)),
        );
      break;
    case 14:
      if (fits(x.shape, y.shape)) out = where(greater(x, y), x, mul(y, 2));
      break;
    case 15:
      if (x.rank > 0)
        out = ins.b % 3 === 0 ? logSumExp(x, axis, true) : ins.b % 3 === 1 ? concat([x, x], axis) : maximum(x, mul(x, cast(tensor(0.5), x.dtype)));
      break;
  }
  if (out !== null) pool.push(out);
}

/** Runs a program on inputs; returns every value it made (the inputs first). */
export function runProgram(program: readonly Instruction[], inputs: readonly Tensor[]): Tensor[] {
  const pool = inputs.slice();
  for (const ins of program) step(pool, ins);
  return pool;
}

/** A scalar loss of a program: the sum of each value's sum, weighted so every value matters differently. */
export function programLoss(program: readonly Instruction[], inputs: readonly Tensor[]): Tensor {
  const pool = runProgram(program, inputs);
  let total = sum(pool[0]!);
  pool.slice(1).forEach((v, i) => (total = add(total, mul(sum(v), 1 / (i + 2)))));
  return total;
}

/** Values in [-2, 2] for a shape (seeded, reproducible). */
export function valuesFor(shape: Shape, seed: number, dtype: DType): Tensor {
  const size = shape.reduce((p, d) => p * d, 1);
  const data = Array.from({ length: size }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 2);
  return tensor(dtype === 'float64' ? new Float64Array(data) : new Float32Array(data), { shape: [...shape] });
}

/** Two input shapes that broadcast together, a program of 1–12 instructions and a seed. */
export const programArb = fc.record({
  shapes: broadcastPair,
  program: fc.array(instructionArb, { minLength: 1, maxLength: 12 }),
  seed: fc.integer({ min: 1, max: 1000 }),
});

/** Whether two tensors agree within `rel` (relative to max(1, |x|)); NaNs must match. */
export function closeEnough(a: Tensor, b: Tensor, rel: number): string | null {
  if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) return `type ${a} vs ${b}`;
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) {
    const u = x[i]!;
    const v = y[i]!;
    if (Number.isNaN(u) && Number.isNaN(v)) continue;
    if (!(Math.abs(u - v) <= rel * Math.max(1, Math.abs(u)))) return `element ${i}: ${u} vs ${v}`;
  }
  return null;
}
