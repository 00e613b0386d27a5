/**
 * Schedules are tensor functions of the update count; their values must still be the closed forms,
 * evaluated in double precision in the order the formulas are written (the numbers JS arithmetic gives).
 */
import { jit, scalar, type Tensor } from '@tapestry/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constant, cosineDecay, exponentialDecay, joinSchedules, linearSchedule, linearWarmup, scheduleValue, stepDecay, type Schedule } from '@tapestry/optim';

const stepArb = fc.integer({ min: 0, max: 100_000 });
// -0 is mapped to 0: core stores a literal -0 (mul(x, -0), scalar(-0)) as +0, so a schedule option of -0
// acts as 0 (a signed-zero difference only; every nonzero value is exact)
const valueArb = fc.double({ min: -10, max: 10, noNaN: true }).map((v) => (v === 0 ? 0 : v));
const positiveArb = fc.double({ min: 1e-3, max: 1e3, noNaN: true });
const rateArb = fc.double({ min: 0, max: 2, noNaN: true });
const RUNS = 200;

describe('scheduleValue equals the closed form at any step, bit for bit', () => {
  it('constant', () => {
    fc.assert(
      fc.property(valueArb, stepArb, (v, k) => {
        expect(scheduleValue(constant(v), k)).toBe(v);
      }),
      { numRuns: RUNS },
    );
  });

  it('stepDecay: init · gamma^floor(k / stepSize)', () => {
    fc.assert(
      fc.property(valueArb, fc.integer({ min: 1, max: 1000 }), rateArb, stepArb, (init, stepSize, gamma, k) => {
        const s = stepDecay({ initValue: init, stepSize, gamma });
        expect(scheduleValue(s, k)).toBe(init * gamma ** Math.floor(k / stepSize));
      }),
      { numRuns: RUNS },
    );
  });

  it('exponentialDecay: init · rate^(k / transitionSteps), floored with staircase', () => {
    fc.assert(
      fc.property(valueArb, rateArb, positiveArb, fc.boolean(), stepArb, (init, rate, transition, staircase, k) => {
        const s = exponentialDecay({ initValue: init, decayRate: rate, transitionSteps: transition, staircase });
        const p = k / transition;
        expect(scheduleValue(s, k)).toBe(init * rate ** (staircase ? Math.floor(p) : p));
      }),
      { numRuns: RUNS },
    );
  });

  it('cosineDecay: min + (init − min)(1 + cos(π·min(k, steps)/steps))/2', () => {
    fc.assert(
      fc.property(valueArb, valueArb, positiveArb, stepArb, (init, min, steps, k) => {
        const s = cosineDecay({ initValue: init, decaySteps: steps, minValue: min });
        expect(scheduleValue(s, k)).toBe(min + ((init - min) * (1 + Math.cos((Math.PI * Math.min(k, steps)) / steps))) / 2);
      }),
      { numRuns: RUNS },
    );
  });

  it('linearSchedule and linearWarmup: init + (end − init)·min(k, steps)/steps', () => {
    fc.assert(
      fc.property(valueArb, valueArb, positiveArb, stepArb, (init, end, steps, k) => {
        const expected = init + ((end - init) * Math.min(k, steps)) / steps;
        expect(scheduleValue(linearSchedule({ initValue: init, endValue: end, transitionSteps: steps }), k)).toBe(expected);
        expect(scheduleValue(linearWarmup({ initValue: init, peakValue: end, warmupSteps: steps }), k)).toBe(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it('joinSchedules: the schedule in force, at the count since its boundary', () => {
    const boundariesArb = fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 3 }).map((b) => b.sort((x, y) => x - y));
    fc.assert(
      fc.property(boundariesArb, fc.integer({ min: 0, max: 6000 }), (bounds, k) => {
        // part i is a decay with its own rate, so the value says which part ran and at which count
        const rates = [0.999, 0.99, 0.9, 0.5];
        const parts = bounds.map((_, i) => exponentialDecay({ initValue: i + 1, decayRate: rates[i]! }));
        parts.push(exponentialDecay({ initValue: bounds.length + 1, decayRate: rates[bounds.length]! }));
        let i = 0;
        while (i < bounds.length && k >= bounds[i]!) i++;
        const local = i === 0 ? k : k - bounds[i - 1]!;
        expect(scheduleValue(joinSchedules(parts, bounds), k)).toBe((i + 1) * rates[i]! ** local);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('schedules trace', () => {
  it('a jitted schedule gives scheduleValue at every count, from one compiled graph', () => {
    const lr: Schedule = joinSchedules(
      [linearWarmup({ initValue: 1e-4, peakValue: 1e-2, warmupSteps: 10 }), cosineDecay({ initValue: 1e-2, decaySteps: 50, minValue: 1e-4 })],
      [10],
    );
    const compiled = jit((count: Tensor) => lr(count));
    for (let k = 0; k < 70; k++) expect(compiled(scalar(k, 'int32')).item()).toBe(scheduleValue(lr, k));
    expect(compiled.cacheSize).toBe(1);
  });

  it('stepDecay and staircase exponentialDecay trace through floor', () => {
    const a = stepDecay({ initValue: 2, stepSize: 3, gamma: 0.5 });
    const b = exponentialDecay({ initValue: 2, decayRate: 0.5, transitionSteps: 3, staircase: true });
    const ja = jit((count: Tensor) => a(count));
    const jb = jit((count: Tensor) => b(count));
    for (let k = 0; k < 12; k++) {
      expect(ja(scalar(k, 'int32')).item()).toBe(2 * 0.5 ** Math.floor(k / 3));
      expect(jb(scalar(k, 'int32')).item()).toBe(2 * 0.5 ** Math.floor(k / 3));
    }
  });
});
