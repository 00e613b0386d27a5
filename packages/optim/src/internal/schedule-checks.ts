/** The contract between schedules and the transformations that evaluate them, checked with clear errors. */
import { ArgumentError, Tensor } from '@tapestry/core';
import { describeGiven } from './describe.js';

/** The count a schedule receives: a 0-d int32 tensor (an optimiser's update count). */
export function checkCount(fn: string, count: unknown): Tensor {
  if (!(count instanceof Tensor) || count.dtype !== 'int32' || count.shape.length !== 0) {
    throw new ArgumentError(
      `${fn}: count must be a 0-d int32 tensor (an optimiser's update count), got ${describeGiven(count)}; ` +
        'to read a schedule at a step, use scheduleValue(schedule, step)',
    );
  }
  return count;
}

/** What a schedule returns: a 0-d float64 tensor. `what` names the schedule, e.g. `the lr schedule`. */
export function checkScheduleValue(fn: string, what: string, value: unknown): Tensor {
  if (!(value instanceof Tensor) || value.dtype !== 'float64' || value.shape.length !== 0) {
    throw new ArgumentError(
      `${fn}: ${what} returned ${describeGiven(value)}; a schedule must return a 0-d float64 tensor computed from ` +
        'the count with core ops (e.g. (count) => mul(cast(count, "float64"), 1e-4))',
    );
  }
  return value;
}
