/** Regenerates the committed wasm byte modules in packages/core/src/kernels/wasm/ (`pnpm run build:wasm`). */
import { writeFileSync } from 'node:fs';
import { assemble, MODULES, renderBytesModule } from './assemble.js';

for (const source of MODULES) {
  const bytes = await assemble(source);
  writeFileSync(source.path, renderBytesModule(bytes, source));
  console.log(`wrote ${source.path} (${bytes.length} bytes of wasm)`);
}
