/**
 * Parity with torch.optim (PyTorch's single-tensor implementations, float64): every optimiser and
 * option in fixtures/torch-parity.json, 10 steps on the fixture's problem. Two loops per run:
 * - replay: feed PyTorch's own gradients, so only the optimiser's arithmetic is under test;
 * - closed loop: compute the gradients with tapestry's autodiff, as a training loop would.
 */
import { add, cast, grad, matmul, mean, mul, sub, sum, tensor, type Tensor } from '@tapestry/core';
import { describe, expect, it } from 'vitest';
import {
  adagrad,
  adam,
  adamw,
  applyUpdates,
  cosineDecay,
  exponentialDecay,
  linearSchedule,
  rmsprop,
  sgd,
  stepDecay,
  type GradientTransformation,
  type ScalarOrSchedule,
} from '@tapestry/optim';
import { fixture, maxRelError, toTensors, type OptimizerRun } from './helpers.js';

const RTOL = 1e-10;

type Params = Record<string, Tensor>;

function scheduleFor(run: OptimizerRun, lr: number): ScalarOrSchedule {
  const s = run.schedule;
  if (s === null) return lr;
  switch (s.kind) {
    case 'StepLR':
      return stepDecay({ initValue: lr, stepSize: s.step_size as number, gamma: s.gamma as number });
    case 'ExponentialLR':
      return exponentialDecay({ initValue: lr, decayRate: s.gamma as number });
    case 'CosineAnnealingLR':
      return cosineDecay({ initValue: lr, decaySteps: s.T_max as number, minValue: s.eta_min as number });
    case 'LinearLR':
      return linearSchedule({
        initValue: lr * (s.start_factor as number),
        endValue: lr * (s.end_factor as number),
        transitionSteps: s.total_iters as number,
      });
    default:
      throw new Error(`no schedule for ${s.kind}`);
  }
}

/** torch.optim.X(**options) → the tapestry optimiser with the same options. */
function optimizerFor(run: OptimizerRun): GradientTransformation {
  const o = run.torch_options as Record<string, number & boolean & [number, number]>;
  const lr = scheduleFor(run, o.lr);
  switch (run.optimizer) {
    case 'SGD':
      return sgd({ lr, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov, weightDecay: o.weight_decay });
    case 'Adam':
      return adam({ lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay, amsgrad: o.amsgrad });
    case 'AdamW':
      return adamw({ lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay, amsgrad: o.amsgrad });
    case 'RMSprop':
      return rmsprop({ lr, alpha: o.alpha, eps: o.eps, weightDecay: o.weight_decay, momentum: o.momentum, centered: o.centered });
    case 'Adagrad':
      return adagrad({
        lr,
        lrDecay: o.lr_decay,
        weightDecay: o.weight_decay,
        initialAccumulatorValue: o.initial_accumulator_value,
        eps: o.eps,
      });
  }
}

const { x, y, quartic } = fixture.problem;
const X = tensor(x, { dtype: 'float64' });
const Y = tensor(y, { dtype: 'float64' });

/** The fixture's loss, mean((x @ w + b − y)²) + quartic · Σ w⁴, in tapestry ops. */
function loss(p: Params): Tensor {
  const r = sub(add(matmul(X, p.w!), p.b!), Y);
  const w2 = mul(p.w!, p.w!);
  return add(mean(mul(r, r)), mul(sum(mul(w2, w2)), quartic));
}
const lossGrad = grad(loss);

/** Runs `run`'s optimiser for the fixture's steps; returns the worst relative error against PyTorch. */
function worstError(run: OptimizerRun, gradsOf: (params: Params, step: number) => Params): number {
  const opt = optimizerFor(run);
  let params: Params = toTensors(run.params[0] as unknown as Record<string, unknown>);
  let state = opt.init(params);
  let worst = 0;
  for (let step = 0; step < fixture.steps; step++) {
    const { updates, state: next } = opt.update(gradsOf(params, step), state, params);
    params = applyUpdates(params, updates);
    state = next;
    worst = Math.max(worst, maxRelError(params, run.params[step + 1] as unknown as Record<string, unknown>));
  }
  return worst;
}

describe('optimisers match torch.optim to 1e-10 relative (float64, 10 steps)', () => {
  it('covers every optimiser family and option the issue lists', () => {
    const names = fixture.optimizers.map((r) => r.name);
    expect(names.length).toBeGreaterThanOrEqual(26);
    for (const family of ['SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad']) {
      expect(fixture.optimizers.some((r) => r.optimizer === family)).toBe(true);
    }
    const used = new Set(fixture.optimizers.flatMap((r) => Object.keys(r.torch_options)));
    for (const option of [
      'momentum',
      'nesterov',
      'dampening',
      'weight_decay',
      'amsgrad',
      'betas',
      'alpha',
      'centered',
      'lr_decay',
      'initial_accumulator_value',
    ]) {
      expect(used.has(option), option).toBe(true);
    }
  });

  describe.each(fixture.optimizers.map((run) => [run.name, run] as const))('%s', (_name, run) => {
    it('replaying PyTorch gradients gives PyTorch parameters', () => {
      const worst = worstError(run, (_params, step) => toTensors(run.grads[step] as unknown as Record<string, unknown>));
      expect(worst).toBeLessThanOrEqual(RTOL);
    });

    it('a closed loop with tapestry gradients gives PyTorch losses, gradients and parameters', () => {
      let gradWorst = 0;
      let lossWorst = 0;
      const worst = worstError(run, (params, step) => {
        const g = lossGrad(params) as Params;
        gradWorst = Math.max(gradWorst, maxRelError(g, run.grads[step] as unknown as Record<string, unknown>));
        const l = loss(params).item();
        lossWorst = Math.max(lossWorst, Math.abs(l - run.losses[step]!) / Math.abs(run.losses[step]!));
        return g;
      });
      expect(gradWorst).toBeLessThanOrEqual(RTOL);
      expect(lossWorst).toBeLessThanOrEqual(RTOL);
      expect(worst).toBeLessThanOrEqual(RTOL);
    });
  });
});

describe('float32', () => {
  // Same arithmetic in float32: the trajectory tracks PyTorch's float64 one to float32 accuracy.
  it.each(['sgd_nesterov_weight_decay', 'adam_amsgrad_weight_decay', 'adamw_weight_decay', 'rmsprop_centered_momentum', 'adagrad_all'])(
    '%s runs in float32 and stays within 1e-4 of the float64 trajectory',
    (name) => {
      const run = fixture.optimizers.find((r) => r.name === name)!;
      const opt = optimizerFor(run);
      let params: Params = toTensors(run.params[0] as unknown as Record<string, unknown>, 'float32');
      let state = opt.init(params);
      for (let step = 0; step < fixture.steps; step++) {
        const grads = toTensors(run.grads[step] as unknown as Record<string, unknown>, 'float32');
        const { updates, state: next } = opt.update(grads, state, params);
        params = applyUpdates(params, updates);
        state = next;
        expect(params.w!.dtype).toBe('float32');
        expect(updates.b!.dtype).toBe('float32');
      }
      const as64 = { w: cast(params.w!, 'float64'), b: cast(params.b!, 'float64') };
      expect(maxRelError(as64, run.params[fixture.steps] as unknown as Record<string, unknown>)).toBeLessThan(1e-4);
    },
  );
});
