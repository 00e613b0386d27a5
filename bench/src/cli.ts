/**
 * `pnpm --filter @tapestry/bench run bench [--quick] [--workloads W1,W4,W7] [--libraries tapestry,tfjs-wasm,pytorch]
 * [--steps N] [--warmup N]`: runs the workloads, prints the table and writes bench/results/<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { enableRelaxedSimd } from '@tapestry/example-common/relaxed-simd';
import { runBench } from './run.js';
import { FULL_SIZES, SMOKE_SIZES } from './sizes.js';
import { formatTable } from './table.js';
import { LIBRARIES, WORKLOADS, type Library, type WorkloadId } from './workloads.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    workloads: { type: 'string' },
    libraries: { type: 'string' },
    steps: { type: 'string' },
    warmup: { type: 'string' },
    'plain-simd': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`usage: bench [--quick] [--smoke] [--workloads W1,W2,…] [--libraries ${LIBRARIES.join(',')}] [--steps N] [--warmup N]
  --quick      5 timed steps after 2 warm-up steps (default: 15 after 3)
  --smoke      tiny sizes: checks that everything runs, times nothing meaningful
  --workloads  a subset of ${WORKLOADS.join(',')}
  --libraries  a subset of ${LIBRARIES.join(',')} (tapestry, when given, is the reference;
               pytorch runs /usr/bin/python3 with torch at 1 and 2 threads, and is skipped, saying so, without it)
  --plain-simd core's GEMM without relaxed SIMD's fused multiply-add (by default the bench turns relaxed SIMD
               on, as Chrome and Node 21+ have it; Node 20 keeps it behind a flag)`);
  process.exit(0);
}

function list<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = items.filter((s) => !allowed.includes(s as T));
  if (bad.length > 0) throw new Error(`bench: unknown ${name} ${bad.join(', ')}; choose from ${allowed.join(', ')}`);
  return allowed.filter((a) => items.includes(a));
}

function count(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`bench: --${name} must be an integer ≥ ${min}, got ${value}`);
  return n;
}

// before the first product: core picks its GEMM build then (the table names the build that ran)
if (!values['plain-simd']) enableRelaxedSimd();

const mode = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full';
const result = await runBench({
  mode,
  sizes: values.smoke ? SMOKE_SIZES : FULL_SIZES,
  warmup: count('warmup', values.warmup, mode === 'full' ? 3 : 2, 2),
  steps: count('steps', values.steps, mode === 'full' ? 15 : mode === 'quick' ? 5 : 3, 1),
  workloads: list<WorkloadId>('workloads', values.workloads, WORKLOADS),
  libraries: list<Library>('libraries', values.libraries, LIBRARIES),
  log: (line) => console.error(line),
});

const dir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const file = `${dir}${result.date.replace(/[:.]/g, '-')}.json`;
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(formatTable(result));
console.log(`results written to ${file}`);
if (result.workloads.some((w) => w.error || w.cases.some((c) => !c.agree))) process.exitCode = 1;
