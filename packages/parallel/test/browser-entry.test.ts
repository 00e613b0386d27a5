/**
 * The browser entry point, as far as Node can run it: its checks before any worker starts, and a pool of one
 * thread (no worker, no shared memory), which must compute what the Node entry's does.
 */
import { describe, expect, it } from 'vitest';
import { randomKey, splitKey, uniform } from '@tapestry/core';
import { dataParallel as browserDataParallel } from '@tapestry/parallel/browser';
import { dataParallel as nodeDataParallel } from '@tapestry/parallel/node';
import { regression, type RegressionSetup } from './fixtures/regression-replica.js';

function setup(): RegressionSetup {
  const [k1, k2, k3, k4] = splitKey(randomKey(3), 4);
  return {
    dtype: 'float64',
    rows: 4,
    params: { w1: uniform(k1!, [3, 5], { dtype: 'float64' }), w2: uniform(k2!, [5, 2], { dtype: 'float64' }) },
    x: uniform(k3!, [4, 3], { dtype: 'float64' }),
    y: uniform(k4!, [4, 2], { dtype: 'float64' }),
  };
}

describe('dataParallel (browser entry)', () => {
  it('refuses several threads outside a cross-origin-isolated page, saying which headers make one', async () => {
    await expect(browserDataParallel(regression, { threads: 2, setup: setup() })).rejects.toThrow(
      /threads 2 need shared memory, which a page has only when cross-origin isolated; serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp/,
    );
  });

  it("refuses to block a page's main thread", async () => {
    const scope = globalThis as { crossOriginIsolated?: boolean; document?: unknown };
    scope.crossOriginIsolated = true;
    scope.document = {};
    try {
      await expect(browserDataParallel(regression, { threads: 2, setup: setup() })).rejects.toThrow(
        /Atomics.wait, which a page's main thread may not do; call dataParallel from a Worker/,
      );
    } finally {
      delete scope.crossOriginIsolated;
      delete scope.document;
    }
  });

  it('runs one thread without workers, as the Node entry does', async () => {
    const s = setup();
    const browser = await browserDataParallel(regression, { threads: 1, setup: s });
    const node = await nodeDataParallel(regression, { threads: 1, setup: s });
    for (let step = 0; step < 3; step++) expect(browser.step(step).loss).toBe(node.step(step).loss);
    browser.close();
    node.close();
  });
});
