/**
 * The GEMM build is chosen at load time: the relaxed-SIMD one (fused multiply-adds) wherever the engine
 * validates it, the plain SIMD one elsewhere. Node 20 validates relaxed SIMD only with
 * `--experimental-wasm-relaxed-simd`, so the relaxed build's products are checked in a child Node started
 * with that flag, against a float64 reference within the float32 rounding bound.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { wasmGemmVariant } from '../src/kernels/wasm/gemm-wasm.js';
import { GEMM_RELAXED_WASM_BASE64 } from '../src/kernels/wasm/gemm-relaxed-bytes.js';
import { decodeBase64 } from '../src/kernels/wasm/load-module.js';

describe('relaxed-SIMD GEMM', () => {
  it('is the build that loads exactly where the engine validates relaxed SIMD', () => {
    const relaxed = WebAssembly.validate(decodeBase64(GEMM_RELAXED_WASM_BASE64));
    expect(wasmGemmVariant()).toBe(relaxed ? 'relaxed' : 'simd');
  });

  it('loads with --experimental-wasm-relaxed-simd, its products are within the float32 bound, and run in place with the same bits', () => {
    const child = fileURLToPath(new URL('./relaxed-gemm-child.ts', import.meta.url));
    const output = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', child], { encoding: 'utf8' });
    const report = JSON.parse(output.trim().split('\n').pop()!) as { variant: string; products: number; worst: number; inPlaceMismatches: number };
    expect(report.variant).toBe('relaxed');
    expect(report.products).toBe(20);
    // a plan's own GEMM instance runs the relaxed build too: the same bits in place as in the shared memory
    expect(report.inPlaceMismatches).toBe(0);
    expect(report.worst).toBeLessThanOrEqual(1);
    expect(report.worst).toBeGreaterThan(0);
  });
});
