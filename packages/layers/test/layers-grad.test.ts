/**
 * Whole layers — stacked, bidirectional, with random lengths and initial states — differentiated by the
 * core agree with central finite differences (float64) in every parameter, the input and the initial
 * states. BPTT here is nothing but reverse mode over the unrolled scan.
 */
import { add, checkGrad, mul, normal, randomKey, splitKey, sum, Tensor } from '@tapestry/core';
import type { Key } from '@tapestry/core';
import { gru, lstm, rnn } from '@tapestry/layers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const configs = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    steps: fc.integer({ min: 1, max: 4 }),
    inputSize: fc.integer({ min: 1, max: 3 }),
    hiddenSize: fc.integer({ min: 1, max: 3 }),
    numLayers: fc.integer({ min: 1, max: 2 }),
    bidirectional: fc.boolean(),
    withLengths: fc.boolean(),
    withInitialState: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1_000_000 }),
  })
  .chain((c) => fc.record({ config: fc.constant(c), lengths: fc.array(fc.integer({ min: 1, max: c.steps }), { minLength: c.batch, maxLength: c.batch }) }));

const kinds = {
  'rnn (tanh)': (o: Parameters<typeof lstm>[0]) => rnn({ ...o, nonlinearity: 'tanh' }),
  lstm,
  gru,
};

describe('recurrent layers: gradients equal finite differences (float64)', () => {
  for (const [kind, make] of Object.entries(kinds)) {
    it(kind, () => {
      fc.assert(
        fc.property(configs, ({ config: c, lengths }) => {
          const layer = make({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, bidirectional: c.bidirectional, dtype: 'float64' });
          const [kp, kx, kh, kc, kw1, kw2, kw3] = splitKey(randomKey(c.seed), 7) as Key[];
          const params = layer.init(kp!);
          const x = normal(kx!, [c.batch, c.steps, c.inputSize], { dtype: 'float64' });
          const stateShape = [c.numLayers * layer.numDirections, c.batch, c.hiddenSize];
          const h0 = normal(kh!, stateShape, { dtype: 'float64' });
          const c0 = normal(kc!, stateShape, { dtype: 'float64' });
          const wOut = normal(kw1!, [c.batch, c.steps, c.hiddenSize * layer.numDirections], { dtype: 'float64' });
          const wH = normal(kw2!, stateShape, { dtype: 'float64' });
          const wC = normal(kw3!, stateShape, { dtype: 'float64' });
          const isLstm = kind === 'lstm';
          const options = (h: Tensor | undefined, cc: Tensor | undefined) => ({
            ...(c.withLengths ? { lengths } : {}),
            ...(h ? { initialState: { h, ...(cc && isLstm ? { c: cc } : {}) } } : {}),
          });
          const loss = (p: typeof params, xs: Tensor, h?: Tensor, cc?: Tensor): Tensor => {
            const r = layer.apply(p, xs, options(h, cc)) as { output: Tensor; state: { h: Tensor; c?: Tensor } };
            const l = add(sum(mul(r.output, wOut)), sum(mul(r.state.h, wH)));
            return r.state.c ? add(l, sum(mul(r.state.c, wC))) : l;
          };
          const args = c.withInitialState ? (isLstm ? [params, x, h0, c0] : [params, x, h0]) : [params, x];
          const result = checkGrad(loss, args);
          expect(result.ok, `${JSON.stringify(c)} lengths ${lengths}: ${result.message}`).toBe(true);
        }),
        { numRuns: 15 },
      );
    });
  }
});
