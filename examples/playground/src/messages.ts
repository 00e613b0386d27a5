/** The messages between the page and the training worker. */
import type { PlaygroundConfig } from './config.js';
import type { StepReport } from './trainer.js';

/** How samples are drawn. */
export interface SamplingSettings {
  readonly temperature: number;
  readonly topK: number;
}

/** Page → worker. */
export type ToWorker =
  | { readonly type: 'start'; readonly config: PlaygroundConfig; readonly text: string; readonly sampling: SamplingSettings }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  | { readonly type: 'sampling'; readonly sampling: SamplingSettings }
  | { readonly type: 'sample' }
  | { readonly type: 'check-cell'; readonly source: string }
  | { readonly type: 'download' }
  | { readonly type: 'upload'; readonly bytes: Uint8Array; readonly text: string; readonly sampling: SamplingSettings };

/** Worker → page. */
export type FromWorker =
  | { readonly type: 'status'; readonly state: 'ready' | 'training' | 'paused' | 'loaded' | 'error'; readonly message: string }
  | { readonly type: 'step'; readonly report: StepReport }
  | { readonly type: 'valid'; readonly chars: number; readonly bitsPerChar: number }
  | { readonly type: 'sample'; readonly text: string; readonly step: number }
  | { readonly type: 'cell-check'; readonly ok: boolean; readonly maxError: number; readonly message: string }
  | { readonly type: 'weights'; readonly bytes: Uint8Array; readonly step: number }
  | { readonly type: 'loaded'; readonly config: PlaygroundConfig; readonly step: number };
