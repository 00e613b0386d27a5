/** The messages between the page and the training worker. */
import type { ComputeSettings, PlaygroundConfig } from './config.js';
import type { StepReport } from './trainer.js';

/** How samples are drawn. */
export interface SamplingSettings {
  readonly temperature: number;
  readonly topK: number;
}

/** Page → worker. */
export type ToWorker =
  | { readonly type: 'start'; readonly config: PlaygroundConfig; readonly compute: ComputeSettings; readonly text: string; readonly sampling: SamplingSettings }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  | { readonly type: 'sampling'; readonly sampling: SamplingSettings }
  | { readonly type: 'sample' }
  | { readonly type: 'check-cell'; readonly source: string }
  | { readonly type: 'download' }
  | { readonly type: 'upload'; readonly bytes: Uint8Array; readonly compute: ComputeSettings; readonly text: string; readonly sampling: SamplingSettings };

/** What the worker can compute on, found once when it starts. */
export interface Capabilities {
  /** Logical cores (navigator.hardwareConcurrency). */
  readonly cores: number;
  /** Whether threads can share memory (the page is cross-origin isolated). */
  readonly crossOriginIsolated: boolean;
  /** The most threads to offer (1 without shared memory). */
  readonly maxThreads: number;
  readonly defaultThreads: number;
  /** Why the threads are what they are, for the page. */
  readonly threadsNote: string;
  /** Whether navigator.gpu gave an adapter. */
  readonly gpu: boolean;
  /** The adapter in words, or why there is none. */
  readonly gpuNote: string;
  readonly defaultDevice: 'cpu' | 'webgpu';
}

/** Worker → page. */
export type FromWorker =
  | { readonly type: 'capabilities'; readonly capabilities: Capabilities }
  | { readonly type: 'compute'; readonly description: string }
  | { readonly type: 'status'; readonly state: 'ready' | 'training' | 'paused' | 'loaded' | 'error'; readonly message: string }
  | { readonly type: 'step'; readonly report: StepReport }
  | { readonly type: 'valid'; readonly chars: number; readonly bitsPerChar: number }
  | { readonly type: 'sample'; readonly text: string; readonly step: number }
  | { readonly type: 'cell-check'; readonly ok: boolean; readonly maxError: number; readonly message: string }
  | { readonly type: 'weights'; readonly bytes: Uint8Array; readonly step: number }
  | { readonly type: 'loaded'; readonly config: PlaygroundConfig; readonly step: number };
