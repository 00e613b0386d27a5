/**
 * The seeds' toy: a tanh RNN with H = 3 learns 'hell' → 'ello' (vocabulary h, e, l, o). It must remember
 * whether it has seen one 'l' or two, so it needs its recurrent state. Trained with plain gradient descent
 * written here on the core's valueAndGrad (the optimisers live in another package).
 */
import { argmax, oneHot, randomKey, splitKey, sub, mul, tensor, Tensor, treeMap, valueAndGrad } from '@tapestry/core';
import { crossEntropy, linear, rnn } from '@tapestry/layers';
import { describe, expect, it } from 'vitest';

const vocab = ['h', 'e', 'l', 'o'];
const encode = (s: string) => tensor([[...s].map((ch) => vocab.indexOf(ch))], { dtype: 'int32' }); // [1, T]

describe("toy: 'hell' → 'ello'", () => {
  it('reaches argmax accuracy 4/4 with gradient descent', () => {
    const layer = rnn({ inputSize: 4, hiddenSize: 3, nonlinearity: 'tanh', dtype: 'float64' });
    const head = linear({ inFeatures: 3, outFeatures: 4, dtype: 'float64' });
    const [k1, k2] = splitKey(randomKey(0), 2);
    let params = { rnn: layer.init(k1!), head: head.init(k2!) };
    const x = oneHot(encode('hell'), 4, 'float64'); // [1, 4, 4]
    const targets = encode('ello'); // [1, 4]
    const logitsOf = (p: typeof params) => head.apply(p.head, layer.apply(p.rnn, x).output);
    const lossAndGrad = valueAndGrad((p: typeof params) => crossEntropy(logitsOf(p), targets));

    const first = (lossAndGrad(params) as [Tensor, unknown])[0].item();
    const lr = 0.5;
    let loss = first;
    for (let step = 0; step < 500; step++) {
      const [value, grads] = lossAndGrad(params) as [Tensor, typeof params];
      loss = value.item();
      params = treeMap((w: Tensor, g: Tensor) => sub(w, mul(g, lr)), params, grads);
    }
    const predicted = Array.from(argmax(logitsOf(params), -1).dataSync())
      .map((i) => vocab[i])
      .join('');
    expect(predicted).toBe('ello');
    expect(loss).toBeLessThan(first / 5);
  });
});
