/**
 * W6: the memory of an LSTM training step at a short and a long sequence. Each (library, T) pair runs in a
 * fresh Node process (see `memory-child.ts`), so its peak resident set is its own and not the high-water
 * mark of whatever ran before; the smoke test measures in process instead.
 *
 * Three figures per pair: the RSS before the first step, the peak RSS of the process (`maxRSS`, which
 * includes loading the library), and the JavaScript heap plus array buffers sampled at the end of the
 * forward pass, when every saved activation of the step is alive (tapestry's tensors and TensorFlow.js's
 * cpu tensors live in array buffers; the wasm backend's in its WebAssembly memory, which RSS shows).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { initialWeights, makeBatch } from './data.js';
import type { BenchSizes } from './sizes.js';
import { tapestryModel } from './tapestry-model.js';
import type { Library } from './workloads.js';

/** The libraries W6 measures: every one but `tapestry-jit` (the probe sits in the eager forward pass) and `pytorch` (another process). */
export type MemoryLibrary = Exclude<Library, 'tapestry-jit' | 'pytorch'>;

/** What W6 measured for one library at one sequence length. */
export interface MemoryMeasurement {
  readonly library: MemoryLibrary;
  /** Time steps T of the training step. */
  readonly steps: number;
  /** Loss of the first training step (compared across libraries). */
  readonly loss: number;
  /** Process RSS after building the model, before the first step, in MB. */
  readonly rssBeforeMB: number;
  /** Peak RSS of the process (`process.resourceUsage().maxRSS`), in MB. */
  readonly peakRssMB: number;
  /** Largest heapUsed + arrayBuffers seen at the end of a forward pass, in MB. */
  readonly forwardLiveMB: number;
  /** Whether the figures come from a process of their own. */
  readonly isolated: boolean;
}

const MB = 1024 * 1024;

/** Builds the W6 model of `library` and runs `trainSteps` training steps at `steps` time steps, in this process. */
export async function measureMemory(library: MemoryLibrary, sizes: BenchSizes, steps: number, trainSteps = 2, isolated = false): Promise<MemoryMeasurement> {
  const weights = initialWeights('lstm', sizes);
  const batch = makeBatch(sizes, steps);
  let forwardLive = 0;
  const probe = (): void => {
    const usage = process.memoryUsage();
    forwardLive = Math.max(forwardLive, usage.heapUsed + usage.arrayBuffers);
  };
  let train: () => number;
  let dispose = (): void => {};
  if (library === 'tapestry') {
    train = tapestryModel('lstm', weights, batch, sizes, { steps, probe }).train;
  } else {
    // loaded only here, so a tapestry process never pays for TensorFlow.js
    const { useBackend } = await import('./tfjs-backends.js');
    const { tfjsModel } = await import('./tfjs-model.js');
    await useBackend(library === 'tfjs-cpu' ? 'cpu' : 'wasm');
    const model = tfjsModel(weights, batch, sizes, steps, probe);
    train = model.train;
    dispose = model.dispose;
  }
  const rssBefore = process.memoryUsage.rss();
  const loss = train();
  for (let i = 1; i < trainSteps; i++) train();
  dispose();
  return {
    library,
    steps,
    loss,
    rssBeforeMB: rssBefore / MB,
    // maxRSS is in kilobytes
    peakRssMB: (process.resourceUsage().maxRSS * 1024) / MB,
    forwardLiveMB: forwardLive / MB,
    isolated,
  };
}

const run = promisify(execFile);

/**
 * {@link measureMemory} in a fresh Node process. The child loads TypeScript through tsx, started in the bench
 * folder so that tsx finds the workspace's tsconfig and runs the packages' sources, as the parent does.
 */
export async function measureMemoryIsolated(library: MemoryLibrary, sizes: BenchSizes, steps: number, trainSteps = 2): Promise<MemoryMeasurement> {
  const child = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, JSON.stringify({ library, sizes, steps, trainSteps })], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    maxBuffer: 16 * MB,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`bench: the W6 child for ${library} at T=${steps} printed no result:\n${stdout}`);
  return JSON.parse(line.slice('RESULT '.length)) as MemoryMeasurement;
}
