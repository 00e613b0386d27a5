import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const src = (pkg: string, entry = 'index') => fileURLToPath(new URL(`./packages/${pkg}/src/${entry}.ts`, import.meta.url));

// Tests run against the packages' sources, so a test never sees a stale build.
export default defineConfig({
  resolve: {
    alias: {
      '@tapestry/core': src('core'),
      '@tapestry/layers': src('layers'),
      '@tapestry/optim': src('optim'),
      '@tapestry/data': src('data'),
      // the subpaths first: an alias also matches the imports below its name
      '@tapestry/parallel/node': src('parallel', 'node/index'),
      '@tapestry/parallel/browser': src('parallel', 'browser'),
      '@tapestry/parallel': src('parallel'),
      '@tapestry/webgpu': src('webgpu'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    // the browser tests have their own run (`pnpm run test:browser`, vitest.browser.config.ts)
    exclude: ['test/browser/**', '**/node_modules/**'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
