import { defineConfig } from 'tsup';
import base from '../../tsup.base.js';

// three entry points: the browser-safe core, and the Node (worker_threads) and browser (Web Workers) engines
export default defineConfig({ ...base, entry: ['src/index.ts', 'src/node.ts', 'src/browser.ts'] });
