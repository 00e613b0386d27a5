/** Reading fields of a transformation's state, with an error that says which state was expected. */
import { add, ArgumentError, Tensor, type Backend } from '@tapestry/core';
import { describeGiven } from './describe.js';
import { deviceOfTree, scalarOn } from './scalars.js';

/** Returns `state[field]`, throwing if `state` is not an object that has it. */
export function stateField(fn: string, state: unknown, field: string): unknown {
  if (typeof state !== 'object' || state === null || !(field in state)) {
    throw new ArgumentError(`${fn}: state has no '${field}'; pass the state returned by this transformation's init or its last update`);
  }
  return (state as Record<string, unknown>)[field];
}

/**
 * A counter kept in a state (the update count `count`, guardFinite's tallies): a 0-d int32 tensor, so a
 * jitted step sees the same argument signature at every call and schedules can be evaluated on it.
 */
export function stateCounter(fn: string, state: unknown, field = 'count'): Tensor {
  const value = stateField(fn, state, field);
  if (!(value instanceof Tensor) || value.dtype !== 'int32' || value.shape.length !== 0) {
    throw new ArgumentError(
      `${fn}: state.${field} must be a 0-d int32 tensor (as init makes it), got ${describeGiven(value)}; ` +
        `pass the state returned by this transformation's init or its last update`,
    );
  }
  return value;
}

/**
 * A counter at zero, as `init` puts it in a state: on the device of the params it is given (the first
 * tensor leaf's), so a step on a GPU finds its counts there too.
 */
export function zeroCounter(params: unknown): Tensor {
  return scalarOn(deviceOfTree(params), 0, 'int32');
}

/** A 0-d int32 tensor of `value` on `device` (guardFinite's flags). */
export function counterOn(device: Backend, value: number): Tensor {
  return scalarOn(device, value, 'int32');
}

/** `count + 1`, still a 0-d int32 tensor. */
export function incremented(count: Tensor): Tensor {
  return add(count, 1);
}
