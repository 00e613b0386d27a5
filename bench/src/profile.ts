/**
 * Where tapestry's time goes in W1: profiles `--steps` training steps of the W1 model (after two warm-up
 * steps) with V8's sampling profiler through `node:inspector`, then prints self time by function and by
 * source file, and writes the raw profile to bench/results/w1.cpuprofile (open it in Chrome DevTools).
 * Run with `pnpm --filter @tapestry/bench run profile [--steps N] [--cell lstm|gru|custom-lstm] [--jit] [--relaxed-simd]`;
 * `--jit` profiles the whole step compiled with core's `jit`, as the bench's `tapestry (jit)` row runs it;
 * `--relaxed-simd` turns on V8's relaxed SIMD (on by default from Node 22 and in Chrome, behind a flag in Node
 * 20), so that core's GEMM runs its fused multiply-add build; `--forward` profiles the forward pass alone (the
 * loss, as W3 runs it) instead of training steps.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session, type Profiler } from 'node:inspector';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { wasmGemmVariant } from '../../packages/core/src/kernels/wasm/gemm-wasm.js';
import { initialWeights, makeBatch } from './data.js';
import { FULL_SIZES } from './sizes.js';
import { tapestryModel, type TapestryCell } from './tapestry-model.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '5' },
    cell: { type: 'string', default: 'lstm' },
    jit: { type: 'boolean', default: false },
    'relaxed-simd': { type: 'boolean', default: false },
    forward: { type: 'boolean', default: false },
  },
});
// before the first product, which is when core validates (and so picks) its GEMM module
if (values['relaxed-simd']) setFlagsFromString('--experimental-wasm-relaxed-simd');
const steps = Number(values.steps);
const cell = values.cell as TapestryCell;
if (!['lstm', 'gru', 'custom-lstm'].includes(cell)) throw new Error(`profile: --cell must be lstm, gru or custom-lstm, got ${cell}`);

const model = tapestryModel(cell, initialWeights(cell === 'gru' ? 'gru' : 'lstm', FULL_SIZES), makeBatch(FULL_SIZES), FULL_SIZES, { jit: values.jit });
const step = values.forward ? (): number => model.forward() : (): number => model.train();
step();
step();

const session = new Session();
session.connect();
const post = <T>(method: string, params?: object): Promise<T> =>
  new Promise((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as T))));
await post('Profiler.enable');
await post('Profiler.setSamplingInterval', { interval: 200 });
await post('Profiler.start');
const started = performance.now();
for (let i = 0; i < steps; i++) step();
const elapsed = performance.now() - started;
const { profile } = await post<{ profile: Profiler.Profile }>('Profiler.stop');
session.disconnect();

// self time of each node: the time deltas of the samples that landed in it
const self = new Map<number, number>();
profile.samples!.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + profile.timeDeltas![i]! / 1000));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
const shortUrl = (url: string): string =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/work\/main\//, '')
    .replace(/^.*node_modules\//, 'node_modules/') || '(native / V8)';
for (const node of profile.nodes) {
  const ms = self.get(node.id) ?? 0;
  if (ms === 0) continue;
  const { functionName, url } = node.callFrame;
  const file = shortUrl(url);
  // no line numbers: tsx's transpiled positions do not match the TypeScript source
  const fn = `${functionName || '(anonymous)'}  ${file}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  byFile.set(file, (byFile.get(file) ?? 0) + ms);
}
const top = (map: Map<string, number>, n: number): string[] =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => `${((100 * ms) / total).toFixed(1).padStart(5)}%  ${(ms / steps).toFixed(1).padStart(7)} ms/step  ${name}`);

console.log(
  `W1 (${cell}${values.jit ? ', jit' : ''}${values['relaxed-simd'] ? ', relaxed SIMD' : ''}) tapestry: ${steps} ${values.forward ? 'forward passes' : 'training steps'} in ${elapsed.toFixed(0)} ms = ${(elapsed / steps).toFixed(1)} ms/step; sampled ${total.toFixed(0)} ms`,
);
console.log(`WebAssembly GEMM build: ${wasmGemmVariant()}`);
console.log('\nself time by source file:');
console.log(top(byFile, 15).join('\n'));
console.log('\nself time by function:');
console.log(top(byFunction, 25).join('\n'));
const dir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}w1.cpuprofile`, JSON.stringify(profile));
console.log(`\nraw profile: ${dir}w1.cpuprofile`);
