/**
 * Variable lengths: a padded batch with `lengths` gives exactly what running each sequence alone gives —
 * outputs and final states bit for bit, gradients bit for bit against the same masked graph and to rounding
 * against the unmasked one — its padded outputs are exactly 0 and its padded inputs get exactly 0
 * gradient, even when the padding holds NaN.
 */
import { add, concat, grad, mul, normal, randomKey, slice, splitKey, sum, tensor, Tensor } from '@tapestry/core';
import type { Key } from '@tapestry/core';
import { gru, lstm, rnn } from '@tapestry/layers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose, expectExact } from './helpers.js';

const kinds = { rnn, lstm, gru } as const;

const configs = fc
  .record({
    batch: fc.integer({ min: 1, max: 4 }),
    steps: fc.integer({ min: 1, max: 5 }),
    inputSize: fc.integer({ min: 1, max: 3 }),
    hiddenSize: fc.integer({ min: 1, max: 3 }),
    numLayers: fc.integer({ min: 1, max: 2 }),
    bidirectional: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1_000_000 }),
  })
  .chain((c) => fc.record({ c: fc.constant(c), lengths: fc.array(fc.integer({ min: 1, max: c.steps }), { minLength: c.batch, maxLength: c.batch }) }));

// x with NaN written into every padded step of sequence b
function poisonPadding(x: Tensor, lengths: number[]): Tensor {
  const [n, t, d] = x.shape as [number, number, number];
  const data = x.dataSync();
  for (let b = 0; b < n; b++) for (let s = lengths[b]!; s < t; s++) for (let k = 0; k < d; k++) data[(b * t + s) * d + k] = Number.NaN;
  return tensor(data, { shape: [n, t, d] });
}

