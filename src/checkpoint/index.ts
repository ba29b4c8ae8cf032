export { PipelineCheckpoint, type PipelineCheckpointOptions, type SaveOptions } from './pipeline-checkpoint.js';
export { FORMAT_NAME, FORMAT_VERSION } from './step-file.js';
export { decodeState, encodeState } from './state-codec.js';
