import { defineConfig } from 'tsup';

/**
 * The build every package shares: ESM + CJS + .d.ts from src/index.ts. Each package's tsconfig.build.json
 * makes only its own src the declaration build's root files: without an `include`, TypeScript takes every
 * file under the repository, other packages' dist/ among them, and a build could read another package's
 * dist/ while that package's build was rewriting it (the main job's `pnpm run build` failed so, with TS6053).
 */
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  tsconfig: './tsconfig.build.json',
});
