// DataLoader options: defaults, and checks whose errors name the option.
import { native } from '../native.js';
import { boolean, describe, integer, plainObject } from '../validate.js';
import type { MapContext } from './batch.js';
import { type MapSpec, type ModuleUrl, resolveMap, type WorkerResourceLimits } from '../transforms/map-spec.js';
import { argumentRangeError, argumentTypeError } from '../error-codes.js';
import { cudaAddon } from '../cuda/cuda-addon.js';
import { shardFromEnv } from './shard-from-env.js';

export interface DataLoaderOptions<B = unknown, T = B> {
  /** Records per batch (per shard). Required. */
  batchSize: number;
  /** Visit records in a keyed random order, new every epoch (default true). */
  shuffle?: boolean;
  /** Seeds the order and the map keys: an integer in [0, 2^53) or a bigint in [0, 2^64) (default 0). */
  seed?: number | bigint;
  /** Epochs to run; Infinity never ends (default 1). */
  numEpochs?: number;
  /** Drop each epoch's last round (one batch per shard) if it is short, so every batch is full (default false). */
  dropRemainder?: boolean;
  /** This process's shard, in [0, shardCount) (default 0). */
  shardIndex?: number;
  /** The number of shards splitting each round of shardCount × batchSize records (default 1). */
  shardCount?: number;
  /** 'env': shardIndex and shardCount from the launcher's environment (shardFromEnv()); not with shardIndex/shardCount. */
  shard?: 'env';
  /**
   * Batches assembled ahead on C++ threads (default 2; 0 assembles on demand).
   * Small batches are kept at least 64 KiB ahead, so the threads fill many per
   * wake-up, and large ones at most 1 GiB ahead; with 0, batches of up to
   * 64 KiB are assembled on the calling thread.
   */
  prefetch?: number;
  /**
   * Transforms each batch, with a key for reproducible randomness: a function
   * (which may return a Promise: then iterate with nextAsync() or for await),
   * or a module (a path or a URL) whose default export `(batch, ctx) => result`
   * runs on `workers` worker threads. See README, "Transforms".
   */
  map?: ((batch: B, ctx: MapContext) => T | Promise<T>) | string | ModuleUrl;
  /**
   * Batches whose map runs at once, ahead of the consumer; delivered in order
   * (default 1 for a function, 2 × workers for a module; at most 4096).
   */
  concurrency?: number;
  /** Worker threads of a module map; 0 runs it on the main thread (default os.availableParallelism() − 1, at least 1). */
  workers?: number;
  /** Each map worker's memory limits (Node's Worker resourceLimits); a worker past them is replaced. */
  resourceLimits?: WorkerResourceLimits;
  /**
   * 'cuda': each batch's columns are DeviceArrays in GPU memory (README, "CUDA"); order, state and
   * resume are unchanged. CudaUnavailableError (RP_CUDA_UNAVAILABLE) where CUDA cannot run. Default 'cpu'.
   */
  device?: 'cpu' | 'cuda';
  /**
   * With device 'cuda': true keeps the source's columns in device memory and gathers each batch
   * there; false copies each CPU-gathered batch to the device. Default: true when every column can
   * be cached (fixed or plain ragged) and they fit in half the device's memory.
   */
  cacheOnDevice?: boolean;
}

export interface ResolvedOptions {
  readonly batchSize: number;
  readonly shuffle: boolean;
  /** As it appears in the state: a number when it is a safe integer, else a bigint. */
  readonly seed: number | bigint;
  readonly numEpochs: number;
  readonly dropRemainder: boolean;
  readonly shardIndex: number;
  readonly shardCount: number;
  readonly prefetch: number;
  readonly map: MapSpec | undefined;
  /** Batches whose map may run at once (transforms/map-spec.ts owns the defaults). */
  readonly concurrency: number;
  readonly device: 'cpu' | 'cuda';
  /** Undefined: the device path chooses (src/cuda/device-batches.ts). */
  readonly cacheOnDevice: boolean | undefined;
}

const KNOWN = ['batchSize', 'shuffle', 'seed', 'numEpochs', 'dropRemainder', 'shardIndex', 'shardCount', 'shard', 'prefetch', 'map', 'concurrency', 'workers', 'resourceLimits', 'device', 'cacheOnDevice'];

function epochCount(value: unknown): number {
  if (typeof value !== 'number') throw argumentTypeError(`options.numEpochs must be a number, got ${describe(value)}`);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw argumentRangeError(`options.numEpochs must be a positive integer or Infinity, got ${value}`);
  }
  return value;
}

