export * as random from './random/index.js';
export type { Key } from './random/index.js';
export { gather, type TypedArray } from './loader/gather.js';
export { hugePageBuffer } from './loader/huge-page-buffer.js';
export { CheckpointableIterator } from './iterator/checkpointable-iterator.js';
export type { Checkpointable, State } from './iterator/state.js';
export * from './checkpoint/index.js';
export * from './errors.js';
