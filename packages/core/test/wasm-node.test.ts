/**
 * Node-only checks of the WebAssembly GEMM, apart from the kernel tests (which also run in Chromium): the
 * committed bytes against a fresh build of tools/wasm/gemm.wat (the build tool reads the file system), and
 * the fallback when WebAssembly is absent (simulated by re-evaluating the modules, which only Node's module
 * runner can do).
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gemmTs } from '../src/kernels/matmul.js';
import { assemble, assembleGemm, GENERATED_PATH, MODULES, renderBytesModule } from '../../../tools/wasm/assemble.js';

describe('generated wasm module', () => {
  it('the committed bytes equal a fresh build of tools/wasm/gemm.wat (run `pnpm run build:wasm` if not)', async () => {
    const fresh = renderBytesModule(await assembleGemm());
    expect(readFileSync(GENERATED_PATH, 'utf8')).toBe(fresh);
  });

  it('every committed module (GEMM, its relaxed-SIMD variant, the elementwise kernels) is a fresh build of tools/wasm', async () => {
    for (const source of MODULES) {
      expect(readFileSync(source.path, 'utf8'), source.path).toBe(renderBytesModule(await assemble(source), source));
    }
  });
});

describe('without WebAssembly', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('float32 products fall back to the TypeScript kernel', async () => {
    vi.stubGlobal('WebAssembly', undefined);
    vi.resetModules();
    const wasm = await import('../src/kernels/wasm/gemm-wasm.js');
    const kernels = await import('../src/kernels/matmul.js');
    expect(wasm.wasmGemmAvailable()).toBe(false);
    expect(kernels.gemmBackend('float32', 64, 64, 64)).toBe('ts');
    const [m, n, k] = [9, 17, 33];
    const a = Float32Array.from({ length: m * k }, (_, i) => ((i * 37) % 17) / 8 - 1);
    const b = Float32Array.from({ length: k * n }, (_, i) => ((i * 23) % 13) / 8 - 1);
    const expected = new Float32Array(m * n);
    gemmTs(a, 0, b, 0, expected, 0, m, n, k, false, true);
    const c = kernels.batchedGemm(a, b, 1, Int32Array.of(0), Int32Array.of(0), m, n, k, false, true, 'float32');
    expect(Array.from(c)).toEqual(Array.from(expected));
  });
});
