/**
 * The GPU bench entry (`bench/src/gpu/gpu-bench.ts`, what `bench/device/gpu-bench.sh` bundles for a GPU
 * machine) runs end to end at tiny sizes on the machine's adapter (llvmpipe in CI): a device session gets one
 * try, so a broken entry must fail here first. Every row is there, written to the output file, and each
 * training row ran as one submission per step and counted its dispatches. No timing is asserted.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backendOrSkip } from '../../packages/webgpu/test/gpu-harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// no adapter: a skip that says why, or (CI sets TAPESTRY_REQUIRE_WEBGPU=1) a failure; the bench opens its own
const backend = await backendOrSkip('gpu-bench.test');
backend?.destroy();

interface Row {
  workload: string;
  label: string;
  value: number;
  unit: string;
  detail?: Record<string, number | string>;
}

describe.skipIf(backend === null)('GPU bench entry', () => {
  it('runs every row at tiny sizes and saves them', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'gpu-bench-')), 'rows.json');
    const printed = execFileSync(join(root, 'node_modules/.bin/tsx'), ['bench/src/gpu/gpu-bench.ts', '--tiny', '--steps', '2', '--out', out], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
    });
    const rows = (JSON.parse(readFileSync(out, 'utf8')) as { rows: Row[] }).rows;
    // the headline rows first: the largest matmul, then W7; each workload as compiled and with products as kernels
    expect(rows.map((r) => r.workload)).toEqual(['W4', 'W4', 'W4', 'W4', 'W7', 'W7', 'W1', 'W1', 'W2', 'W2', 'W3', 'W3', 'W8', 'W8']);
    expect(rows[0]!.label).toBe('matmul 128² f32');
    for (const r of rows) {
      expect(Number.isFinite(r.value) && r.value > 0, `${r.workload} ${r.label}`).toBe(true);
      expect(printed).toContain(r.label);
      if (r.unit !== 'chars/s' || r.workload === 'W3') continue;
      expect(r.detail!['submissions per step'], `${r.workload} ${r.label}`).toBe(1);
      expect(r.detail!['dispatches per step']).toBeGreaterThan(0);
      expect(r.detail!['dispatches per step']).toBeLessThan(r.detail!['dispatches without layout folding'] as number);
    }
  }, 180_000);
});
