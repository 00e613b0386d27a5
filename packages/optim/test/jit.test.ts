/**
 * Optimisers inside `jit`: counts, schedules, momentum's first step and the finite guard are all tensor
 * ops, so a jitted step traces once and replays for every later step, with eager execution's numbers.
 */
import { add, jit, matmul, mean, mul, sub, tensor, valueAndGrad, type DType, type Tensor } from '@tapestry/core';
import { describe, expect, it } from 'vitest';
import {
  adagrad,
  adam,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  cosineDecay,
  exponentialDecay,
  guardFinite,
  joinSchedules,
  linearWarmup,
  rmsprop,
  sgd,
  stepDecay,
  type GradientTransformation,
} from '@tapestry/optim';
import { snapshot } from './helpers.js';

type Params = { w: Tensor; b: Tensor };

const STEPS = 5;

function paramsIn(dtype: DType): Params {
  return {
    w: tensor(
      [
        [0.5, -1],
        [0.25, 2],
        [-1.5, 0.75],
      ],
      { dtype },
    ),
    b: tensor([0.1, -0.2], { dtype }),
  };
}

/** Gradients of step k: varied signs and magnitudes, one NaN at step `nanAt` (if given). */
function gradsAt(k: number, dtype: DType, nanAt = -1): Params {
  const w = [
    [1, -2],
    [0.5, 3],
    [-4, 0.25],
  ].map((row, i) => row.map((v, j) => v * Math.cos(k + i - j) * (k + 1)));
  if (k === nanAt) w[1]![0] = Number.NaN;
  return { w: tensor(w, { dtype }), b: tensor([Math.sin(k), -2 * Math.cos(k)], { dtype }) };
}

const optimizers: [string, () => GradientTransformation<any>, number][] = [
  [
    'clipByGlobalNorm + adam with a warm-up joined to a cosine decay',
    () =>
      chain(
        clipByGlobalNorm(1),
        adam({
          lr: joinSchedules([linearWarmup({ initValue: 1e-3, peakValue: 1e-2, warmupSteps: 2 }), cosineDecay({ initValue: 1e-2, decaySteps: 3 })], [2]),
        }),
      ),
    -1,
  ],
  [
    'sgd with momentum and dampening, step-decayed lr',
    () => sgd({ lr: stepDecay({ initValue: 0.1, stepSize: 2, gamma: 0.5 }), momentum: 0.9, dampening: 0.1 }),
    -1,
  ],
  ['sgd with Nesterov momentum', () => sgd({ lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }), -1],
  ['rmsprop centered with momentum', () => rmsprop({ lr: 0.01, momentum: 0.5, centered: true }), -1],
  ['adagrad with lr decay', () => adagrad({ lr: 0.1, lrDecay: 0.05, initialAccumulatorValue: 0.1 }), -1],
  [
    'guardFinite around clipping and AMSGrad Adam, NaN at step 2',
    () => guardFinite(chain(clipByGlobalNorm(2), adam({ lr: exponentialDecay({ initValue: 1e-2, decayRate: 0.5, staircase: true }), amsgrad: true }))),
    2,
  ],
];

/** The step of the brief: updates from given gradients, applied. */
function stepOf(opt: GradientTransformation<any>) {
  return (params: Params, state: unknown, grads: Params) => {
    const { updates, state: next } = opt.update(grads, state, params);
    return { params: applyUpdates(params, updates), state: next };
  };
}