/** The seed as a state value: a number if it is a safe integer, else a bigint. */
export function normalizeSeed(value: unknown, name: string): number | bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw argumentRangeError(`${name} must be a non-negative safe integer or a bigint, got ${value}`);
    }
    return value;
  }
  if (typeof value === 'bigint') {
    if (value < 0n || value >= 2n ** 64n) throw argumentRangeError(`${name} must be in [0, 2^64), got ${value}`);
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
  throw argumentTypeError(`${name} must be a number or a bigint, got ${describe(value)}`);
}

/** shardIndex/shardCount as given, or from the environment with shard: 'env' (then errors name the variables). */
function shardOptions(o: Record<string, unknown>): { shardIndex: unknown; shardCount: unknown; indexName: string; countName: string } {
  if (o.shard === undefined) return { shardIndex: o.shardIndex, shardCount: o.shardCount, indexName: 'options.shardIndex', countName: 'options.shardCount' };
  if (o.shard !== 'env') throw argumentTypeError(`options.shard must be 'env', got ${describe(o.shard)}`);
  if (o.shardIndex !== undefined || o.shardCount !== undefined) {
    throw argumentTypeError("options.shard: 'env' cannot be combined with options.shardIndex or options.shardCount");
  }
  const env = shardFromEnv();
  const from = `the shard from the environment (${env.source})`;
  return { shardIndex: env.shardIndex, shardCount: env.shardCount, indexName: `${from}: shardIndex`, countName: `${from}: shardCount` };
}

export function resolveOptions(options: unknown, n: number): ResolvedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw argumentTypeError(`options must be an object with at least batchSize, got ${describe(options)}`);
  }
  const o = plainObject(options, 'options', KNOWN, 'a DataLoader option');
  if (o.batchSize === undefined) throw argumentTypeError('options.batchSize is required');
  const limits = native().limits; // owned by the core
  const batchSize = integer(o.batchSize, 'options.batchSize', 1, limits.maxBatchSize);
  const shuffle = boolean(o.shuffle, 'options.shuffle', true);
  const seed = o.seed === undefined ? 0 : normalizeSeed(o.seed, 'options.seed');
  const numEpochs = o.numEpochs === undefined ? 1 : o.numEpochs === Infinity ? Infinity : epochCount(o.numEpochs);
  const dropRemainder = boolean(o.dropRemainder, 'options.dropRemainder', false);
  const shard = shardOptions(o);
  const shardCount = shard.shardCount === undefined ? 1 : integer(shard.shardCount, shard.countName, 1, limits.maxShards);
  const shardIndex = shard.shardIndex === undefined ? 0 : integer(shard.shardIndex, shard.indexName, 0, shardCount - 1);
  const prefetch = o.prefetch === undefined ? 2 : integer(o.prefetch, 'options.prefetch', 0, limits.maxPrefetch);
  const { map, concurrency } = resolveMap(o.map, o.concurrency, o.workers, o.resourceLimits);
  const device = o.device ?? 'cpu';
  if (device !== 'cpu' && device !== 'cuda') throw argumentTypeError(`options.device must be 'cpu' or 'cuda', got ${describe(o.device)}`);
  const cacheOnDevice = o.cacheOnDevice === undefined ? undefined : boolean(o.cacheOnDevice, 'options.cacheOnDevice', false);
  if (cacheOnDevice !== undefined && device !== 'cuda') {
    throw argumentRangeError("options.cacheOnDevice needs options.device 'cuda'");
  }
  if (device === 'cuda' && map?.kind === 'module') {
    throw argumentRangeError("options.device 'cuda' takes a function map, not a module map (device batches cannot cross to worker threads)");
  }
  if (device === 'cuda') cudaAddon(); // RP_CUDA_UNAVAILABLE, with the reason, where CUDA cannot run
  if (dropRemainder && shardCount * batchSize > n) {
    throw argumentRangeError(
      `options.batchSize × options.shardCount = ${shardCount * batchSize} exceeds the source's ${n} records: ` +
        'with dropRemainder no batch would ever be produced',
    );
  }
  return {
    batchSize,
    shuffle,
    seed,
    numEpochs,
    dropRemainder,
    shardIndex,
    shardCount,
    prefetch,
    map,
    concurrency,
    device,
    cacheOnDevice,
  };
}
