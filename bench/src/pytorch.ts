/**
 * PyTorch beside tapestry in the same run: each PyTorch row is a child process (`python/torch_bench.py`)
 * holding one workload at one thread count, given the same initial weights and batch as tapestry through a
 * file of raw arrays. It times its own steps (`time.perf_counter` around each) and answers blocks of steps
 * over stdin/stdout, so the harness can alternate it with the in-process libraries. A row's thread count holds
 * for all of PyTorch, its BLAS's pool included (python/torch_threads.py). When `/usr/bin/python3` cannot import
 * torch, the PyTorch rows are left out and the run says why.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Runner } from './harness.js';

/** The Python the bench looks for torch in. */
export const DEFAULT_PYTHON = '/usr/bin/python3';

const SCRIPT = fileURLToPath(new URL('../python/torch_bench.py', import.meta.url));

/** Whether `python` imports torch: its version, or why not. */
export type PytorchAvailability = { readonly version: string } | { readonly missing: string };

/** Asks `python` for torch's version (once per run). */
export function pytorchAvailability(python = DEFAULT_PYTHON): PytorchAvailability {
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.error) return { missing: `${python} could not run (${probe.error.message})` };
  if (probe.status !== 0) {
    const last = probe.stderr.trim().split('\n').at(-1) ?? `exit code ${probe.status}`;
    return { missing: `${python} cannot import torch (${last})` };
  }
  return { version: probe.stdout.trim() };
}

/** A named array handed to the script, with its shape. */
export interface PytorchArray {
  readonly data: Float32Array | Int32Array;
  readonly shape: readonly number[];
}

/** What the script runs: see `make_workload` in python/torch_bench.py. */
export interface PytorchSpec {
  readonly workload: 'lstm' | 'gru' | 'custom-lstm' | 'char-rnn' | 'matmul';
  readonly mode?: 'train' | 'forward';
  readonly sizes?: Readonly<Record<string, number>>;
  readonly lr?: number;
  readonly clip?: number;
  readonly reps?: number;
  readonly sample?: readonly number[];
  readonly arrays: Readonly<Record<string, PytorchArray>>;
}

/** A PyTorch row's runner; `dispose` ends its process. */
export interface PytorchRunner extends Runner {
  dispose(): void;
}

/** The row name of PyTorch at `threads` threads. */
export const pytorchRowName = (threads: number): string => `pytorch (${threads} thread${threads === 1 ? '' : 's'})`;

/** Starts the script for `spec` at `threads` threads; resolves once it has built the model. */
export async function pytorchRunner(spec: PytorchSpec, threads: number, python = DEFAULT_PYTHON): Promise<PytorchRunner> {
  const dir = mkdtempSync(join(tmpdir(), 'tapestry-bench-torch-'));
  const layout: Record<string, [string, number, number, readonly number[]]> = {};
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, { data, shape }] of Object.entries(spec.arrays)) {
    layout[name] = [data instanceof Int32Array ? 'int32' : 'float32', offset, data.length, shape];
    chunks.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    offset += data.byteLength;
  }
  writeFileSync(join(dir, 'arrays.bin'), Buffer.concat(chunks));
  const { arrays: _arrays, ...rest } = spec;
  writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...rest, threads, arrays: join(dir, 'arrays.bin'), layout }));
  const child: ChildProcessWithoutNullStreams = spawn(python, [SCRIPT, join(dir, 'spec.json')], { stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const pending: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  let ended: Error | undefined;
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => pending.shift()?.resolve(line));
  child.on('close', (code) => {
    ended = new Error(`bench: the PyTorch process ended (code ${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    for (const p of pending.splice(0)) p.reject(ended);
    rmSync(dir, { recursive: true, force: true });
  });
  const nextLine = (): Promise<string> =>
    ended !== undefined ? Promise.reject(ended) : new Promise<string>((resolve, reject) => pending.push({ resolve, reject }));
  const ready = JSON.parse(await nextLine()) as { ready: boolean; threads: number; blasThreads: number | null };
  if (ready.threads !== threads) throw new Error(`bench: PyTorch runs ${ready.threads} threads, not ${threads}`);
  // OpenBLAS keeps a pool of its own (python/torch_threads.py): a row on more cores than it names is no comparison
  if (ready.blasThreads !== null && ready.blasThreads !== threads) {
    throw new Error(`bench: PyTorch's OpenBLAS runs ${ready.blasThreads} threads, not ${threads}`);
  }
  return {
    library: pytorchRowName(threads),
    activate: async () => {},
    run: async (steps) => {
      const reply = nextLine();
      child.stdin.write(`${JSON.stringify({ steps })}\n`);
      return JSON.parse(await reply) as { values: number[][]; times: number[] };
    },
    dispose: () => {
      if (ended === undefined) child.stdin.end(`${JSON.stringify({ quit: true })}\n`);
    },
  };
}
