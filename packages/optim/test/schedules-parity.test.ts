/** Schedules against torch.optim.lr_scheduler (lr held after k scheduler steps = schedule(k)). */
import { cast } from '@tapestry/core';
import { describe, expect, it } from 'vitest';
import { constant, cosineDecay, exponentialDecay, joinSchedules, linearSchedule, linearWarmup, scheduleValue, stepDecay, type Schedule } from '@tapestry/optim';
import { fixture, relError } from './helpers.js';

const RTOL = 1e-10;
const base = 0.1;

/** Our schedule for each PyTorch scheduler in the fixture, and how many steps the two agree on. */
const ours: Record<string, [Schedule, number]> = {
  'StepLR(step_size=3, gamma=0.5)': [stepDecay({ initValue: base, stepSize: 3, gamma: 0.5 }), 16],
  'ExponentialLR(gamma=0.9)': [exponentialDecay({ initValue: base, decayRate: 0.9 }), 16],
  // CosineAnnealingLR keeps following the cosine back up after T_max; cosineDecay stays at its minimum.
  'CosineAnnealingLR(T_max=10, eta_min=0.001)': [cosineDecay({ initValue: base, decaySteps: 10, minValue: 0.001 }), 11],
  'CosineAnnealingLR(T_max=7)': [cosineDecay({ initValue: base, decaySteps: 7 }), 8],
  'LinearLR(start_factor=0.25, end_factor=1.0, total_iters=5)': [linearWarmup({ initValue: base * 0.25, peakValue: base, warmupSteps: 5 }), 16],
  'LinearLR(start_factor=1.0, end_factor=0.1, total_iters=8)': [linearSchedule({ initValue: base, endValue: base * 0.1, transitionSteps: 8 }), 16],
  'SequentialLR([LinearLR(start_factor=0.1, total_iters=4), ExponentialLR(gamma=0.8)], milestones=[4])': [
    joinSchedules([linearWarmup({ initValue: base * 0.1, peakValue: base, warmupSteps: 4 }), exponentialDecay({ initValue: base, decayRate: 0.8 })], [4]),
    16,
  ],
};

describe('schedules match torch.optim.lr_scheduler', () => {
  it('every fixture scheduler has a counterpart', () => {
    expect(fixture.schedules.map((s) => s.name).sort()).toEqual(Object.keys(ours).sort());
  });

  it.each(fixture.schedules.map((s) => [s.name, s] as const))('%s', (name, s) => {
    const [schedule, steps] = ours[name]!;
    expect(s.base_lr).toBe(base);
    for (let k = 0; k < steps; k++) {
      expect(relError(scheduleValue(schedule, k), s.lrs[k]!, base), `step ${k}`).toBeLessThanOrEqual(RTOL);
    }
  });

  it('cosineDecay stays at its minimum after decaySteps', () => {
    const s = cosineDecay({ initValue: 1, decaySteps: 10, minValue: 0.25 });
    expect(scheduleValue(s, 10)).toBe(0.25);
    expect(scheduleValue(s, 11)).toBe(0.25);
    expect(scheduleValue(s, 1000)).toBe(0.25);
  });
});

describe('schedule semantics', () => {
  it('constant is constant', () => {
    const s = constant(0.3);
    expect([0, 1, 10, 1e6].map((k) => scheduleValue(s, k))).toEqual([0.3, 0.3, 0.3, 0.3]);
  });

  it('exponentialDecay with staircase and transitionSteps is stepDecay', () => {
    const a = exponentialDecay({ initValue: 2, decayRate: 0.5, transitionSteps: 3, staircase: true });
    const b = stepDecay({ initValue: 2, stepSize: 3, gamma: 0.5 });
    for (let k = 0; k < 20; k++) expect(scheduleValue(a, k)).toBe(scheduleValue(b, k));
    expect(scheduleValue(exponentialDecay({ initValue: 2, decayRate: 0.25, transitionSteps: 2 }), 1)).toBe(1);
  });

  it('joinSchedules restarts each schedule at its boundary', () => {
    // the middle schedule returns the count it is given
    const seen: number[] = [];
    const spy: Schedule = (count) => (seen.push(count.item()), cast(count, 'float64'));
    const s = joinSchedules([constant(-1), spy, constant(-2)], [3, 5]);
    expect([0, 1, 2, 3, 4, 5, 6].map((k) => scheduleValue(s, k))).toEqual([-1, -1, -1, 0, 1, -2, -2]);
    // every schedule is evaluated (the join selects with where); one not yet in force sees count 0
    expect(seen).toEqual([0, 0, 0, 0, 1, 2, 3]);
  });

  it('rejects malformed options, naming them', () => {
    expect(() => joinSchedules([constant(1), constant(2)], [])).toThrow(/joinSchedules: 2 schedules need 1 boundaries, got 0/);
    expect(() => joinSchedules([constant(1), constant(2), constant(3)], [5, 2])).toThrow(/non-decreasing/);
    expect(() => joinSchedules([], [])).toThrow(/schedules is empty/);
    expect(() => stepDecay({ initValue: 1, stepSize: 0 })).toThrow(/stepDecay: stepSize must be a positive integer, got 0/);
    expect(() => cosineDecay({ initValue: 1, decaySteps: -3 })).toThrow(/cosineDecay: decaySteps must be > 0/);
    expect(() => linearWarmup({ peakValue: Number.NaN, warmupSteps: 3 })).toThrow(/linearWarmup: peakValue must be a finite number/);
    expect(() => joinSchedules([constant(1), constant(2)], [2.5])).toThrow(/joinSchedules: boundaries\[0\] must be an integer step/);
  });
});
