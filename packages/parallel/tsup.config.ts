import { defineConfig } from 'tsup';
import base from '../../tsup.base.js';

// three entry points: the browser-safe core, and the Node (worker_threads) and browser (Web Workers) engines;
// a tsconfig of src only, so the declaration build never reads another package's dist while it is rebuilt
export default defineConfig({ ...base, entry: ['src/index.ts', 'src/node.ts', 'src/browser.ts'], tsconfig: './tsconfig.build.json' });
