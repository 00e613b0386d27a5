/** clipGradNorm / clipGradValue / clipByGlobalNorm against torch.nn.utils.clip_grad_norm_ and clip_grad_value_. */
import { tensor, type Tensor } from '@tapestry/core';
import { describe, expect, it } from 'vitest';
import { chain, clipByGlobalNorm, clipByValue, clipGradNorm, clipGradValue, globalNorm } from '@tapestry/optim';
import { fixture, maxRelError, relError, toTensors } from './helpers.js';

const RTOL = 1e-10;
const { cases } = fixture.clip_grad_norm;
const grads = toTensors(fixture.clip_grad_norm.grads);
const normTypeOf = (n: number | 'inf') => (n === 'inf' ? Infinity : n);

describe('clipGradNorm matches torch.nn.utils.clip_grad_norm_', () => {
  it('the fixture has clipped and unclipped cases', () => {
    expect(cases.some((c) => c.total_norm > c.max_norm)).toBe(true);
    expect(cases.some((c) => c.total_norm < c.max_norm)).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const normType = normTypeOf(c.norm_type);
    const { grads: clipped, totalNorm } = clipGradNorm(grads, c.max_norm, { normType });
    expect(totalNorm.shape).toEqual([]);
    expect(totalNorm.dtype).toBe('float64');
    expect(relError(totalNorm.item(), c.total_norm)).toBeLessThanOrEqual(RTOL);
    expect(maxRelError(clipped, c.grads)).toBeLessThanOrEqual(RTOL);
    expect(relError(globalNorm(grads, { normType }).item(), c.total_norm)).toBeLessThanOrEqual(RTOL);
  });

  it('an unclipped case returns the gradients bit for bit', () => {
    const c = cases.find((k) => k.name === 'l2 unclipped')!;
    const { grads: clipped } = clipGradNorm(grads, c.max_norm);
    for (const key of Object.keys(grads)) expect(clipped[key]!.toArray()).toEqual(grads[key]!.toArray());
  });

  it('clipByGlobalNorm in a chain gives the same gradients', () => {
    for (const c of cases) {
      const t = chain(clipByGlobalNorm(c.max_norm, { normType: normTypeOf(c.norm_type) }));
      const { updates } = t.update(grads, t.init(grads));
      expect(maxRelError(updates, c.grads)).toBeLessThanOrEqual(RTOL);
    }
  });
});

describe('clipGradValue matches torch.nn.utils.clip_grad_value_', () => {
  it.each(fixture.clip_grad_value.map((c) => [c.clip_value, c] as const))('clip value %d', (v, c) => {
    expect(maxRelError(clipGradValue(grads, v), c.grads)).toBe(0);
    const t = clipByValue(v);
    expect(maxRelError(t.update(grads, t.init(grads)).updates, c.grads)).toBe(0);
  });
});

describe('globalNorm edge cases', () => {
  it('is 0 for a tree without leaves, as PyTorch returns tensor(0.)', () => {
    expect(globalNorm({}).item()).toBe(0);
    expect(clipGradNorm({}, 1).totalNorm.item()).toBe(0);
  });

  it('counts an empty leaf as norm 0', () => {
    const g = { a: tensor([3, 4], { dtype: 'float64' }), e: tensor(new Float64Array(0)) };
    expect(globalNorm(g).item()).toBe(5);
  });

  it('keeps float32 in float32', () => {
    const g = { a: tensor([3, 4]) } as Record<string, Tensor>;
    const { grads: clipped, totalNorm } = clipGradNorm(g, 1);
    expect(totalNorm.dtype).toBe('float32');
    expect(clipped.a!.dtype).toBe('float32');
    expect(totalNorm.item()).toBe(5);
  });
});
