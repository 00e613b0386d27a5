/**
 * The training worker: owns the run and steps it while the page stays responsive. Between bursts of
 * steps it yields to its message queue, so pause, sampling settings and downloads take effect at once.
 * It is thread 0 of a CPU run (the pool's other threads are Web Workers it starts), and where a WebGPU run
 * opens its device.
 */
import { webgpuDevice, type WebGpuBackend } from '@tapestry/webgpu';
import { probeCapabilities } from './capabilities.js';
import type { ComputeSettings, PlaygroundConfig } from './config.js';
import { checkCell } from './custom-cell.js';
import type { FromWorker, SamplingSettings, ToWorker } from './messages.js';
import { importWeights, Trainer, type Compute } from './trainer.js';

// The worker's global scope, typed by hand: the project's lib is DOM, not WebWorker.
const scope = globalThis as unknown as {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  navigator: Navigator & { gpu?: GPU };
  crossOriginIsolated?: boolean;
};

/** Time spent stepping before yielding to messages. */
const BURST_MS = 100;
/** Wall time between a sample with a validation figure. */
const REPORT_MS = 1500;

let trainer: Trainer | undefined;
/** Bumped by every start, upload and pause: a loop, or a run being built, whose number is old stops. */
let generation = 0;
let sampling: SamplingSettings = { temperature: 0.8, topK: 0 };
let lastReport = 0;
let gpu: Promise<{ backend: WebGpuBackend; adapter: string }> | undefined;
let gpuName = '';

const post = (message: FromWorker, transfer?: Transferable[]) => scope.postMessage(message, transfer);
const fail = (error: unknown) => {
  generation++;
  post({ type: 'status', state: 'error', message: error instanceof Error ? error.message : String(error) });
};

/** The GPU, opened on the first WebGPU run and kept for the worker's life. */
function openGpu(): Promise<{ backend: WebGpuBackend; adapter: string }> {
  const api = scope.navigator.gpu;
  if (api === undefined) return Promise.reject(new Error('playground: this browser has no WebGPU; train on the CPU'));
  gpu ??= webgpuDevice({ gpu: api }).then(
    (backend) => ({ backend, adapter: gpuName }),
    (error: unknown) => {
      gpu = undefined; // the next WebGPU run asks again
      throw error;
    },
  );
  return gpu;
}

async function computeFor(settings: ComputeSettings): Promise<Compute> {
  if (settings.device === 'webgpu') return { device: 'webgpu', ...(await openGpu()) };
  return { device: 'cpu', threads: settings.threads, loadPool };
}

/**
 * The pool's parts, loaded on a run's first use of several threads (only a cross-origin-isolated page has the
 * shared memory they need). Imported dynamically, the replica's module is a chunk of its own that keeps its
 * exports, and its import.meta.url is what the pool's threads import.
 */
async function loadPool() {
  const [{ dataParallel }, { playgroundReplica }] = await Promise.all([import('@tapestry/parallel/browser'), import('./replica-entry.js')]);
  return { dataParallel, replica: playgroundReplica };
}

async function sampleAndValidate(t: Trainer): Promise<void> {
  post({ type: 'sample', text: await t.sample({ length: 240, ...sampling, seed: 1 }), step: t.step });
  post({ type: 'valid', chars: t.chars, bitsPerChar: await t.validate() });
}

