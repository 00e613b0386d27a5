/**
 * Truncated BPTT is `stopGradient` on the carried state between chunks: the chunked forward pass equals the
 * unchunked one, a later chunk's loss has exactly zero gradient with respect to an earlier chunk's inputs,
 * and without the stopGradient (full BPTT) that gradient is not zero.
 */
import { add, concat, grad, mul, normal, randomKey, slice, splitKey, stopGradient, sum, Tensor } from '@tapestry/core';
import type { Key } from '@tapestry/core';
import { gru, lstm } from '@tapestry/layers';
import { describe, expect, it } from 'vitest';
import { expectExact } from './helpers.js';

const [N, T, D, H, CHUNK] = [3, 6, 2, 4, 2];
const layer = lstm({ inputSize: D, hiddenSize: H, numLayers: 2, dtype: 'float64' });
const [kp, kx, kw] = splitKey(randomKey(7), 3) as [Key, Key, Key];
const params = layer.init(kp);
const x = normal(kx, [N, T, D], { dtype: 'float64' });
const w = normal(kw, [N, CHUNK, H], { dtype: 'float64' });

// Runs x chunk by chunk, carrying (h, c) across chunks; `truncate` cuts the graph between chunks.
function chunked(p: typeof params, xs: Tensor, truncate: boolean) {
  const outputs: Tensor[] = [];
  let start0: { initialState?: { h: Tensor; c: Tensor } } = {};
  for (let start = 0; start < T; start += CHUNK) {
    const r = layer.apply(p, slice(xs, [0, start, 0], [-1, CHUNK, -1]), start0);
    outputs.push(r.output);
    start0 = { initialState: truncate ? stopGradient(r.state) : r.state };
  }
  return outputs;
}

describe('truncated BPTT with stopGradient', () => {
  it('chunked forward equals the unchunked run, bit for bit', () => {
    const whole = layer.apply(params, x).output;
    expectExact(concat(chunked(params, x, true), 1), whole, 'output');
  });

  it("a later chunk's loss has zero gradient w.r.t. earlier chunks' inputs; full BPTT's does not", () => {
    const lastChunkLoss = (truncate: boolean) => (xs: Tensor) => sum(mul(chunked(params, xs, truncate).at(-1)!, w));
    const truncated = grad(lastChunkLoss(true))(x) as Tensor;
    const full = grad(lastChunkLoss(false))(x) as Tensor;
    const early = (g: Tensor) => slice(g, [0, 0, 0], [-1, T - CHUNK, -1]).dataSync();
    const late = (g: Tensor) => slice(g, [0, T - CHUNK, 0], [-1, -1, -1]);
    expect(early(truncated).every((v) => v === 0)).toBe(true);
    expect(Math.max(...Array.from(early(full), Math.abs))).toBeGreaterThan(1e-6);
    // Within the last chunk the two agree: truncation only cuts what flows into earlier chunks
    expectExact(late(truncated), late(full), 'last chunk input gradient');
  });

  it('the truncated parameter gradient is the sum of per-chunk gradients and differs from full BPTT', () => {
    const wAll = normal(randomKey(9), [N, T, H], { dtype: 'float64' });
    const loss = (truncate: boolean) => (p: typeof params) =>
      chunked(p, x, truncate).reduce((acc: Tensor | number, out, i) => add(acc, sum(mul(out, slice(wAll, [0, i * CHUNK, 0], [-1, CHUNK, -1])))), 0) as Tensor;
    const gTrunc = layer.toStateDict(grad(loss(true))(params) as typeof params);
    const gFull = layer.toStateDict(grad(loss(false))(params) as typeof params);
    const differs = Object.keys(gFull).some((k) => {
      const a = gTrunc[k]!.dataSync();
      const b = gFull[k]!.dataSync();
      return a.some((v, i) => Math.abs(v - b[i]!) > 1e-8);
    });
    expect(differs).toBe(true);

    // Each chunk alone, started from the (constant) state the previous chunks reached
    const starts: { initialState?: { h: Tensor; c: Tensor } }[] = [{}];
    for (let start = 0; start + CHUNK < T; start += CHUNK) {
      const r = layer.apply(params, slice(x, [0, start, 0], [-1, CHUNK, -1]), starts.at(-1)!);
      starts.push({ initialState: r.state });
    }
    const perChunk = starts.map((s, i) => {
      const chunkLoss = (p: typeof params) =>
        sum(mul(layer.apply(p, slice(x, [0, i * CHUNK, 0], [-1, CHUNK, -1]), s).output, slice(wAll, [0, i * CHUNK, 0], [-1, CHUNK, -1])));
      return layer.toStateDict(grad(chunkLoss)(params) as typeof params);
    });
    for (const k of Object.keys(gTrunc)) {
      const total = perChunk.map((g) => g[k]!).reduce((a, b) => add(a, b));
      const a = gTrunc[k]!.dataSync();
      const b = total.dataSync();
      expect(
        a.every((v, i) => Math.abs(v - b[i]!) <= 1e-12 * Math.max(1, Math.abs(b[i]!))),
        k,
      ).toBe(true);
    }
  });

  it('works the same for a GRU (state { h } only)', () => {
    const g = gru({ inputSize: D, hiddenSize: H, dtype: 'float64' });
    const p = g.init(randomKey(3));
    const first = g.apply(p, slice(x, [0, 0, 0], [-1, 3, -1]));
    const second = g.apply(p, slice(x, [0, 3, 0], [-1, -1, -1]), { initialState: stopGradient(first.state) });
    expectExact(concat([first.output, second.output], 1), g.apply(p, x).output, 'gru output');
  });
});
