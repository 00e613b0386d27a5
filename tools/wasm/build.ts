/** Regenerates packages/core/src/kernels/wasm/gemm-bytes.ts from tools/wasm/gemm.wat (`pnpm run build:wasm`). */
import { writeFileSync } from 'node:fs';
import { assembleGemm, GENERATED_PATH, renderBytesModule } from './assemble.js';

const bytes = await assembleGemm();
writeFileSync(GENERATED_PATH, renderBytesModule(bytes));
console.log(`wrote ${GENERATED_PATH} (${bytes.length} bytes of wasm)`);
