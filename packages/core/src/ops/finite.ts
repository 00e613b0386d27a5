import { definePrimitive } from '../autodiff/primitive.js';
import { bind } from '../autodiff/tape.js';
import { unaryKernel } from '../kernels/elementwise.js';
import { Tensor } from '../tensor.js';
import { expectTensor } from './checks.js';

const isFinitePrimitive = definePrimitive<undefined>({
  name: 'isFinite',
  forward: ([x]) => new Tensor(unaryKernel('isFinite', x!.data, 'int32'), x!.shape, 'int32'),
  shape: ([x]) => ({ shape: x!.shape, dtype: 'int32' }),
  vjp: null,
});

/** An int32 mask: 1 where x is finite (not ±Infinity or NaN), 0 elsewhere. Not differentiable. */
export function isFinite(x: Tensor): Tensor {
  expectTensor('isFinite', 'x', x);
  return bind(isFinitePrimitive, [x], undefined);
}
