/** A hand-written LSTM for the graph tests: the step, an unrolled sequence loss and an Adam training step. */
import {
  add,
  div,
  matmul,
  mean,
  mul,
  pow,
  reshape,
  sigmoid,
  slice,
  split,
  sqrt,
  square,
  sub,
  sum,
  tanh,
  treeLeaves,
  treeMap,
  valueAndGrad,
  zeros,
  type DType,
  type Tensor,
} from '@tapestry/core';
import { valuesFor } from './programs.js';

export interface LstmParams {
  readonly wIh: Tensor; // [D, 4H]
  readonly wHh: Tensor; // [H, 4H]
  readonly b: Tensor; // [4H]
}

export interface LstmState {
  readonly h: Tensor;
  readonly c: Tensor;
}

/** One LSTM step, gates i, f, g, o. */
export function lstmStep(p: LstmParams, s: LstmState, x: Tensor): LstmState {
  const gates = add(add(matmul(x, p.wIh), matmul(s.h, p.wHh)), p.b);
  const [i, f, g, o] = split(gates, 4, 1) as [Tensor, Tensor, Tensor, Tensor];
  const c = add(mul(sigmoid(f), s.c), mul(sigmoid(i), tanh(g)));
  const h = mul(sigmoid(o), tanh(c));
  return { h, c };
}

/** Deterministic parameters of a layer with input size d and hidden size h. */
export function lstmParams(d: number, h: number, dtype: DType, seed = 1): LstmParams {
  const scale = (t: Tensor, k: number) => mul(t, k);
  return {
    wIh: scale(valuesFor([d, 4 * h], seed, dtype), 0.5 / Math.sqrt(d)),
    wHh: scale(valuesFor([h, 4 * h], seed + 1, dtype), 0.5 / Math.sqrt(h)),
    b: scale(valuesFor([4 * h], seed + 2, dtype), 0.1),
  };
}

/** The hidden states of a layer run over xs [N, T, D] (batch first), each step's input sliced out of xs. */
export function lstmLayer(p: LstmParams, xs: Tensor): Tensor[] {
  const [n, t, d] = xs.shape as [number, number, number];
  const hidden = p.wHh.shape[0]!;
  let state: LstmState = { h: zeros([n, hidden], xs.dtype), c: zeros([n, hidden], xs.dtype) };
  const outputs: Tensor[] = [];
  for (let k = 0; k < t; k++) {
    const x = reshape(slice(xs, [0, k, 0], [n, 1, d]), [n, d]);
    state = lstmStep(p, state, x);
    outputs.push(state.h);
  }
  return outputs;
}

/** Mean squared error of every step's hidden state against the targets ys [N, T, H]. */
export function sequenceLoss(params: LstmParams, xs: Tensor, ys: Tensor): Tensor {
  const hs = lstmLayer(params, xs);
  const [n, , h] = ys.shape as [number, number, number];
  let total: Tensor | null = null;
  hs.forEach((ht, k) => {
    const err = mean(square(sub(ht, reshape(slice(ys, [0, k, 0], [n, 1, h]), [n, h]))));
    total = total === null ? err : add(total, err);
  });
  return total!;
}

/** Adam's moments. */
export interface AdamState {
  readonly m: LstmParams;
  readonly v: LstmParams;
  readonly t: Tensor;
}

/** One training step: loss and gradients, clipping by global norm 1, an Adam update (PyTorch's arithmetic). */
export function trainStep(params: LstmParams, opt: AdamState, xs: Tensor, ys: Tensor) {
  const [loss, grads] = valueAndGrad(sequenceLoss)(params, xs, ys) as [Tensor, LstmParams];
  const norm = sqrt(
    treeLeaves<Tensor>(grads)
      .map((g) => sum(square(g)))
      .reduce((a, b) => add(a, b)),
  );
  const factor = div(1, add(norm, 1e-6));
  const clipped = treeMap((g: Tensor) => mul(g, factor), grads) as LstmParams;
  const t = add(opt.t, 1);
  const [b1, b2, lr, eps] = [0.9, 0.999, 1e-2, 1e-8];
  const m = treeMap((mi: Tensor, g: Tensor) => add(mul(mi, b1), mul(g, 1 - b1)), opt.m, clipped) as LstmParams;
  const v = treeMap((vi: Tensor, g: Tensor) => add(mul(vi, b2), mul(square(g), 1 - b2)), opt.v, clipped) as LstmParams;
  const c1 = sub(1, pow(b1, t));
  const c2 = sub(1, pow(b2, t));
  const next = treeMap((p: Tensor, mi: Tensor, vi: Tensor) => sub(p, div(mul(div(mi, c1), lr), add(sqrt(div(vi, c2)), eps))), params, m, v) as LstmParams;
  return { params: next, opt: { m, v, t }, loss };
}

/** Zero moments for `params`. */
export function adamInit(params: LstmParams): AdamState {
  const z = treeMap((p: Tensor) => zeros(p.shape, p.dtype), params) as LstmParams;
  return { m: z, v: z, t: zeros([], params.b.dtype) };
}
