/**
 * The training worker: owns the run and steps it while the page stays responsive. Between bursts of
 * steps it yields to its message queue, so pause, sampling settings and downloads take effect at once.
 */
import type { PlaygroundConfig } from './config.js';
import { checkCell } from './custom-cell.js';
import type { FromWorker, SamplingSettings, ToWorker } from './messages.js';
import { importWeights, Trainer } from './trainer.js';

// The worker's global scope, typed by hand: the project's lib is DOM, not WebWorker.
const scope = globalThis as unknown as {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};

/** Time spent stepping before yielding to messages. */
const BURST_MS = 100;
/** Wall time between a sample with a validation figure. */
const REPORT_MS = 1500;

let trainer: Trainer | undefined;
let running = false;
let sampling: SamplingSettings = { temperature: 0.8, topK: 0 };
let lastReport = 0;

const post = (message: FromWorker, transfer?: Transferable[]) => scope.postMessage(message, transfer);
const fail = (error: unknown) => {
  running = false;
  post({ type: 'status', state: 'error', message: error instanceof Error ? error.message : String(error) });
};

function sampleAndValidate(t: Trainer): void {
  post({ type: 'sample', text: t.sample({ length: 240, ...sampling, seed: 1 }), step: t.step });
  post({ type: 'valid', chars: t.chars, bitsPerChar: t.validate() });
}

async function loop(): Promise<void> {
  while (running && trainer !== undefined) {
    const t = trainer;
    const until = performance.now() + BURST_MS;
    try {
      do post({ type: 'step', report: t.trainStep() });
      while (performance.now() < until);
      if (performance.now() - lastReport > REPORT_MS) {
        sampleAndValidate(t);
        lastReport = performance.now();
      }
    } catch (error) {
      fail(error);
      return;
    }
    // let pause, download and settings messages in
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

function begin(next: Trainer, message: string): void {
  trainer = next;
  running = true;
  lastReport = performance.now();
  post({ type: 'status', state: 'training', message });
  void loop();
}

function describeRun(config: PlaygroundConfig, chars: number): string {
  return `training a ${config.numLayers}×${config.hiddenSize} ${config.cell === 'custom' ? 'custom cell' : config.cell.toUpperCase()} on ${chars.toLocaleString('en')} characters`;
}

scope.onmessage = (event) => {
  const message = event.data;
  try {
    switch (message.type) {
      case 'start':
        running = false;
        sampling = message.sampling;
        begin(Trainer.fromText(message.config, message.text), describeRun(message.config, message.text.length));
        break;
      case 'pause':
        running = false;
        if (trainer) {
          sampleAndValidate(trainer);
          post({ type: 'status', state: 'paused', message: `paused at step ${trainer.step}` });
        }
        break;
      case 'resume':
        if (trainer && !running) begin(trainer, describeRun(trainer.config, trainer.chars));
        break;
      case 'sampling':
        sampling = message.sampling;
        break;
      case 'sample':
        if (trainer) post({ type: 'sample', text: trainer.sample({ length: 240, ...sampling, seed: Date.now() % 1e6 }), step: trainer.step });
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
          const bytes = trainer.exportWeights();
          post({ type: 'weights', bytes, step: trainer.step }, [bytes.buffer as ArrayBuffer]);
        }
        break;
      case 'upload': {
        running = false;
        sampling = message.sampling;
        const loaded = importWeights(message.bytes);
        trainer = new Trainer(loaded.config, loaded.vocab, message.text, loaded.params);
        trainer.step = loaded.step;
        post({ type: 'loaded', config: loaded.config, step: loaded.step });
        post({ type: 'status', state: 'loaded', message: `loaded weights from step ${loaded.step}: resume to continue training (a fresh Adam state) or sample` });
        sampleAndValidate(trainer);
        break;
      }
    }
  } catch (error) {
    fail(error);
  }
};

post({ type: 'status', state: 'ready', message: 'ready' });
