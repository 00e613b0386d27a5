/**
 * Parity with real PyTorch (fixtures written by fixtures/generate_torch_fixtures.py with torch, float64):
 * forward values and gradients of a weighted-sum loss agree to 1e-10 relative.
 */
import { readFileSync } from 'node:fs';
import { add, mul, sum, Tensor, tensor, valueAndGrad } from '@tapestry/core';
import type { NestedArray } from '@tapestry/core';
import { binaryCrossEntropyWithLogits, crossEntropy, gru, lstm, mse, rnn, type Reduction } from '@tapestry/layers';
import { describe, expect, it } from 'vitest';
import { expectClose, f64 } from './helpers.js';

interface RecurrentCase {
  name: string;
  kind: 'rnn' | 'lstm' | 'gru';
  nonlinearity: 'tanh' | 'relu';
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  bias: boolean;
  lengths: number[] | null;
  x: NestedArray;
  h0: NestedArray | null;
  c0: NestedArray | null;
  stateDict: Record<string, NestedArray>;
  weights: { output: NestedArray; hN: NestedArray; cN: NestedArray | null };
  expected: {
    output: NestedArray;
    hN: NestedArray;
    cN: NestedArray | null;
    loss: number;
    gradX: NestedArray;
    gradH0: NestedArray | null;
    gradC0: NestedArray | null;
    gradParams: Record<string, NestedArray>;
  };
}

interface LossCase {
  name: string;
  loss: 'crossEntropy' | 'binaryCrossEntropyWithLogits' | 'mse';
  reduction: Reduction;
  ignoreIndex?: number;
  logits: NestedArray;
  targets: NestedArray;
  posWeight?: NestedArray | null;
  weights: NestedArray;
  expected: { value: NestedArray; gradLogits: NestedArray };
}

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/torch-parity.json', import.meta.url), 'utf8')) as {
  recurrent: RecurrentCase[];
  losses: LossCase[];
};
const RTOL = 1e-10;

describe('recurrent layers match PyTorch (float64)', () => {
  it('has the expected fixture coverage', () => {
    const names = fixtures.recurrent.map((c) => c.name).join(' | ');
    for (const word of ['rnn tanh', 'rnn relu', 'lstm', 'gru', 'stacked', 'bidirectional', 'varlen']) expect(names).toContain(word);
  });

  for (const c of fixtures.recurrent) {
    it(c.name, () => {
      const options = {
        inputSize: c.inputSize,
        hiddenSize: c.hiddenSize,
        numLayers: c.numLayers,
        bidirectional: c.bidirectional,
        bias: c.bias,
        dtype: 'float64' as const,
      };
      const layer = c.kind === 'lstm' ? lstm(options) : c.kind === 'gru' ? gru(options) : rnn({ ...options, nonlinearity: c.nonlinearity });
      const params = layer.fromStateDict(c.stateDict);
      const x = f64(c.x);
      const h0 = c.h0 ? f64(c.h0) : undefined;
      const c0 = c.c0 ? f64(c.c0) : undefined;
      const wOut = f64(c.weights.output);
      const wH = f64(c.weights.hN);
      const wC = c.weights.cN ? f64(c.weights.cN) : undefined;
      const lengths = c.lengths ?? undefined;

      const run = (p: typeof params, xs: Tensor, h: Tensor | undefined, cc: Tensor | undefined) =>
        layer.apply(p, xs, { initialState: { h, c: cc }, lengths } as never) as { output: Tensor; state: { h: Tensor; c?: Tensor } };
      const loss = (p: typeof params, xs: Tensor, h?: Tensor, cc?: Tensor) => {
        const r = run(p, xs, h, cc);
        let l = add(sum(mul(r.output, wOut)), sum(mul(r.state.h, wH)));
        if (r.state.c && wC) l = add(l, sum(mul(r.state.c, wC)));
        return l;
      };

      const r = run(params, x, h0, c0);
      expectClose(r.output, c.expected.output, RTOL, 'output');
      expectClose(r.state.h, c.expected.hN, RTOL, 'state.h (h_n)');
      if (c.expected.cN) expectClose(r.state.c!, c.expected.cN, RTOL, 'state.c (c_n)');

      const args: unknown[] = [params, x];
      if (h0) args.push(h0);
      if (c0) args.push(c0);
      const [value, grads] = valueAndGrad(
        loss,
        args.map((_, i) => i),
      )(...args) as [Tensor, unknown[]];
      expect(Math.abs(value.item() - c.expected.loss)).toBeLessThanOrEqual(RTOL * Math.max(1, Math.abs(c.expected.loss)));
      expectClose(grads[1] as Tensor, c.expected.gradX, RTOL, 'grad x');
      if (h0) expectClose(grads[2] as Tensor, c.expected.gradH0!, RTOL, 'grad h0');
      if (c0) expectClose(grads[3] as Tensor, c.expected.gradC0!, RTOL, 'grad c0');
      const gradDict = layer.toStateDict(grads[0] as typeof params);
      expect(Object.keys(gradDict).sort()).toEqual(Object.keys(c.expected.gradParams).sort());
      for (const [name, g] of Object.entries(c.expected.gradParams)) expectClose(gradDict[name]!, g, RTOL, `grad ${name}`);
    });
  }
});

describe('losses match torch.nn.functional (float64)', () => {
  for (const c of fixtures.losses) {
    it(c.name, () => {
      const logits = f64(c.logits);
      const targets = c.loss === 'crossEntropy' ? tensor(c.targets, { dtype: 'int32' }) : f64(c.targets);
      const w = f64(c.weights);
      const lossOf = (z: Tensor): Tensor => {
        if (c.loss === 'crossEntropy') return crossEntropy(z, targets, { reduction: c.reduction, ignoreIndex: c.ignoreIndex! });
        if (c.loss === 'mse') return mse(z, targets, { reduction: c.reduction });
        return binaryCrossEntropyWithLogits(z, targets, { reduction: c.reduction, ...(c.posWeight ? { posWeight: f64(c.posWeight) } : {}) });
      };
      expectClose(lossOf(logits), c.expected.value, RTOL, 'value');
      const [, g] = valueAndGrad((z: Tensor) => sum(mul(lossOf(z), w)))(logits) as [Tensor, Tensor];
      expectClose(g, c.expected.gradLogits, RTOL, 'grad logits');
    });
  }
});
