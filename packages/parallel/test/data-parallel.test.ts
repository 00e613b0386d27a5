import { describe, expect, it } from 'vitest';
import { mul, randomKey, splitKey, sub, sum, tensor, uniform, type DType, type Tensor } from '@tapestry/core';
import { defineReplica, trainingStep, type Thread } from '@tapestry/parallel';
import { dataParallel } from '@tapestry/parallel/node';
import { collectives, contribution, LEAF_SIZES } from './fixtures/collectives-replica.js';
import { regression, type RegressionSetup } from './fixtures/regression-replica.js';

const ROWS = 12;

function setupOf(dtype: DType, extra: Partial<RegressionSetup> = {}): RegressionSetup {
  const [k1, k2, k3, k4] = splitKey(randomKey(7), 4);
  return {
    dtype,
    rows: ROWS,
    params: { w1: uniform(k1!, [3, 5], { dtype, low: -1, high: 1 }), w2: uniform(k2!, [5, 2], { dtype, low: -1, high: 1 }) },
    x: uniform(k3!, [ROWS, 3], { dtype, low: -2, high: 2 }),
    y: uniform(k4!, [ROWS, 2], { dtype, low: -1, high: 1 }),
    ...extra,
  };
}

const flat = (t: Tensor): number[] => Array.from(t.dataSync());

/** Runs `steps` steps on `threads` threads; returns every step's loss and the final parameters and predictions. */
async function run(threads: number, setup: RegressionSetup, steps = 5) {
  const pool = await dataParallel(regression, { threads, setup });
  try {
    const losses: number[] = [];
    let last;
    for (let s = 0; s < steps; s++) {
      last = pool.step(s);
      losses.push(last.loss);
    }
    return { losses, w1: flat(last!.params.w1), w2: flat(last!.params.w2), predictions: last!.predictions, optState: last!.optState };
  } finally {
    pool.close();
  }
}

const close = (a: readonly number[], b: readonly number[], tolerance: number): void => {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => expect(Math.abs(x - b[i]!), `element ${i}: ${x} vs ${b[i]}`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(b[i]!))));
};

describe('Thread.mean on a pool', () => {
  it('averages every leaf exactly: the sum in double precision in thread order, rounded once, on 2 and 3 threads', async () => {
    for (const threads of [2, 3]) {
      const pool = await dataParallel(collectives, { threads, setup: null });
      try {
        for (let step = 0; step < 3; step++) {
          const got = pool.step(step);
          LEAF_SIZES.forEach((size, k) => {
            const exact = Array.from({ length: size }, (_, i) => {
              let sum = 0;
              for (let t = 0; t < threads; t++) sum += contribution(t, step, k, i);
              return sum / threads;
            });
            // float64 leaves: the doubles summed as they are; float32 leaves: their float32 values, rounded at the end
            expect(got.f64[k]).toEqual(exact);
            const f32 = Array.from({ length: size }, (_, i) => {
              let sum = 0;
              for (let t = 0; t < threads; t++) sum += Math.fround(contribution(t, step, k, i));
              return Math.fround(sum / threads);
            });
            expect(got.f32[k]).toEqual(f32);
          });
        }
      } finally {
        pool.close();
      }
    }
  });
});