/** Steps `t` until the generation changes; on a device, keeps `t.depth` steps in flight. */
async function loop(t: Trainer, run: number): Promise<void> {
  const live = () => run === generation;
  try {
    while (live()) {
      const until = performance.now() + BURST_MS;
      const inFlight: Promise<unknown>[] = [];
      // a step submitted before a pause still reports: the page's count then matches the paused run's
      const report = (p: Promise<Awaited<ReturnType<Trainer['trainStep']>>>) => p.then((r) => trainer === t && post({ type: 'step', report: r }));
      while (live() && performance.now() < until) {
        inFlight.push(report(t.trainStep()));
        if (inFlight.length >= t.depth) await inFlight.shift();
      }
      for (const p of inFlight) await p;
      if (live() && performance.now() - lastReport > REPORT_MS) {
        await sampleAndValidate(t);
        lastReport = performance.now();
      }
      // let pause, download and settings messages in
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  } catch (error) {
    if (live()) fail(error);
  }
}

function begin(next: Trainer, run: number, message: string): void {
  if (run !== generation) return;
  trainer = next;
  lastReport = performance.now();
  post({ type: 'compute', description: next.device });
  post({ type: 'status', state: 'training', message });
  void loop(next, run);
}

/** Replaces the run: the old one's loop stops at its next step and its threads end. */
async function replace(
  build: (compute: Compute) => Promise<Trainer>,
  settings: ComputeSettings,
  then: (t: Trainer, run: number) => Promise<void> | void,
): Promise<void> {
  const run = ++generation;
  const old = trainer;
  trainer = undefined;
  old?.close();
  const next = await build(await computeFor(settings));
  if (run !== generation) {
    next.close();
    return;
  }
  trainer = next;
  await then(next, run);
}

function describeRun(config: PlaygroundConfig, chars: number): string {
  return `training a ${config.numLayers}×${config.hiddenSize} ${config.cell === 'custom' ? 'custom cell' : config.cell.toUpperCase()} on ${chars.toLocaleString('en')} characters`;
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'start':
      sampling = message.sampling;
      post({ type: 'status', state: 'ready', message: 'starting…' });
      await replace(
        (compute) => Trainer.fromText(message.config, message.text, compute),
        message.compute,
        (t, run) => begin(t, run, describeRun(message.config, message.text.length)),
      );
      break;
    case 'pause': {
      generation++;
      const t = trainer;
      if (t) {
        await sampleAndValidate(t);
        post({ type: 'status', state: 'paused', message: `paused at step ${t.step}` });
      }
      break;
    }
    case 'resume':
      if (trainer) begin(trainer, ++generation, describeRun(trainer.config, trainer.chars));
      break;
    case 'sampling':
      sampling = message.sampling;
      break;
    case 'sample':
      if (trainer) post({ type: 'sample', text: await trainer.sample({ length: 240, ...sampling, seed: Date.now() % 1e6 }), step: trainer.step });
      break;
    case 'check-cell': {
      // a broken cell is the editor's news, not the run's: training goes on
      try {
        const result = checkCell(message.source);
        post({ type: 'cell-check', ok: result.ok, maxError: result.maxError, message: result.message });
      } catch (error) {
        post({ type: 'cell-check', ok: false, maxError: NaN, message: (error as Error).message });
      }
      break;
    }
    case 'download':
      if (trainer) {
        const step = trainer.step;
        const bytes = await trainer.exportWeights();
        post({ type: 'weights', bytes, step }, [bytes.buffer as ArrayBuffer]);
      }
      break;
    case 'upload': {
      sampling = message.sampling;
      const loaded = importWeights(message.bytes);
      await replace(
        (compute) => Trainer.create(loaded.config, loaded.vocab, message.text, compute, { params: loaded.params, step: loaded.step }),
        message.compute,
        async (t) => {
          post({ type: 'loaded', config: loaded.config, step: loaded.step });
          post({ type: 'compute', description: t.device });
          post({
            type: 'status',
            state: 'loaded',
            message: `loaded weights from step ${loaded.step}: resume to continue training (a fresh Adam state) or sample`,
          });
          await sampleAndValidate(t);
        },
      );
      break;
    }
  }
}

scope.onmessage = (event) => {
  handle(event.data).catch(fail);
};

void probeCapabilities(scope).then((capabilities) => {
  gpuName = capabilities.gpuNote;
  post({ type: 'capabilities', capabilities });
  post({ type: 'status', state: 'ready', message: 'ready' });
});
