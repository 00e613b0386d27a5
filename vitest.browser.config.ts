/**
 * The browser tests (`pnpm run test:browser`), in Debian's Chromium through playwright-core:
 * - `in-browser`: the core, layers and optim test files run inside the browser (vitest's browser mode), so
 *   "runs in browsers too" is a test, not a claim;
 * - `page`: Node drives the built playground page (test/browser/*.test.ts);
 * - `webgpu-in-browser`: @tapestry/webgpu trains inside the browser on `navigator.gpu` (test/browser/webgpu).
 */
import { fileURLToPath } from 'node:url';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { CHROMIUM_ARGS, chromiumPath } from './test/browser/chromium.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const alias = {
  '@tapestry/core': here('./packages/core/src/index.ts'),
  '@tapestry/layers': here('./packages/layers/src/index.ts'),
  '@tapestry/optim': here('./packages/optim/src/index.ts'),
  '@tapestry/data': here('./packages/data/src/index.ts'),
};

export default defineConfig({
  test: {
    projects: [
      {
        resolve: {
          // the fixture-reading tests use readFileSync(new URL(…, import.meta.url)); in the page that URL is served by Vite
          alias: { ...alias, 'node:fs': here('./test/browser/fs-shim.ts') },
        },
        test: {
          name: 'in-browser',
          include: ['packages/{core,layers,optim}/test/**/*.test.ts'],
          // Node-only: a build tool's output and module re-evaluation to simulate a runtime without WebAssembly
          // (wasm-node), wabt as the reference assembler (wat-assembler-node), a child Node started with the
          // relaxed-SIMD flag (relaxed-gemm)
          exclude: ['packages/core/test/wasm-node.test.ts', 'packages/core/test/wat-assembler-node.test.ts', 'packages/core/test/relaxed-gemm.test.ts'],
          testTimeout: 120_000,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({ launchOptions: { executablePath: chromiumPath(), args: CHROMIUM_ARGS } }),
            instances: [{ browser: 'chromium' }],
            screenshotFailures: false,
          },
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'page',
          include: ['test/browser/**/*.test.ts'],
          exclude: ['test/browser/webgpu/**'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        resolve: { alias: { ...alias, '@tapestry/webgpu': here('./packages/webgpu/src/index.ts') } },
        test: {
          name: 'webgpu-in-browser',
          include: ['test/browser/webgpu/**/*.test.ts'],
          testTimeout: 300_000,
          browser: {
            enabled: true,
            headless: true,
            // WebGPU on Chromium's own software adapter (SwiftShader) where the machine has no GPU
            provider: playwright({
              launchOptions: { executablePath: chromiumPath(), args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'] },
            }),
            instances: [{ browser: 'chromium' }],
            screenshotFailures: false,
          },
        },
      },
    ],
  },
});
