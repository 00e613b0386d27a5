/** The contract between schedules and the transformations that evaluate them, checked with clear errors. */
import { ArgumentError, Tensor } from '@tapestry/core';
import { describeGiven } from './describe.js';
import { scalarFloat } from './scalars.js';

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

/**
 * What a schedule returns for `count`: a 0-d tensor on the count's device, float64 where the device holds
 * it (float32 on WebGPU). `what` names the schedule, e.g. `the lr schedule`.
 */
export function checkScheduleValue(fn: string, what: string, value: unknown, count: Tensor): Tensor {
  const dtype = scalarFloat(count.backend);
  if (!(value instanceof Tensor) || value.dtype !== dtype || value.shape.length !== 0 || value.backend !== count.backend) {
    const where = count.backend.name === 'cpu' ? '' : ` on ${count.backend.name}`;
    throw new ArgumentError(
      `${fn}: ${what} returned ${describeGiven(value)}; a schedule must return a 0-d ${dtype} tensor${where} computed from ` +
        `the count with core ops (e.g. (count) => mul(cast(count, scheduleDtype(count.backend)), 1e-4))`,
    );
  }
  return value;
}
