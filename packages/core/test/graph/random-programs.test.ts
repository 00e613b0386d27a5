/** Random programs: jit(f) and evaluate(trace(f)) against eager execution, values and gradients. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate, grad, jit, trace, type DType, type Tensor } from '@tapestry/core';
import { closeEnough, programArb, programLoss, runProgram, valuesFor } from './programs.js';

const RUNS = 60;

function expectAllClose(actual: readonly Tensor[], expected: readonly Tensor[], rel: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const problem = closeEnough(a, expected[i]!, rel);
    expect(problem, `value ${i}`).toBeNull();
  });
}

function inputsFor(shapes: readonly number[][], seed: number, dtype: DType): [Tensor, Tensor] {
  return [valuesFor(shapes[0]!, seed, dtype), valuesFor(shapes[1]!, seed + 1, dtype)];
}

describe('random programs', () => {
  for (const [dtype, rel] of [
    ['float64', 1e-12],
    ['float32', 1e-5],
  ] as const) {
    it(`jit and evaluate(trace) give eager's values (${dtype})`, () => {
      fc.assert(
        fc.property(programArb, ({ shapes, program, seed }) => {
          const inputs = inputsFor(shapes, seed, dtype);
          const f = (x: Tensor, y: Tensor) => runProgram(program, [x, y]);
          const eager = f(inputs[0]!, inputs[1]!);
          expectAllClose(evaluate(trace(f, ...inputs), ...inputs), eager, rel);
          expectAllClose(jit(f)(...inputs), eager, rel);
        }),
        { numRuns: RUNS },
      );
    });

    it(`jit(grad) and evaluate(trace(grad)) give eager's gradients (${dtype})`, () => {
      fc.assert(
        fc.property(programArb, ({ shapes, program, seed }) => {
          const inputs = inputsFor(shapes, seed, dtype);
          const loss = (x: Tensor, y: Tensor) => programLoss(program, [x, y]);
          const g = grad(loss, [0, 1]);
          const eager = g(inputs[0]!, inputs[1]!) as Tensor[];
          expectAllClose(evaluate(trace(g, ...inputs), ...inputs), eager, rel);
          expectAllClose(jit(g)(...inputs), eager, rel);
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('a jitted function replays its plan: a second call with new values gives eager results again', () => {
    fc.assert(
      fc.property(programArb, ({ shapes, program, seed }) => {
        const f = jit((x: Tensor, y: Tensor) => runProgram(program, [x, y]));
        for (const s of [seed, seed + 7]) {
          const inputs = inputsFor(shapes, s, 'float64');
          expectAllClose(f(...inputs), runProgram(program, inputs), 1e-12);
        }
        expect(f.cacheSize).toBe(1);
      }),
      { numRuns: 30 },
    );
  });
});