describe('variable lengths equal running each sequence alone', () => {
  for (const [kind, make] of Object.entries(kinds)) {
    it(kind, () => {
      fc.assert(
        fc.property(configs, ({ c, lengths }) => {
          const layer = make({ inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, bidirectional: c.bidirectional, dtype: 'float64' });
          const [kp, kx, kh, kc, kw, kv] = splitKey(randomKey(c.seed), 6) as Key[];
          const params = layer.init(kp!);
          const x = poisonPadding(normal(kx!, [c.batch, c.steps, c.inputSize], { dtype: 'float64' }), lengths);
          const L = c.numLayers * layer.numDirections;
          const F = c.hiddenSize * layer.numDirections;
          const h0 = normal(kh!, [L, c.batch, c.hiddenSize], { dtype: 'float64' });
          const c0 = normal(kc!, [L, c.batch, c.hiddenSize], { dtype: 'float64' });
          const wOut = normal(kw!, [c.batch, c.steps, F], { dtype: 'float64' });
          const wH = normal(kv!, [L, c.batch, c.hiddenSize], { dtype: 'float64' });
          const states = (h: Tensor, cc: Tensor) => ({ initialState: kind === 'lstm' ? { h, c: cc } : { h } });
          type R = { output: Tensor; state: { h: Tensor; c?: Tensor } };

          const padded = layer.apply(params, x, { ...states(h0, c0), lengths }) as R;
          const lossPadded = (p: typeof params, xs: Tensor) => {
            const r = layer.apply(p, xs, { ...states(h0, c0), lengths }) as R;
            return add(sum(mul(r.output, wOut)), sum(mul(r.state.h, wH)));
          };
          const [gp, gx] = grad(lossPadded, [0, 1])(params, x) as [typeof params, Tensor];
          expect(gx.dataSync().every((v) => Number.isFinite(v))).toBe(true);
          expect(padded.output.dataSync().every((v) => Number.isFinite(v))).toBe(true);

          let gParamsSum: typeof params | undefined;
          for (let b = 0; b < c.batch; b++) {
            const len = lengths[b]!;
            const xb = slice(x, [b, 0, 0], [1, len, -1]);
            const pick = (t: Tensor) => slice(t, [0, b, 0], [-1, 1, -1]);
            const wOutB = slice(wOut, [b, 0, 0], [1, len, -1]);
            const alone = layer.apply(params, xb, states(pick(h0), pick(c0))) as R;
            // forward: the valid steps equal, the padded steps exactly 0, the final states equal
            expectExact(slice(padded.output, [b, 0, 0], [1, len, -1]), alone.output, `${kind} output[${b}]`);
            if (len < c.steps)
              expectExact(
                slice(padded.output, [b, len, 0], [1, -1, -1]),
                tensor(new Float64Array((c.steps - len) * F), { shape: [1, c.steps - len, F] }),
                `${kind} padded output[${b}]`,
              );
            expectExact(pick(padded.state.h), alone.state.h, `${kind} state.h[${b}]`);
            if (kind === 'lstm') expectExact(pick(padded.state.c!), alone.state.c!, `${kind} state.c[${b}]`);

            // backward: the same loss restricted to sequence b
            const lossAlone = (p: typeof params, xs: Tensor) => {
              const r = layer.apply(p, xs, states(pick(h0), pick(c0))) as R;
              return add(sum(mul(r.output, wOutB)), sum(mul(r.state.h, pick(wH))));
            };
            const [gpb, gxb] = grad(lossAlone, [0, 1])(params, xb) as [typeof params, Tensor];
            // Masking adds a where node per step, which reassociates one gradient sum (w + (a + b) instead
            // of (w + a) + b), so against the plain run the gradients agree to rounding …
            expectClose(slice(gx, [b, 0, 0], [1, len, -1]), gxb, 1e-13, `${kind} grad x[${b}] valid steps`);
            // … and bit for bit against the same sequence run alone through the same masked graph.
            const lossAloneMasked = (xs: Tensor) => {
              const r = layer.apply(params, xs, { ...states(pick(h0), pick(c0)), lengths: [len] }) as R;
              return add(sum(mul(r.output, wOutB)), sum(mul(r.state.h, pick(wH))));
            };
            expectExact(slice(gx, [b, 0, 0], [1, len, -1]), grad(lossAloneMasked)(xb) as Tensor, `${kind} grad x[${b}] valid steps, masked alone`);
            if (len < c.steps) {
              const padGrad = slice(gx, [b, len, 0], [1, -1, -1]);
              expect(
                padGrad.dataSync().every((v) => Object.is(v, 0)),
                `${kind} grad x[${b}] padded steps are exactly +0`,
              ).toBe(true);
            }
            const dict = layer.toStateDict(gpb);
            gParamsSum =
              gParamsSum === undefined
                ? gpb
                : layer.fromStateDict(Object.fromEntries(Object.entries(layer.toStateDict(gParamsSum)).map(([k, v]) => [k, add(v, dict[k]!)])));
          }
          // parameter gradients are sums over sequences, added in a different order: equal to rounding
          const total = layer.toStateDict(gParamsSum!);
          for (const [name, g] of Object.entries(layer.toStateDict(gp))) expectClose(g, total[name]!, 1e-12, `${kind} grad ${name}`);
        }),
        { numRuns: 10 },
      );
    });
  }

  it('lengths may be an int32 tensor, in any order, with the same result as an array', () => {
    const layer = lstm({ inputSize: 2, hiddenSize: 3, bidirectional: true, dtype: 'float64' });
    const params = layer.init(randomKey(1));
    const x = normal(randomKey(2), [3, 4, 2], { dtype: 'float64' });
    const a = layer.apply(params, x, { lengths: [2, 4, 1] });
    const b = layer.apply(params, x, { lengths: tensor([2, 4, 1], { dtype: 'int32' }) });
    expectExact(a.output, b.output, 'output');
    expectExact(a.state.h, b.state.h, 'state.h');
  });

  it('full lengths equal no lengths', () => {
    const layer = gru({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, dtype: 'float64' });
    const params = layer.init(randomKey(1));
    const x = normal(randomKey(2), [2, 5, 2], { dtype: 'float64' });
    const a = layer.apply(params, x, { lengths: [5, 5] });
    const b = layer.apply(params, x);
    expectExact(a.output, b.output, 'output');
    expectExact(a.state.h, b.state.h, 'state.h');
  });

  it('the reverse direction of a short sequence starts at its own last valid step', () => {
    const layer = rnn({ inputSize: 1, hiddenSize: 2, bidirectional: true, dtype: 'float64' });
    const params = layer.init(randomKey(5));
    const x = normal(randomKey(6), [1, 4, 1], { dtype: 'float64' });
    const padded = layer.apply(params, x, { lengths: [2] });
    const alone = layer.apply(params, slice(x, [0, 0, 0], [1, 2, 1]));
    // The reverse features at step 0 of the padded run are those of the length-2 sequence read backwards
    expectExact(slice(padded.output, [0, 0, 2], [1, 2, 2]), slice(alone.output, [0, 0, 2], [1, 2, 2]), 'reverse features');
    expectExact(concat([slice(padded.state.h, [1, 0, 0], [1, 1, 2])], 0), slice(alone.state.h, [1, 0, 0], [1, 1, 2]), 'reverse state.h');
  });
});
