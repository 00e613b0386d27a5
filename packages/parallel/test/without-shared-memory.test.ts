import { afterEach, describe, expect, it, vi } from 'vitest';

// A page that is not cross-origin isolated has no SharedArrayBuffer; the package must still load there and
// run a one-thread pool (the calling thread alone), as its README promises.
describe('@tapestry/parallel without SharedArrayBuffer', () => {
  const shared = globalThis.SharedArrayBuffer;
  afterEach(() => {
    globalThis.SharedArrayBuffer = shared;
    vi.resetModules();
  });

  it('loads and runs a one-thread pool', async () => {
    vi.resetModules();
    // @ts-expect-error: removed on purpose, as in a page without cross-origin isolation
    delete globalThis.SharedArrayBuffer;
    expect(typeof globalThis.SharedArrayBuffer).toBe('undefined');
    const { defineReplica } = await import('@tapestry/parallel');
    const { dataParallel } = await import('@tapestry/parallel/node');
    const double = defineReplica(import.meta.url, 'double', () => (input: number) => 2 * input);
    const pool = await dataParallel(double, { threads: 1, setup: null });
    try {
      expect(pool.step(21)).toBe(42);
    } finally {
      pool.close();
    }
  });
});
