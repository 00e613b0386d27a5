/**
 * Builds and serves the playground. The dev and preview servers send the cross-origin isolation headers
 * (COOP/COEP), so the page may share memory between workers; a static host must send the same two
 * headers (see README.md). The packages resolve to their sources, like the tests, so the page never runs a
 * stale build.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { mobyDickExcerpt } from './src/excerpt-node.js';

const src = (pkg: string, entry = 'index') => fileURLToPath(new URL(`../../packages/${pkg}/src/${entry}.ts`, import.meta.url));

/** Cross-origin isolation: what `crossOriginIsolated` and SharedArrayBuffer need. */
export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** `import text from 'virtual:moby-dick-excerpt'`: the excerpt, read from node_modules at build time. */
function mobyDickModule(): Plugin {
  const id = 'virtual:moby-dick-excerpt';
  return {
    name: 'moby-dick-excerpt',
    resolveId: (source) => (source === id ? `\0${id}` : undefined),
    load: (resolved) => (resolved === `\0${id}` ? `export default ${JSON.stringify(mobyDickExcerpt())};` : undefined),
  };
}

export default defineConfig({
  // relative URLs: the built page works wherever the docs site puts it
  base: './',
  plugins: [mobyDickModule()],
  resolve: {
    alias: {
      '@tapestry/core': src('core'),
      '@tapestry/layers': src('layers'),
      '@tapestry/optim': src('optim'),
      '@tapestry/data': src('data'),
      // the subpath first: an alias also matches the imports below its name
      '@tapestry/parallel/browser': src('parallel', 'browser'),
      '@tapestry/parallel': src('parallel'),
      '@tapestry/webgpu': src('webgpu'),
    },
  },
  worker: {
    format: 'es',
    rolldownOptions: {
      output: {
        // The pool's threads import the replica's chunk (replica-entry.ts, a dynamic import of the training
        // worker). Left to itself the bundler would have that chunk import the code it shares from the worker's
        // entry chunk, and so run the training worker's top level in every thread; the shared code goes to a
        // chunk of its own instead, which both import. @tapestry/parallel stays out of it: it is loaded only
        // for several threads (see src/cpu-engine.ts).
        codeSplitting: {
          groups: [{ debugName: 'training', name: (id: string) => (/\/src\/(worker|replica-entry)\.ts$|\/packages\/parallel\//.test(id) ? null : 'training') }],
        },
      },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
    // the bundler's timing report is about this machine's load, not the page: keep builds' warnings meaningful
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
});
