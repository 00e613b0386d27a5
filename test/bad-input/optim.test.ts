/** Bad input to @tapestry/optim: optimisers, transforms, chain, clipping, schedules, updates. */
import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError, tensor, zeros, type Tensor } from '@tapestry/core';
import {
  adagrad,
  adam,
  adamw,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  clipGradNorm,
  clipGradValue,
  cosineDecay,
  joinSchedules,
  constant,
  linearWarmup,
  rmsprop,
  scaleByAdam,
  scaleByLearningRate,
  sgd,
  stepDecay,
  momentum,
  globalNorm,
} from '@tapestry/optim';
import { badInputCases, type BadInputCase } from './cases.js';

const params = { w: tensor([1, 2], { dtype: 'float64' }) };
const grads = { w: tensor([0.5, -0.5], { dtype: 'float64' }) };
const opt = adam();
const state = opt.init(params);
const options = { lr: 0.1, learningRate: 0.1 };
const betas = [0.9, 1];

const cases: BadInputCase[] = [
  // tapestry's classes, not a TypeError/RangeError from deep inside
  { name: 'sgd()', fn: 'sgd', run: () => (sgd as (o?: unknown) => unknown)(), error: ArgumentError, mentions: ['options', 'undefined'] },
  { name: 'sgd({})', fn: 'sgd', run: () => sgd({} as never), error: ArgumentError, mentions: ['options.lr', 'required'] },
  { name: 'sgd(0.1)', fn: 'sgd', run: () => sgd(0.1 as never), error: ArgumentError, mentions: ['options', '0.1'] },
  { name: 'sgd({ lr: -1 })', fn: 'sgd', run: () => sgd({ lr: -1 }), error: ArgumentError, mentions: ['lr', '-1'] },
  { name: 'sgd({ lr: "0.1" })', fn: 'sgd', run: () => sgd({ lr: '0.1' as never }), error: ArgumentError, mentions: ['lr', '0.1'] },
  { name: 'sgd({ lr: 0.1, momentum: NaN })', fn: 'sgd', run: () => sgd({ lr: 0.1, momentum: NaN }), error: ArgumentError, mentions: ['momentum', 'NaN'] },
  {
    name: 'sgd({ lr: 0.1, nesterov: true })',
    fn: 'sgd',
    run: () => sgd({ lr: 0.1, nesterov: true }),
    error: ArgumentError,
    mentions: ['Nesterov', 'momentum 0'],
  },
  {
    name: 'sgd({ lr: 0.1, nesterov: "yes" })',
    fn: 'sgd',
    run: () => sgd({ lr: 0.1, momentum: 0.9, nesterov: 'yes' as never }),
    error: ArgumentError,
    mentions: ['nesterov', '"yes"'],
  },
  {
    name: 'sgd({ lr: 0.1, weight_decay: 0.1 })',
    fn: 'sgd',
    run: () => sgd({ lr: 0.1, weight_decay: 0.1 } as never),
    error: ArgumentError,
    mentions: ['unknown option "weight_decay"', 'weightDecay'],
  },
  { name: 'adam({ betas: 0.9 })', fn: 'adam', run: () => adam({ betas: 0.9 as never }), error: ArgumentError, mentions: ['betas', '0.9', 'pair'] },
  {
    name: 'adam({ betas: [0.9, 1] })',
    fn: 'adam',
    held: [betas],
    run: () => adam({ betas: betas as never }),
    error: ArgumentError,
    mentions: ['betas[1]', '[0, 1)', '1'],
  },
  { name: 'adam({ betas: [0.9] })', fn: 'adam', run: () => adam({ betas: [0.9] as never }), error: ArgumentError, mentions: ['betas', '[0.9]'] },
  {
    name: 'adam({ lr, learningRate }): unknown option',
    fn: 'adam',
    held: [options],
    run: () => adam(options as never),
    error: ArgumentError,
    mentions: ['unknown option "learningRate"', 'lr, betas'],
  },
  { name: 'adam({ eps: -1 })', fn: 'adam', run: () => adam({ eps: -1 }), error: ArgumentError, mentions: ['eps', '-1'] },
  { name: 'adam({ amsgrad: 1 })', fn: 'adam', run: () => adam({ amsgrad: 1 as never }), error: ArgumentError, mentions: ['amsgrad', '1'] },
  { name: 'adam(null)', fn: 'adam', run: () => adam(null as never), error: ArgumentError, mentions: ['options', 'null'] },
  { name: 'adamw({ weightDecay: -0.1 })', fn: 'adamw', run: () => adamw({ weightDecay: -0.1 }), error: ArgumentError, mentions: ['weightDecay', '-0.1'] },
  {
    name: 'adamw({ betas: "0.9,0.99" })',
    fn: 'adamw',
    run: () => adamw({ betas: '0.9,0.99' as never }),
    error: ArgumentError,
    mentions: ['betas', '"0.9,0.99"'],
  },
  { name: 'rmsprop({ alpha: 1 })', fn: 'rmsprop', run: () => rmsprop({ alpha: 1 }), error: ArgumentError, mentions: ['alpha', '1'] },
  { name: 'rmsprop({ centered: "no" })', fn: 'rmsprop', run: () => rmsprop({ centered: 'no' as never }), error: ArgumentError, mentions: ['centered', '"no"'] },
  { name: 'adagrad({ eps: -1 })', fn: 'adagrad', run: () => adagrad({ eps: -1 }), error: ArgumentError, mentions: ['eps', '-1'] },
  {
    name: 'adagrad({ initialAccumulatorValue: NaN })',
    fn: 'adagrad',
    run: () => adagrad({ initialAccumulatorValue: NaN }),
    error: ArgumentError,
    mentions: ['initialAccumulatorValue', 'NaN'],
  },
  {
    name: 'scaleByAdam({ betas: [2, 0.9] })',
    fn: 'scaleByAdam',
    run: () => scaleByAdam({ betas: [2, 0.9] }),
    error: ArgumentError,
    mentions: ['betas[0]', '2'],
  },
  {
    name: 'scaleByLearningRate(0.1, { flip: false })',
    fn: 'scaleByLearningRate',
    run: () => scaleByLearningRate(0.1, { flip: false } as never),
    error: ArgumentError,
    mentions: ['unknown option "flip"', 'flipSign'],
  },
  { name: 'momentum()', fn: 'momentum', run: () => (momentum as (o?: unknown) => unknown)(), error: ArgumentError, mentions: ['options', 'undefined'] },
  // chain
  { name: 'chain(adam(), 5)', fn: 'chain', run: () => chain(adam(), 5 as never), error: ArgumentError, mentions: ['transforms[1]', '5 (number)'] },
  { name: 'chain(adam)', fn: 'chain', run: () => chain(adam as never), error: ArgumentError, mentions: ['transforms[0]', 'the function adam', 'adam(…)'] },
  { name: 'chain(null)', fn: 'chain', run: () => chain(null as never), error: ArgumentError, mentions: ['transforms[0]', 'null'] },
  {
    name: 'chain({ init })',
    fn: 'chain',
    run: () => chain({ init: () => ({}) } as never),
    error: ArgumentError,
    mentions: ['transforms[0]', 'without init/update'],
  },
  // updates
  {
    name: 'adam().update(grads of another tree)',
    fn: 'scaleByAdam.update',
    held: [state, params],
    run: () => opt.update({ b: zeros([2]) } as never, state, params),
    error: ArgumentError,
    mentions: ['updates.b', 'state.mu'],
  },
  {
    name: 'adam().update(grads, {}, params)',
    fn: 'chain.update',
    held: [grads, params],
    run: () => opt.update(grads, {} as never, params),
    error: ArgumentError,
    mentions: ['state', 'object'],
  },
  {
    name: 'applyUpdates(params, updates of another shape)',
    fn: 'applyUpdates',
    held: [params],
    run: () => applyUpdates(params, { w: zeros([3], 'float64') }),
    error: ShapeError,
    mentions: ['updates.w', '[3]', '[2]'],
  },
  {
    name: 'applyUpdates(params, updates without w)',
    fn: 'applyUpdates',
    held: [params],
    run: () => applyUpdates(params, {} as never),
    error: ArgumentError,
    mentions: ['w'],
  },
  // clipping
  { name: 'clipGradNorm(grads, -1)', fn: 'clipGradNorm', held: [grads], run: () => clipGradNorm(grads, -1), error: ArgumentError, mentions: ['maxNorm', '-1'] },
  {
    name: 'clipGradNorm(grads, 1, { normType: "fro" })',
    fn: 'clipGradNorm',
    held: [grads],
    run: () => clipGradNorm(grads, 1, { normType: 'fro' as never }),
    error: ArgumentError,
    mentions: ['normType', 'fro'],
  },
  {
    name: 'clipGradValue(grads, NaN)',
    fn: 'clipGradValue',
    held: [grads],
    run: () => clipGradValue(grads, NaN),
    error: ArgumentError,
    mentions: ['clipValue', 'NaN'],
  },
  { name: 'clipByGlobalNorm("1")', fn: 'clipByGlobalNorm', run: () => clipByGlobalNorm('1' as never), error: ArgumentError, mentions: ['maxNorm', '1'] },
  { name: 'globalNorm({ w: [1, 2] })', fn: 'globalNorm', run: () => globalNorm({ w: [1, 2] }), error: ArgumentError, mentions: ['w'] },
  // schedules
  {
    name: 'cosineDecay()',
    fn: 'cosineDecay',
    run: () => (cosineDecay as (o?: unknown) => unknown)(),
    error: ArgumentError,
    mentions: ['options', 'undefined'],
  },
  {
    name: 'cosineDecay({ initValue: 1, decaySteps: 0 })',
    fn: 'cosineDecay',
    run: () => cosineDecay({ initValue: 1, decaySteps: 0 }),
    error: ArgumentError,
    mentions: ['decaySteps', '0'],
  },
  {
    name: 'cosineDecay({ init: 1, decaySteps: 10 })',
    fn: 'cosineDecay',
    run: () => cosineDecay({ init: 1, decaySteps: 10 } as never),
    error: ArgumentError,
    mentions: ['unknown option "init"', 'initValue'],
  },
  {
    name: 'stepDecay({ initValue: 1, stepSize: 1.5 })',
    fn: 'stepDecay',
    run: () => stepDecay({ initValue: 1, stepSize: 1.5 }),
    error: ArgumentError,
    mentions: ['stepSize', '1.5'],
  },
  {
    name: 'linearWarmup({ peakValue: 1, warmupSteps: -1 })',
    fn: 'linearWarmup',
    run: () => linearWarmup({ peakValue: 1, warmupSteps: -1 }),
    error: ArgumentError,
    mentions: ['warmupSteps', '-1'],
  },
  {
    name: 'joinSchedules([constant(1)], [1])',
    fn: 'joinSchedules',
    run: () => joinSchedules([constant(1)], [1]),
    error: ArgumentError,
    mentions: ['1 schedules', '0 boundaries'],
  },
];

describe('bad input: optim', () => {
  badInputCases(cases);

  it('valid options still build, and known options pass the unknown-option check', () => {
    const full = adam({ lr: 1e-3, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.01, amsgrad: true });
    const s = full.init(params);
    const { updates } = full.update(grads, s, params);
    expect((applyUpdates(params, updates) as { w: Tensor }).w.shape).toEqual([2]);
    expect(() => sgd({ lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 1e-4 })).not.toThrow();
  });
});