describe('dataParallel (worker_threads)', () => {
  it('gives the same bits on every run with the same thread count', async () => {
    const setup = setupOf('float32');
    const a = await run(2, setup);
    const b = await run(2, setup);
    expect(a.losses).toEqual(b.losses);
    expect(a.w1).toEqual(b.w1);
    expect(a.w2).toEqual(b.w2);
  });

  it("computes the one-thread step: the mean of the shards' gradients is the batch gradient (float64 to 1e-12, float32 to 1e-5)", async () => {
    for (const [dtype, tolerance] of [
      ['float64', 1e-12],
      ['float32', 1e-5],
    ] as const) {
      const setup = setupOf(dtype);
      const one = await run(1, setup);
      for (const threads of [2, 3]) {
        const many = await run(threads, setup);
        close(many.losses, one.losses, tolerance);
        close(many.w1, one.w1, tolerance);
        close(many.w2, one.w2, tolerance);
        // the gathered predictions are every thread's rows, in order
        expect(many.predictions.shape).toEqual([ROWS, 2]);
        close(flat(many.predictions), flat(one.predictions), tolerance);
        expect(many.optState).toBe(5);
      }
      // the loss falls: the steps train
      expect(one.losses[4]!).toBeLessThan(one.losses[0]!);
    }
  });

  it('compiled and eager steps agree', async () => {
    const compiled = await run(2, setupOf('float64'));
    const eager = await run(2, setupOf('float64', { jit: false }));
    close(eager.losses, compiled.losses, 1e-12);
    close(eager.w1, compiled.w1, 1e-12);
  });

  it('a worker that throws fails the step with its error, and every later step too', async () => {
    const pool = await dataParallel(regression, { threads: 2, setup: setupOf('float32', { failStep: { thread: 1, step: 2 } }) });
    try {
      pool.step(0);
      pool.step(1);
      let thrown: unknown;
      try {
        pool.step(2);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(Error);
      const error = thrown as Error;
      expect(error.message).toBe('dataParallel: thread 1 failed: TypeError: thread 1 broke at step 2 (as asked)');
      expect((error.cause as Error).name).toBe('TypeError');
      expect((error.cause as Error).stack).toContain('regression-replica.ts');
      expect(() => pool.step(3)).toThrow(/thread 1 failed: TypeError: thread 1 broke at step 2/);
    } finally {
      pool.close();
    }
  });

  it("the calling thread's error fails the step as it is and stops the workers", async () => {
    const pool = await dataParallel(regression, { threads: 3, setup: setupOf('float32', { failStep: { thread: 0, step: 1 } }) });
    pool.step(0);
    expect(() => pool.step(1)).toThrow(new TypeError('thread 0 broke at step 1 (as asked)'));
    expect(() => pool.step(2)).toThrow(/thread 0 broke at step 1/);
    pool.close();
  });

  it('a replica that fails to build rejects the pool with its error', async () => {
    await expect(dataParallel(regression, { threads: 2, setup: setupOf('float32', { failBuildOn: 1 }) })).rejects.toThrow(
      'dataParallel: thread 1 failed while building its replica: no replica on thread 1 (as asked)',
    );
    await expect(dataParallel(regression, { threads: 2, setup: setupOf('float32', { failBuildOn: 0 }) })).rejects.toThrow('no replica on thread 0 (as asked)');
  });

  it('threads that average trees of different layouts fail with an error that says so', async () => {
    const pool = await dataParallel(regression, { threads: 2, setup: setupOf('float32', { mismatchAt: 1 }) });
    pool.step(0);
    expect(() => pool.step(1)).toThrow('mean: thread 1 passed a tree of another layout (8 bytes) than thread 0 (8 bytes: a: float32[1])');
    pool.close();
  });

  it('checks its arguments', async () => {
    await expect(dataParallel(regression, { threads: 0, setup: setupOf('float32') })).rejects.toThrow(
      'dataParallel: threads must be a positive integer, got 0',
    );
    await expect(dataParallel({} as typeof regression, { threads: 2, setup: setupOf('float32') })).rejects.toThrow(
      /replica must be a value made by defineReplica/,
    );
    expect(() => defineReplica('train.ts', 'x', () => () => 0)).toThrow(/module must be the defining module's URL/);
    const pool = await dataParallel(regression, { threads: 2, setup: setupOf('float32') });
    expect(() => pool.step('x'.repeat(70_000) as unknown as number)).toThrow(/a step's input is 70002 bytes as JSON, more than 65536/);
    pool.close();
    expect(() => pool.step(0)).toThrow('dataParallel: the pool is closed');
  });

  it('a module without the named replica is an error naming the module', async () => {
    const missing = defineReplica(new URL('./fixtures/regression-replica.ts', import.meta.url).href, 'absent', () => () => 0);
    await expect(dataParallel(missing, { threads: 2, setup: {} })).rejects.toThrow(/regression-replica\.ts exports no replica named 'absent'/);
  });

  it('trainingStep without a pool is the one-thread step', () => {
    const step = trainingStep(
      {
        gradients: (p: Tensor) => [[p, p], p],
        update: (_p: Tensor, s: Tensor, g: Tensor) => ({ params: g, optState: s }),
      },
      undefined,
      { jit: false },
    );
    const p = tensor([1, 2]);
    expect(step(p, p).loss).toBe(p);
    expect(() => trainingStep({ gradients: 1 } as never)).toThrow('trainingStep: parts must be { gradients, update }, two functions');
    expect(step.cacheSize).toBe(0);
  });

  it('cacheSize counts the signatures jit compiled, on one thread and on several', () => {
    const parts = {
      gradients: (p: Tensor): [[Tensor, null], Tensor] => [[sum(mul(p, p)), null], mul(p, 2)],
      update: (p: Tensor, s: Tensor, g: Tensor) => ({ params: sub(p, g), optState: s }),
    };
    // a stand-in for a pool's thread 1 of 2: the mean of one thread's tree is itself, so no pool is needed
    const second: Thread = { index: 1, threads: 2, mean: (tree) => tree, gather: (tree) => tree };
    for (const thread of [undefined, second]) {
      const step = trainingStep(parts, thread);
      expect(step.cacheSize).toBe(0);
      let state = { params: tensor([1, 2]), optState: tensor([0]) };
      for (let i = 0; i < 3; i++) state = step(state.params, state.optState);
      expect(state.params.toArray()).toEqual([-1, -2]);
      expect(step.cacheSize, `threads ${thread?.threads ?? 1}`).toBe(1);
      step(tensor([1, 2, 3]), tensor([0]));
      expect(step.cacheSize, 'a new shape compiles again').toBe(2);
    }
  });
});
