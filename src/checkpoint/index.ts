export { PipelineCheckpoint, type PipelineCheckpointOptions, type SaveOptions } from './pipeline-checkpoint.js';
export { FORMAT_NAME, FORMAT_VERSION } from './step-file.js';
export { encodeState } from './state-encoder.js';
export { decodeState } from './state-decoder.js';
export { inspectDirectory, type DirectoryReport, type StepFileReport } from './inspect.js';
export { PosixStepStore } from './posix-step-store.js';
export type { PruneFailure, StepStore, StepStoreLock, StoredFile } from './step-store.js';
