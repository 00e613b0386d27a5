export { integer, positive, nonNegative, finite, fraction } from './cli-options.js';
export { vegaLiteSvg, type TopLevelSpec } from './vega-svg.js';
export { runCli, handleCliErrors, reportError, describeError, verboseRequested, UsageError } from './cli-errors.js';
export { writeCheckpoint, openCheckpoint, newStamp, stampMetadata, CheckpointError } from './checkpoints.js';
export type { CheckpointFs, CheckpointStamp, OpenCheckpoint, WriteCheckpointOptions } from './checkpoints.js';
export { resumeConfig } from './resume-options.js';
export type { ResumeOption, ResumedConfig } from './resume-options.js';
