/** Bad input is rejected up front, naming the function, the argument and what was expected. */
import { ArgumentError, DTypeError, ShapeError, tensor, type Tensor } from '@tapestry/core';
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
  cosineDecay,
  globalNorm,
  rmsprop,
  scaleByAdam,
  scaleByLearningRate,
  scheduleValue,
  sgd,
  momentum,
  type Schedule,
} from '@tapestry/optim';

const f64 = (v: number[]) => tensor(v, { dtype: 'float64' });

describe('options', () => {
  it('rejects out-of-range hyper-parameters', () => {
    expect(() => sgd({ lr: -1 })).toThrow(ArgumentError);
    expect(() => sgd({ lr: -1 })).toThrow(/^sgd: lr must be >= 0, got -1/);
    expect(() => sgd({ lr: 0.1, nesterov: true })).toThrow(/sgd: Nesterov momentum needs momentum > 0 and dampening 0/);
    expect(() => sgd({ lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(/dampening 0/);
    expect(() => adam({ betas: [0.9, 1] })).toThrow(/^adam: betas\[1\] must be in \[0, 1\), got 1/);
    expect(() => adam({ eps: Number.NaN })).toThrow(/^adam: eps must be a finite number/);
    expect(() => adamw({ weightDecay: -0.1 })).toThrow(/adamw: weightDecay must be >= 0/);
    expect(() => rmsprop({ alpha: 1.5 })).toThrow(/^rmsprop: alpha must be in \[0, 1\)/);
    expect(() => adagrad({ lrDecay: -1 })).toThrow(/adagrad: lrDecay must be >= 0/);
    expect(() => adagrad({ initialAccumulatorValue: -1 })).toThrow(/^adagrad: initialAccumulatorValue must be >= 0/);
    expect(() => momentum({ decay: 0, nesterov: true })).toThrow(/momentum: Nesterov momentum needs decay > 0/);
    expect(() => clipByGlobalNorm(-1)).toThrow(/clipByGlobalNorm: maxNorm must be >= 0/);
    expect(() => globalNorm({}, { normType: 0 })).toThrow(/globalNorm: normType must be a number > 0 or Infinity, got 0/);
  });

  it('rejects a schedule that returns anything but a 0-d float64 tensor when it is used', () => {
    const g = { w: f64([1]) };
    const returnsNumber = scaleByLearningRate((() => Number.NaN) as unknown as Schedule);
    expect(() => returnsNumber.update(g, returnsNumber.init(g))).toThrow(
      /^scaleByLearningRate\.update: the lr schedule returned a number \(NaN\); a schedule must return a 0-d float64 tensor/,
    );
    const returnsFloat32 = scaleByLearningRate(() => tensor(0.1));
    expect(() => returnsFloat32.update(g, returnsFloat32.init(g))).toThrow(/the lr schedule returned Tensor\(f32\[\]\)/);
  });

  it('tells a schedule called with a number to use scheduleValue', () => {
    const lr = cosineDecay({ initValue: 1, decaySteps: 10 });
    expect(() => lr(3 as unknown as Tensor)).toThrow(
      /^cosineDecay: count must be a 0-d int32 tensor \(an optimiser's update count\), got a number \(3\); to read a schedule at a step, use scheduleValue/,
    );
    expect(() => scheduleValue(lr, 1.5)).toThrow(/^scheduleValue: step must be an integer step in \[0, 2\^31\), got 1\.5/);
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
      /momentum\.update: state\.momentum\.layers\[0\]\.b has no counterpart in updates/,
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
    expect(() => applyUpdates({ w: f64([1]) }, { w: tensor([1]) })).toThrow(/^applyUpdates: updates\.w has dtype float32 but params\.w has dtype float64/);
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
    const [adamState, lrState] = opt.init(params) as [object, object];
    // a count kept as a JS number (the state layout before counts became tensors) is named as such
    expect(() => opt.update(params, [{ ...adamState, count: 3 }, lrState], params)).toThrow(
      /^scaleByAdam\.update: state\.count must be a 0-d int32 tensor \(as init makes it\), got a number \(3\)/,
    );
    expect(() => opt.update(params, [adamState, { count: tensor([1, 2], { dtype: 'int32' }) }], params)).toThrow(
      /^scaleByLearningRate\.update: state\.count must be a 0-d int32 tensor \(as init makes it\), got Tensor\(i32\[2\]\)/,
    );
  });
});
