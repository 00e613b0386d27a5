import { describe, expect, it } from 'vitest';
import { add, tensor } from '@tapestry/core';
import { backendOrSkip, runOnGpu } from './gpu-harness.js';

const backend = await backendOrSkip('smoke');
describe.skipIf(backend === null)('smoke', () => {
  it('adds', async () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    const b = tensor([10, 20, 30]);
    const out = await runOnGpu(backend!, 'add', [a, b], add(a, b), undefined);
    expect(Array.from(out)).toEqual([11, 22, 33, 14, 25, 36]);
  });
});
