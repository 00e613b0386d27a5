import { defineConfig } from 'tsup';

/** The build every package shares: ESM + CJS + .d.ts from src/index.ts. */
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  tsconfig: '../../tsconfig.base.json',
});
