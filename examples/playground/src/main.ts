/**
 * The page: controls, the live chart, samples, the cell editor and weights in and out. All training happens
 * in the worker; this thread only draws what the worker reports.
 */
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import mobyDick from 'virtual:moby-dick-excerpt';
import { DEFAULT_CONFIG, type ComputeSettings, type PlaygroundCell, type PlaygroundConfig } from './config.js';
import { DEFAULT_CELL_SOURCE } from './default-cell.js';
import type { Capabilities, FromWorker, SamplingSettings, ToWorker } from './messages.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`playground: the page has no #${id}`);
  return element as T;
};
const input = (id: string) => $<HTMLInputElement>(id);

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (message: ToWorker, transfer?: Transferable[]) => worker.postMessage(message, transfer ?? []);

// Environment: cross-origin isolation is what lets a page share memory between workers (multi-core).
$('environment').textContent =
  `${navigator.hardwareConcurrency} logical cores · ${globalThis.crossOriginIsolated ? 'cross-origin isolated (SharedArrayBuffer available)' : 'not cross-origin isolated'}`;
$('moby-size').textContent = mobyDick.length.toLocaleString('en');
$<HTMLTextAreaElement>('cell-source').value = DEFAULT_CELL_SOURCE;

// --- text: the excerpt, pasted text or a dropped file
const textArea = $<HTMLTextAreaElement>('text');
const useCustomText = () => {
  (document.querySelector('input[name=source][value=custom]') as HTMLInputElement).checked = true;
};
textArea.addEventListener('input', useCustomText);
const dataPanel = $('data');
dataPanel.addEventListener('dragover', (event) => {
  event.preventDefault();
  dataPanel.classList.add('drop');
});
dataPanel.addEventListener('dragleave', () => dataPanel.classList.remove('drop'));
dataPanel.addEventListener('drop', (event) => {
  event.preventDefault();
  dataPanel.classList.remove('drop');
  const file = event.dataTransfer?.files[0];
  if (file)
    void file.text().then((text) => {
      textArea.value = text;
      useCustomText();
    });
});
const trainingText = (): string => {
  const custom = (document.querySelector('input[name=source]:checked') as HTMLInputElement).value === 'custom';
  return custom ? textArea.value : mobyDick;
};

// --- controls
const numberOf = (id: string): number => Number(input(id).value);
const readConfig = (): PlaygroundConfig => {
  const cell = $<HTMLSelectElement>('cell').value as PlaygroundCell;
  return {
    ...DEFAULT_CONFIG,
    cell,
    hiddenSize: numberOf('hiddenSize'),
    numLayers: numberOf('numLayers'),
    embeddingDim: numberOf('embeddingDim'),
    seqLen: numberOf('seqLen'),
    batchSize: numberOf('batchSize'),
    lr: numberOf('lr'),
    dropout: numberOf('dropout'),
    clip: numberOf('clip'),
    seed: numberOf('seed'),
    ...(cell === 'custom' ? { cellSource: $<HTMLTextAreaElement>('cell-source').value } : {}),
  };
};
const showConfig = (config: PlaygroundConfig) => {
  $<HTMLSelectElement>('cell').value = config.cell;
  for (const name of ['hiddenSize', 'numLayers', 'embeddingDim', 'seqLen', 'batchSize', 'lr', 'dropout', 'clip', 'seed'] as const)
    input(name).value = String(config[name]);
  if (config.cellSource) $<HTMLTextAreaElement>('cell-source').value = config.cellSource;
};
// --- compute: the device switch and the threads, set from what the worker found
const deviceSelect = $<HTMLSelectElement>('device');
const showCompute = (capabilities: Capabilities) => {
  const webgpu = deviceSelect.querySelector<HTMLOptionElement>('option[value=webgpu]')!;
  webgpu.disabled = !capabilities.gpu;
  $('device-note').textContent = capabilities.gpu ? capabilities.gpuNote : `unavailable: ${capabilities.gpuNote}`;
  $('device-note').dataset.available = String(capabilities.gpu);
  deviceSelect.value = capabilities.defaultDevice;
  input('threads').max = String(capabilities.maxThreads);
  input('threads').value = String(capabilities.defaultThreads);
  $('threads-note').textContent = capabilities.threadsNote;
  $('threads-note').dataset.isolated = String(capabilities.crossOriginIsolated);
  $('environment').textContent =
    `${capabilities.cores} logical cores · ${capabilities.crossOriginIsolated ? 'cross-origin isolated (SharedArrayBuffer available)' : 'not cross-origin isolated'} · WebGPU: ${capabilities.gpuNote}`;
  maxThreads = capabilities.maxThreads;
  threadsEnabled();
};
let maxThreads = 1;
// threads are the CPU's: on WebGPU, or without shared memory, there is one
const threadsEnabled = () => {
  input('threads').disabled = deviceSelect.value !== 'cpu' || maxThreads === 1;
};
deviceSelect.addEventListener('change', threadsEnabled);
const readCompute = (): ComputeSettings => ({ device: deviceSelect.value as ComputeSettings['device'], threads: Math.floor(numberOf('threads')) });
const readSampling = (): SamplingSettings => ({ temperature: numberOf('temperature'), topK: Math.max(0, Math.floor(numberOf('topK'))) });
const samplingChanged = () => {
  $('temperature-value').textContent = input('temperature').value;
  send({ type: 'sampling', sampling: readSampling() });
};
input('temperature').addEventListener('input', samplingChanged);
input('topK').addEventListener('change', samplingChanged);
$('sample-now').addEventListener('click', () => send({ type: 'sample' }));

