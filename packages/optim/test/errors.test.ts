/** Bad input is rejected up front, naming the function, the argument and what was expected. */
import { ArgumentError, DTypeError, ShapeError, tensor } from '@tapestry/core';
import { describe, expect, it } from 'vitest';
import {
  adagrad,
  adam,
  adamw,
  addDecayedWeights,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  clipGradNorm,
  globalNorm,
  rmsprop,
  scaleByAdam,
  scaleByLearningRate,
  sgd,
  trace,
} from '@tapestry/optim';

const f64 = (v: number[]) => tensor(v, { dtype: 'float64' });

describe('options', () => {
  it('rejects out-of-range hyper-parameters', () => {
    expect(() => sgd({ lr: -1 })).toThrow(ArgumentError);
    expect(() => sgd({ lr: -1 })).toThrow(/^sgd: lr must be >= 0, got -1/);
    expect(() => sgd({ lr: 0.1, nesterov: true })).toThrow(/sgd: Nesterov momentum needs momentum > 0 and dampening 0/);
    expect(() => sgd({ lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(/dampening 0/);
    expect(() => adam({ betas: [0.9, 1] })).toThrow(/scaleByAdam: betas\[1\] must be in \[0, 1\), got 1/);
    expect(() => adam({ eps: Number.NaN })).toThrow(/scaleByAdam: eps must be a finite number/);
    expect(() => adamw({ weightDecay: -0.1 })).toThrow(/adamw: weightDecay must be >= 0/);
    expect(() => rmsprop({ alpha: 1.5 })).toThrow(/scaleByRms: alpha must be in \[0, 1\)/);
    expect(() => adagrad({ lrDecay: -1 })).toThrow(/adagrad: lrDecay must be >= 0/);
    expect(() => adagrad({ initialAccumulatorValue: -1 })).toThrow(/scaleByAdagrad: initialAccumulatorValue must be >= 0/);
    expect(() => trace({ decay: 0, nesterov: true })).toThrow(/trace: Nesterov momentum needs decay > 0/);
    expect(() => clipByGlobalNorm(-1)).toThrow(/clipByGlobalNorm: maxNorm must be >= 0/);
    expect(() => globalNorm({}, { normType: 0 })).toThrow(/globalNorm: normType must be a number > 0 or Infinity, got 0/);
  });

  it('rejects a schedule that returns a non-number when it is used', () => {
    const t = scaleByLearningRate(() => Number.NaN);
    const g = { w: f64([1]) };
    expect(() => t.update(g, t.init(g))).toThrow(/scaleByLearningRate\.update: the lr schedule returned NaN at step 0/);
  });
});

describe('trees', () => {
  const params = { w: f64([1, 2]), layers: [{ b: f64([3]) }] };

  it('names a leaf whose shape does not match the state', () => {
    const opt = adam();
    const state = opt.init(params);
    const grads = { w: f64([1, 2]), layers: [{ b: f64([3, 4]) }] };
    expect(() => opt.update(grads, state, params)).toThrow(ShapeError);
    expect(() => opt.update(grads, state, params)).toThrow(
      /^scaleByAdam\.update: state\.mu\.layers\[0\]\.b has shape \[1\] but updates\.layers\[0\]\.b has shape \[2\]/,
    );
  });

  it('names a missing or extra leaf', () => {
    const opt = sgd({ lr: 0.1, momentum: 0.9 });
    const state = opt.init(params);
    expect(() => opt.update({ w: f64([1, 2]) } as unknown as typeof params, state, params)).toThrow(
      /trace\.update: state\.momentum\.layers\[0\]\.b has no counterpart in updates/,
    );
    expect(() => applyUpdates(params, { w: f64([1, 2]), layers: [{ c: f64([3]) }] } as unknown as typeof params)).toThrow(
      /^applyUpdates: updates has no leaf updates\.layers\[0\]\.b to match params\.layers\[0\]\.b/,
    );
  });

  it('accepts the same leaves in a different key order', () => {
    const swapped = { layers: [{ b: f64([1]) }], w: f64([1, 1]) };
    const out = applyUpdates(params, swapped as typeof params);
    expect(Object.keys(out)).toEqual(['w', 'layers']);
    expect(out.layers[0]!.b.toArray()).toEqual([4]);
  });

  it('rejects non-tensor leaves, int32 tensors and mixed dtypes', () => {
    expect(() => applyUpdates({ w: 1 }, { w: 2 })).toThrow(/^applyUpdates: params\.w is a number \(1\); every leaf of params must be a Tensor/);
    expect(() => applyUpdates({ w: tensor([1], { dtype: 'int32' }) }, { w: tensor([1], { dtype: 'int32' }) })).toThrow(DTypeError);
    expect(() => applyUpdates({ w: f64([1]) }, { w: tensor([1]) })).toThrow(
      /^applyUpdates: updates\.w has dtype float32 but params\.w has dtype float64/,
    );
    expect(() => clipGradNorm({ a: f64([1]), b: tensor([1]) }, 1)).toThrow(
      /^clipGradNorm: all leaves must share one dtype, but grads\.a is float64 and grads\.b is float32/,
    );
  });

  it('asks for params when weight decay needs them', () => {
    for (const opt of [sgd({ lr: 0.1, weightDecay: 0.1 }), adamw(), adam({ weightDecay: 0.1 })]) {
      expect(() => opt.update(params, opt.init(params))).toThrow(/params are required \(weight decay reads the parameters\)/);
    }
    const t = addDecayedWeights(0.5);
    expect(t.update(params, t.init(params), params).updates.w.toArray()).toEqual([1.5, 3]);
  });

  it('rejects a state from another transformation', () => {
    const opt = chain(scaleByAdam(), scaleByLearningRate(0.1));
    expect(() => opt.update(params, [{}], params)).toThrow(/^chain\.update: state must be the array of 2 inner states/);
    expect(() => opt.update(params, [{}, { count: 0 }], params)).toThrow(/^scaleByAdam\.update: state has no 'count'/);
  });
});
