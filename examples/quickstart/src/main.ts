/**
 * The smallest end-to-end tapestry program: fit y = sin(x) with a one-hidden-layer tanh network, using
 * nothing but `valueAndGrad` and plain gradient descent written as a tree map.
 */
import { add, matmul, mean, mul, randomKey, splitKey, square, sub, tanh, tensor, treeMap, uniform, valueAndGrad, type Tensor } from '@tapestry/core';
import { handleCliErrors } from '@tapestry/example-common';

handleCliErrors('quickstart'); // an error is one line on stderr (a stack trace with --verbose)

type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };

const xs = Array.from({ length: 64 }, (_, i) => -3 + (6 * i) / 63);
const x = tensor(
  xs.map((v) => [v]),
  { dtype: 'float64' },
);
const y = tensor(
  xs.map((v) => [Math.sin(v)]),
  { dtype: 'float64' },
);

const [k1, k2] = splitKey(randomKey(0));
let params: Params = {
  w1: uniform(k1!, [1, 16], { dtype: 'float64', low: -1, high: 1 }),
  b1: tensor(new Float64Array(16)),
  w2: uniform(k2!, [16, 1], { dtype: 'float64', low: -0.25, high: 0.25 }),
  b2: tensor(new Float64Array(1)),
};

const predict = (p: Params, x: Tensor) => add(matmul(tanh(add(matmul(x, p.w1), p.b1)), p.w2), p.b2);
const loss = (p: Params) => mean(square(sub(predict(p, x), y)));
const step = valueAndGrad(loss);

for (let i = 0; i <= 2000; i++) {
  const [value, grads] = step(params);
  params = treeMap((p: Tensor, g: Tensor) => sub(p, mul(g, 0.1)), params, grads);
  if (i % 250 === 0) console.log(`step ${String(i).padStart(4)}  mse ${value.item().toFixed(6)}`);
}
