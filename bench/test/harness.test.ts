/**
 * The harness's schedule of steps: the common warm-up (compared across runners), a runner's untimed settle
 * steps, then the timed steps in rotating blocks. Fake runners count what they are asked to do; nothing is
 * timed against a bound.
 */
import { describe, expect, it } from 'vitest';
import { timeRunners, type Runner } from '../src/harness.js';

/** A runner whose step returns its own step count, so each step's value says when it ran. */
function countingRunner(library: string, settleSteps?: number): Runner & { readonly steps: () => number } {
  let steps = 0;
  return {
    library,
    activate: async () => {},
    step: () => [++steps],
    steps: () => steps,
    ...(settleSteps === undefined ? {} : { settleSteps }),
  };
}

describe('timeRunners', () => {
  it('runs a runner’s settle steps after the compared warm-up and before the timed steps', async () => {
    const plain = countingRunner('plain');
    const settling = countingRunner('settling', 4);
    const timing = await timeRunners([plain, settling], { warmup: 3, steps: 6, tolerance: 1e-4 });
    expect(plain.steps()).toBe(3 + 6);
    expect(settling.steps()).toBe(3 + 4 + 6);
    // the warm-up values are the first three steps of each, so the two agree; the settle steps are not compared
    const [a, b] = timing.runners;
    expect(a!.warmupValues).toEqual([[1], [2], [3]]);
    expect(b!.warmupValues).toEqual([[1], [2], [3]]);
    expect(timing.agree).toBe(true);
    expect(a!.times).toHaveLength(6);
    expect(b!.times).toHaveLength(6);
  });

  it('takes no settle steps where a runner names none or zero', async () => {
    const none = countingRunner('none');
    const zero = countingRunner('zero', 0);
    await timeRunners([none, zero], { warmup: 2, steps: 3, tolerance: 1e-4 });
    expect(none.steps()).toBe(5);
    expect(zero.steps()).toBe(5);
  });
});