describe.each(['float32', 'float64'] as const)('a jitted step equals the eager step (%s)', (dtype) => {
  it.each(optimizers)('%s: 5 steps, bit for bit, one trace', (_name, make, nanAt) => {
    const opt = make();
    const step = stepOf(opt);
    const jitted = jit(step);
    let eager = { params: paramsIn(dtype), state: opt.init(paramsIn(dtype)) as unknown };
    let compiled = { params: paramsIn(dtype), state: opt.init(paramsIn(dtype)) as unknown };
    for (let k = 0; k < STEPS; k++) {
      const grads = gradsAt(k, dtype, nanAt);
      eager = step(eager.params, eager.state, grads);
      compiled = jitted(compiled.params, compiled.state, grads);
      expect(snapshot(compiled.params), `params after step ${k}`).toEqual(snapshot(eager.params));
      expect(snapshot(compiled.state), `state after step ${k}`).toEqual(snapshot(eager.state));
    }
    expect(jitted.cacheSize).toBe(1);
    expect(compiled.params.w.dtype).toBe(dtype);
    // the parameters moved (a stuck optimiser would pass the comparisons above trivially)
    expect(snapshot(compiled.params)).not.toEqual(snapshot(paramsIn(dtype)));
  });
});

describe('counts are int32 tensors', () => {
  it('after 5 jitted steps every count reads 5 (4 behind a guard that skipped one step)', () => {
    for (const [, make, nanAt] of optimizers) {
      const opt = make();
      const jitted = jit(stepOf(opt));
      let s = { params: paramsIn('float64'), state: opt.init(paramsIn('float64')) as unknown };
      for (let k = 0; k < STEPS; k++) s = jitted(s.params, s.state, gradsAt(k, 'float64', nanAt));
      const counts = countsIn(s.state);
      expect(counts.length).toBeGreaterThan(0);
      for (const c of counts) {
        expect(c.dtype).toBe('int32');
        expect(c.shape).toEqual([]);
        expect(c.item()).toBe(nanAt >= 0 ? STEPS - 1 : STEPS);
      }
    }
  });
});

/** Every `count` leaf of a state tree. */
function countsIn(tree: unknown): Tensor[] {
  if (Array.isArray(tree)) return tree.flatMap(countsIn);
  if (tree !== null && typeof tree === 'object' && Object.getPrototypeOf(tree) === Object.prototype) {
    return Object.entries(tree).flatMap(([k, v]) => (k === 'count' ? [v as Tensor] : countsIn(v)));
  }
  return [];
}

describe('a whole training step', () => {
  const x = tensor([
    [1, 2, 0.5],
    [-1, 0.5, 2],
    [0.3, -0.7, 1],
    [2, 1, -1],
  ]);
  const y = tensor([
    [1, 0],
    [0, 1],
    [0.5, 0.5],
    [-1, 2],
  ]);
  const loss = (p: Params) => {
    const r = sub(add(matmul(x, p.w), p.b), y);
    return mean(mul(r, r));
  };

  it('forward, backward, clipping and scheduled Adam in one compiled graph: eager numbers, one trace, loss falls', () => {
    const lr = joinSchedules([linearWarmup({ initValue: 1e-3, peakValue: 5e-2, warmupSteps: 3 }), cosineDecay({ initValue: 5e-2, decaySteps: 20 })], [3]);
    const opt: GradientTransformation<any> = guardFinite(chain(clipByGlobalNorm(1), adam({ lr })));
    const trainStep = (params: Params, state: unknown) => {
      const [value, grads] = valueAndGrad(loss)(params) as [Tensor, Params];
      const { updates, state: next } = opt.update(grads, state, params);
      return { params: applyUpdates(params, updates), state: next, loss: value };
    };
    const jitted = jit(trainStep);
    let eager = { params: paramsIn('float32'), state: opt.init(paramsIn('float32')) as unknown, loss: tensor(0) };
    let compiled = { ...eager };
    const losses: number[] = [];
    for (let k = 0; k < 20; k++) {
      eager = trainStep(eager.params, eager.state);
      compiled = jitted(compiled.params, compiled.state);
      expect(compiled.loss.item()).toBe(eager.loss.item());
      expect(snapshot(compiled)).toEqual(snapshot(eager));
      losses.push(compiled.loss.item());
    }
    expect(jitted.cacheSize).toBe(1);
    expect(losses[19]!).toBeLessThan(losses[0]! / 2);
  });
});
