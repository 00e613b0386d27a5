import { defineConfig } from 'tsup';
import base from '../../tsup.base.js';

// three entry points (the Node one in a folder of its own: nothing else in src may use Node APIs): the browser-safe core, and the Node (worker_threads) and browser (Web Workers) engines
export default defineConfig({
  ...base,
  entry: { index: 'src/index.ts', node: 'src/node/index.ts', browser: 'src/browser.ts' },
});