// --- the chart: bits per character against characters seen
const chart = new Chart($<HTMLCanvasElement>('chart'), {
  type: 'line',
  data: {
    datasets: [
      { label: 'training (bits/char)', data: [], borderColor: '#2563eb', backgroundColor: '#2563eb', pointRadius: 0, borderWidth: 1.5 },
      { label: 'validation (bits/char)', data: [], borderColor: '#dc2626', backgroundColor: '#dc2626', pointRadius: 2, borderWidth: 2 },
    ],
  },
  options: {
    animation: false,
    maintainAspectRatio: false,
    parsing: false,
    scales: {
      x: { type: 'linear', title: { display: true, text: 'characters trained on' } },
      y: { type: 'linear', title: { display: true, text: 'bits per character' } },
    },
  },
});
let pendingDraw = false;
const redraw = () => {
  if (pendingDraw) return;
  pendingDraw = true;
  requestAnimationFrame(() => {
    pendingDraw = false;
    chart.update('none');
  });
};
const points = (index: number) => chart.data.datasets[index]!.data as { x: number; y: number }[];

// --- buttons
const setButtons = (state: 'idle' | 'training' | 'paused') => {
  $<HTMLButtonElement>('pause').disabled = state !== 'training';
  $<HTMLButtonElement>('resume').disabled = state !== 'paused';
  $<HTMLButtonElement>('download').disabled = state === 'idle';
};
$('start').addEventListener('click', () => {
  for (const index of [0, 1]) points(index).length = 0;
  chart.update('none');
  $('sample').textContent = '';
  $('steps').textContent = '0';
  for (const id of ['loss', 'valid', 'cps']) $(id).textContent = '–';
  delete $('loss').dataset.first;
  $('compute').textContent = '–';
  send({ type: 'start', config: readConfig(), compute: readCompute(), text: trainingText(), sampling: readSampling() });
});
$('pause').addEventListener('click', () => send({ type: 'pause' }));
$('resume').addEventListener('click', () => send({ type: 'resume' }));
$('download').addEventListener('click', () => send({ type: 'download' }));
input('upload').addEventListener('change', async () => {
  const file = input('upload').files?.[0];
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  input('upload').value = '';
  send({ type: 'upload', bytes, compute: readCompute(), text: trainingText(), sampling: readSampling() }, [bytes.buffer]);
});
$('check-cell').addEventListener('click', () => {
  $('cell-check').textContent = 'checking…';
  send({ type: 'check-cell', source: $<HTMLTextAreaElement>('cell-source').value });
});

// --- what the worker says
worker.addEventListener('message', (event: MessageEvent<FromWorker>) => {
  const message = event.data;
  switch (message.type) {
    case 'capabilities':
      showCompute(message.capabilities);
      break;
    case 'compute':
      $('compute').textContent = message.description;
      break;
    case 'status':
      $('status').textContent = message.message;
      $('status').dataset.state = message.state;
      if (message.state === 'error') console.warn(`playground: ${message.message}`);
      setButtons(
        message.state === 'training'
          ? 'training'
          : message.state === 'paused' || message.state === 'loaded'
            ? 'paused'
            : message.state === 'error' && $('steps').textContent !== '0'
              ? 'paused'
              : 'idle',
      );
      break;
    case 'step': {
      const { step, bitsPerChar, chars, charsPerSecond } = message.report;
      $('steps').textContent = String(step);
      $('loss').textContent = bitsPerChar.toFixed(3);
      // the run's first loss stays readable, so "did it fall?" can be answered without racing the worker
      if (points(0).length === 0) $('loss').dataset.first = bitsPerChar.toFixed(3);
      $('cps').textContent = Math.round(charsPerSecond).toLocaleString('en');
      points(0).push({ x: chars, y: bitsPerChar });
      redraw();
      break;
    }
    case 'valid':
      if (Number.isFinite(message.bitsPerChar)) {
        $('valid').textContent = message.bitsPerChar.toFixed(3);
        points(1).push({ x: message.chars, y: message.bitsPerChar });
        redraw();
      }
      break;
    case 'sample':
      $('sample').textContent = message.text;
      $('sample').dataset.step = String(message.step);
      break;
    case 'cell-check':
      $('cell-check').textContent = message.ok
        ? `gradients match finite differences (largest error ${message.maxError.toExponential(1)}): ok`
        : `gradient check failed: ${message.message}`;
      $('cell-check').dataset.ok = String(message.ok);
      break;
    case 'weights': {
      const url = URL.createObjectURL(new Blob([message.bytes as BlobPart], { type: 'application/octet-stream' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = `playground-step-${message.step}.safetensors`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      break;
    }
    case 'loaded':
      showConfig(message.config);
      $('steps').textContent = String(message.step);
      break;
  }
});
worker.addEventListener('error', (event) => {
  $('status').textContent = `the worker failed: ${event.message}`;
  $('status').dataset.state = 'error';
});
