// DataLoader: shuffled, sharded, batched loading with a state of a few dozen
// bytes. The order is computed, never stored: epoch e visits the keyed
// permutation seeded by (seed, e), and each round (one batch per shard) of
// shardCount × batchSize positions is split among the shards (see
// native/include/rp/batch_schedule.h for the exact rules). C++ threads
// assemble batches ahead of the caller; a map runs on each (async, up to
// `concurrency` at once, or on worker threads: src/transforms/); the state
// counts only batches that next() or nextAsync() has returned.
import { type SourceFingerprint, sourceFingerprintOf } from '../sources/source-fingerprint.js';
import { markAsUntransferable } from 'node:worker_threads';
import { MapError, MapModuleError, WorkerFailedError, withCode } from '../errors.js';
import { CheckpointableIterator } from '../iterator/checkpointable-iterator.js';
import type { State } from '../iterator/state.js';
import { native, type NativeInfoLayout, type NativePrefetchQueue } from '../native.js';
import { Key } from '../random/key.js';
import { ColumnSource, columnsOf, maxRecords, type RandomAccessSource } from '../sources/source.js';
import { DTYPES, type TypedArray, type TypedArrayConstructor } from '../typed-arrays.js';
import { describe } from '../validate.js';
import type { BatchOf } from './batch.js';
import { type DataLoaderOptions, type ResolvedOptions, resolveOptions } from './loader-options.js';
import { type DataLoaderFingerprint, type DataLoaderState, LOADER_STATE_VERSION, parseLoaderState } from './loader-state.js';
import { bufferOf, pinBuffer } from './pinned-buffers.js';
import { argumentRangeError, argumentTypeError, ErrorCodes } from '../error-codes.js';
import { createRunner, type MapRunner } from '../transforms/map-runner.js';
import { DeviceBatches } from '../cuda/device-batches.js';

/**
 * Small batches (the queue's slabBlocks) are copied into shared slabs of this
 * size, so they do not each pay for an ArrayBuffer allocation (as Buffer's
 * pool does). Batches in a slab never overlap, but share `.buffer` (use the
 * views, not the buffer); a slab lives while any of its batches does.
 */
const SLAB_BYTES = 64 * 1024;

/** A batch taken from the queue but not yet returned (map, get or decode may throw). */
interface Taken {
  readonly buffer: ArrayBuffer;
  readonly offset: number;
  readonly epoch: number;
  readonly rows: number;
  readonly afterEpoch: number;
  readonly afterPosition: number;
  readonly key0: number;
  readonly key1: number;
  /** A column batch's views, made at take() time (info is rewritten by the next take). */
  readonly views: Record<string, unknown> | undefined;
  /** The batch map gets (after get/decode), once made. */
  input: unknown;
  /** The batch's record indices (a view into its block), as batch.indices and ctx.indices. */
  indices: Uint32Array | undefined;
  /** Where its map is: not started (or to be retried), running, done (value), failed (error). */
  state: 'idle' | 'running' | 'done' | 'failed';
  value: unknown;
  error: unknown;
  /** Settles (never rejects) when a running map does. */
  settled: Promise<void> | undefined;
}

// Any column source: its decodeBatch takes its own batch type, so C is left open (any) here.
type AnySource = ColumnSource<any, unknown> | RandomAccessSource<unknown>;

/** How build() makes a column's batch views. */
interface BatchColumnPlan {
  readonly name: string;
  readonly type: TypedArrayConstructor;
  readonly kind: 'fixed' | 'ragged' | 'padded';
  /** Elements per record: fixed, product(rowShape); padded, the pad length. */
  readonly rowLength: number;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

export class DataLoader<S extends AnySource = ColumnSource | RandomAccessSource, T = BatchOf<S>> extends CheckpointableIterator<T> {
  /** The source's record count (n). */
  readonly numRecords: number;
  private readonly options: ResolvedOptions;
  private readonly fingerprint: DataLoaderFingerprint;
  private readonly sourceFingerprint: SourceFingerprint | undefined;
  private readonly columns: readonly BatchColumnPlan[] | undefined;
  private readonly records: RandomAccessSource | undefined;
  /** The source's decodeBatch, when it has its own. */
  private readonly decode: ((batch: never) => unknown) | undefined;
  private readonly queue: NativePrefetchQueue;
  private readonly info: Float64Array;
  /** Where take() puts each scalar in info (the binding owns the layout). */
  private readonly slots: NativeInfoLayout;
  private readonly blockBytes: number;
  /** Batches are copied into slabs (small blocks); otherwise each has its own buffer. */
  private readonly slabBlocks: boolean;
  private slab: ArrayBuffer | undefined;
  private slabUsed = 0;
  /** Every slab this loader made (while any of its batches lives): recycle() knows its own. */
  private readonly slabs = new WeakSet<ArrayBuffer>();
  private epoch = 0;
  private position = 0;
  /**
   * Batches taken from the queue and not yet returned, in order: the first is
   * the next one returned; up to `concurrency` of them have maps in flight.
   * Never in the state: setState drops them and they are made again.
   */
  private window: Taken[] = [];
  /** The queue returned its end (until setState). */
  private ended = false;
  private readonly runner: MapRunner | undefined;
  /** An error a fill() after a settled map met, thrown by the next call. */
  private fillError: unknown;
  /** Resolves at close(), so nothing awaits a map forever. */
  private readonly closing: Promise<void>;
  private signalClosed!: () => void;
  private asyncPending = 0;
  private asyncTail: Promise<unknown> = Promise.resolve();
  private rejectWait: ((err: Error) => void) | undefined;
  private closed = false;
  /** device 'cuda': puts each batch's columns on the GPU (src/cuda/device-batches.ts). */
  private readonly device: DeviceBatches | undefined;

  constructor(source: S, options: DataLoaderOptions<BatchOf<S>, T>) {
    super();
    let n: number;
    let columns: ReturnType<typeof columnsOf> | undefined;
    if (source instanceof ColumnSource) {
      n = source.length;
      columns = columnsOf(source);
      if (source.decodeBatch !== ColumnSource.prototype.decodeBatch) this.decode = source.decodeBatch.bind(source);
      this.columns = columns.map((c) => ({
        name: c.name,
        type: DTYPES[c.dtype],
        kind: c.kind === 'fixed' ? 'fixed' : c.pad === undefined ? 'ragged' : 'padded',
        rowLength: c.pad?.length ?? c.rowShape.reduce((a, b) => a * b, 1),
      }));
    } else if (isRecordSource(source)) {
      n = source.length;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > maxRecords()) {
        throw argumentRangeError(`source.length must be an integer in [1, 2^32], got ${describe(n)}${n === 0 ? ' (the source is empty)' : ''}`);
      }
      this.records = source;
    } else {
      throw argumentTypeError(
        `source must be an ArraySource, an NpySource or an object with length and get(i), got ${describe(source)}` +
          (Array.isArray(source) ? ' (wrap an array as { length: a.length, get: (i) => a[i] })' : ''),
      );
    }
    this.numRecords = n;
    this.options = resolveOptions(options, n);
    if (this.options.device === 'cuda') {
      if (columns === undefined || this.decode !== undefined) {
        throw argumentTypeError(
          "options.device 'cuda' needs a ColumnSource whose batches are its columns (this source's batches are JavaScript values" +
            (this.decode !== undefined ? ', made by its decodeBatch)' : ')'),
        );
      }
      this.device = new DeviceBatches(columns, this.options.cacheOnDevice);
      // Gathered on the device: the CPU threads then make only the indices.
      if (this.device.cached) this.columns = [];
    }
    const { batchSize, shuffle, seed, dropRemainder } = this.options;
    this.sourceFingerprint = sourceFingerprintOf(source);
    this.fingerprint = Object.freeze({ n, seed, shuffle, dropRemainder, ...(this.sourceFingerprint && { source: this.sourceFingerprint.value }) });
    this.queue = new (native().PrefetchQueue)({
      n,
      batchSize,
      shardCount: this.options.shardCount,
      shardIndex: this.options.shardIndex,
      dropRemainder,
      numEpochs: this.options.numEpochs,
      seed: BigInt(seed),
      shuffle,
      prefetch: this.options.prefetch,
      columns: this.device?.cached ? [] : (columns ?? []).map((c) => c.spec),
      epoch: 0,
      position: 0,
    });
    this.blockBytes = this.queue.blockBytes;
    this.slabBlocks = this.queue.slabBlocks;
    // The C++ threads read the sources between calls: they must not be detached.
    for (const c of columns ?? []) for (const a of c.arrays) pinBuffer(bufferOf(a));
    this.slots = native().infoLayout;
    this.info = new Float64Array(this.slots.columns + this.slots.perColumn * (this.columns?.length ?? 0));
    this.closing = new Promise((resolve) => (this.signalClosed = resolve));
    if (this.options.map !== undefined) this.runner = createRunner(this.options.map, this.options.concurrency);
  }

  /**
   * The next batch; waits (blocking) if the C++ threads have not finished it
   * yet. Throws RP_MAP_ASYNC if its map returns a Promise or is a module: use
   * nextAsync() (the batch is kept, its map still running, for nextAsync()).
   */
  next(): IteratorResult<T, undefined> {
    if (this.asyncPending > 0) {
      throw withCode(new Error('next() called while a nextAsync() is pending; use one kind of iteration at a time'), ErrorCodes.LOADER_BUSY);
    }
    this.checkOpen();
    if (this.runner?.alwaysAsync === true) throw mapAsyncError('its map is a module, which runs asynchronously');
    let head = this.window[0];
    if (head === undefined) {
      const taken = this.takeOne();
      if (taken === null) return DONE;
      head = taken;
    }
    if (head.state === 'idle') this.start(head); // get/decode may throw: the batch is kept
    if (head.state === 'running') throw mapAsyncError('its map returned a Promise');
    return this.deliver(head);
  }

  /**
   * The next batch, without blocking the event loop while it is assembled or
   * mapped; keeps up to `concurrency` maps in flight, and returns batches in
   * order.
   */
  nextAsync(): Promise<IteratorResult<T, undefined>> {
    this.asyncPending++;
    const run = this.asyncTail.then(() => this.nextInOrder());
    this.asyncTail = run.then(
      () => undefined,
      () => undefined,
    );
    return run.finally(() => {
      this.asyncPending--;
    });
  }

  /** `for await (const batch of loader)`; shares the loader's position, like the sync form. */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> & { next(): Promise<IteratorResult<T, undefined>> } {
    return {
      next: () => this.nextAsync(),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  getState(): State {
    const state: DataLoaderState = {
      version: LOADER_STATE_VERSION,
      epoch: this.epoch,
      position: this.position,
      fingerprint: { ...this.fingerprint },
    };
    return state;
  }

  /**
   * Continues from a saved state, which may come from a loader with another
   * shardCount/shardIndex (elastic resume). Validates it fully first: a bad or
   * incompatible state throws and leaves this loader unchanged.
   */
  setState(state: State): void {
    this.checkOpen();
    if (this.asyncPending > 0) throw withCode(new Error('setState() called while a nextAsync() is pending'), ErrorCodes.LOADER_BUSY);
    const { epoch, position } = parseLoaderState(state, this.fingerprint, this.sourceFingerprint);
    this.queue.reset(epoch, position);
    // Work in flight is dropped (its results are never read) and done again.
    this.window = [];
    this.ended = false;
    this.fillError = undefined;
    this.epoch = epoch;
    this.position = position;
  }

  /**
   * Hands a batch's memory back at once, instead of when the batch is
   * garbage collected. Optional: batch memory is reused either way. The
   * batch's buffer is detached, so its views read as empty from then on.
   * Batches of 4 KiB or less share pooled slabs and are left as they are.
   * Throws a TypeError: RP_INVALID_ARGUMENT for a batch this loader did not
   * return (whatever its size), RP_BUFFER_DETACHED for one already recycled
   * (or detached).
   */
  recycle(batch: { readonly indices: Uint32Array }): void {
    const indices = (batch as { indices?: unknown } | null | undefined)?.indices;
    if (!(indices instanceof Uint32Array)) {
      throw argumentTypeError('batch must be a batch returned by this DataLoader (it has no indices)');
    }
    this.checkOpen();
    if (this.slabBlocks) {
      // Small batches: nothing to gain, but a foreign batch is still an error.
      if (!this.slabs.has(bufferOf(indices) as ArrayBuffer)) {
        throw argumentTypeError('batch was not returned by this DataLoader');
      }
      return;
    }
    this.queue.recycle(bufferOf(indices) as ArrayBuffer);
  }

  /** Stops the C++ threads and releases the source; later calls to next() throw. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.close();
    this.window = [];
    this.runner?.close();
    this.signalClosed();
    const reject = this.rejectWait;
    this.rejectWait = undefined;
    reject?.(withCode(new Error('the DataLoader was closed while a batch was awaited'), ErrorCodes.LOADER_CLOSED));
  }

  private checkOpen(): void {
    if (this.closed) throw withCode(new Error('the DataLoader is closed'), ErrorCodes.LOADER_CLOSED);
  }

  /** Resolves when take() would not block. */
  private whenReady(): Promise<void> | void {
    this.checkOpen();
    return new Promise<void>((resolve, reject) => {
      this.rejectWait = reject;
      const ready = this.queue.wait(() => {
        this.rejectWait = undefined;
        resolve();
      });
      if (ready) {
        this.rejectWait = undefined;
        resolve();
      }
    });
  }

  /** The in-order, concurrent path of nextAsync(). */
  private async nextInOrder(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      this.checkOpen();
      this.fill();
      const head = this.window[0];
      if (head === undefined) {
        if (this.ended) return DONE;
        await this.whenReady();
        continue;
      }
      if (head.state === 'idle') this.start(head); // get/decode may throw: the batch is kept
      if (head.state === 'running') {
        await Promise.race([head.settled, this.closing]);
        continue;
      }
      return this.deliver(head);
    }
  }

  /**
   * Takes batches the queue has ready, without blocking, and starts their
   * maps, until `concurrency` are in the window.
   */
  private fill(): void {
    if (this.fillError !== undefined) {
      const error = this.fillError;
      this.fillError = undefined;
      throw error;
    }
    const limit = this.runner === undefined ? 1 : this.options.concurrency;
    while (this.window.length < limit && !this.ended && !this.closed && this.queue.ready()) {
      const taken = this.takeOne();
      if (taken === null) break;
      if (this.window.length > 1) {
        try {
          this.start(taken);
        } catch {
          // get/decode failed: the batch stays idle and fails again in its turn
        }
      }
    }
  }

  /**
   * fill() when a map settles, so batches the queue has made since join the
   * window; an error there (from take) waits for the next call to throw it.
   */
  private fillQuietly(): void {
    if (this.closed || this.fillError !== undefined || this.window.length === 0) return;
    try {
      this.fill();
    } catch (error) {
      this.fillError = error;
    }
  }

  /** Takes the next batch from the queue into the window (blocking); null at the end. */
  private takeOne(): Taken | null {
    const info = this.info;
    const INFO = this.slots;
    const buffer = this.lendBlock(info);
    if (buffer === null) {
      this.ended = true;
      return null;
    }
    const rows = info[INFO.rows]!;
    const offset = info[INFO.blockOffset]!;
    const taken: Taken = {
      buffer,
      offset,
      epoch: info[INFO.epoch]!,
      rows,
      afterEpoch: info[INFO.afterEpoch]!,
      afterPosition: info[INFO.afterPosition]!,
      key0: info[INFO.key0]!,
      key1: info[INFO.key1]!,
      views: this.columns === undefined ? undefined : this.views(buffer, offset, rows),
      // Every field from the start: one object shape on the per-batch path.
      input: undefined,
      indices: undefined,
      state: 'idle',
      value: undefined,
      error: undefined,
      settled: undefined,
    };
    this.window.push(taken);
    return taken;
  }

  /**
   * Makes the batch (get/decode, which may throw and leave it idle) and
   * starts its map; a map that throws at once, or rejects later, leaves it
   * 'failed' with its MapError.
   */
  private start(t: Taken): void {
    if (t.input === undefined) t.input = this.assemble(t);
    const runner = this.runner;
    if (runner === undefined) {
      t.value = t.input;
      t.state = 'done';
      return;
    }
    const indices = t.indices!;
    let result: unknown;
    try {
      result = runner.run(t.input, { key: Key.fromWords(Uint32Array.of(t.key0, t.key1)), epoch: t.epoch, indices }, t.buffer);
    } catch (cause) {
      t.state = 'failed';
      t.error = mapFailure(cause, t.epoch, indices);
      return;
    }
    if (!isThenable(result)) {
      t.value = result;
      t.state = 'done';
      return;
    }
    t.state = 'running';
    t.settled = Promise.resolve(result).then(
      (value) => {
        t.value = value;
        t.state = 'done';
        this.fillQuietly();
      },
      (cause: unknown) => {
        t.error = mapFailure(cause, t.epoch, indices);
        t.state = 'failed';
      },
    );
  }

  /** Returns the window's first batch (done or failed), advancing the state. */
  private deliver(t: Taken): IteratorResult<T, undefined> {
    if (t.state === 'failed') {
      t.state = 'idle'; // the next call retries it
      const error = t.error;
      t.error = undefined;
      throw error;
    }
    this.window.shift();
    this.epoch = t.afterEpoch;
    this.position = t.afterPosition;
    return { done: false, value: t.value as T };
  }

  /**
   * Takes the next batch's block: a large one comes as a buffer of its own
   * (the queue's memory, reused once the batch is collected); a small one is
   * copied into the current slab.
   */
  private lendBlock(info: Float64Array): ArrayBuffer | null {
    if (!this.slabBlocks) {
      const buffer = this.queue.take(info);
      // Its memory is reused once this buffer is gone, so it must not be
      // moved into another (see binding/batch_memory.h).
      if (buffer !== null) pinBuffer(buffer);
      return buffer;
    }
    const size = this.blockBytes;
    // A slab is only written during take(), so a caller that detached it
    // (through a batch's `.buffer`) merely gets a new one.
    if (this.slab === undefined || this.slab.byteLength === 0 || this.slabUsed + size > SLAB_BYTES) {
      // Zeroed: its unused tail is visible through earlier batches' `.buffer`.
      this.slab = Buffer.alloc(SLAB_BYTES).buffer as ArrayBuffer;
      // Transferring it would detach every batch that shares it.
      markAsUntransferable(this.slab);
      this.slabs.add(this.slab);
      this.slabUsed = 0;
    }
    const buffer = this.queue.take(info, this.slab, this.slabUsed);
    if (buffer !== null) this.slabUsed += size; // not used at the end of the run
    return buffer;
  }

  /** A column batch's views into its block, from the info the take() that produced it wrote. */
  private views(buffer: ArrayBuffer, offset: number, rows: number): Record<string, unknown> {
    const info = this.info;
    const INFO = this.slots;
    const batch: Record<string, unknown> = {};
    const columns = this.columns!;
    for (let c = 0; c < columns.length; c++) {
      const col = columns[c]!;
      const slot = INFO.columns + INFO.perColumn * c;
      const length = col.kind === 'ragged' ? info[slot + INFO.dataLength]! : rows * col.rowLength;
      const values = new col.type(buffer, offset + info[slot + INFO.dataOffset]!, length) as TypedArray;
      if (col.kind === 'fixed') {
        batch[col.name] = values;
      } else {
        const aux = new Int32Array(buffer, offset + info[slot + INFO.auxOffset]!, col.kind === 'ragged' ? rows + 1 : rows);
        batch[col.name] = col.kind === 'ragged' ? { values, offsets: aux } : { values, lengths: aux };
      }
    }
    return batch;
  }

  /** The batch map gets: the views (or the records, from get) with epoch and indices, decoded. */
  private assemble(t: Taken): unknown {
    const indices = (t.indices ??= new Uint32Array(t.buffer, t.offset, t.rows));
    let batch: Record<string, unknown>;
    if (t.views !== undefined) {
      batch = t.views; // made for this batch alone
    } else {
      const source = this.records!;
      const records: unknown[] = new Array(t.rows);
      for (let j = 0; j < t.rows; j++) records[j] = source.get(indices[j]!);
      batch = records as unknown as Record<string, unknown>;
    }
    if (this.device !== undefined) batch = this.device.assemble(batch, indices);
    batch.epoch = t.epoch;
    batch.indices = indices;
    if (this.decode !== undefined) batch = this.decode(batch as never) as Record<string, unknown>;
    return batch;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** What a map's throw or rejection surfaces as: MapError, unless the runner's own error. */
function mapFailure(cause: unknown, epoch: number, indices: Uint32Array): unknown {
  if (cause instanceof MapModuleError || cause instanceof WorkerFailedError) return cause;
  if ((cause as { code?: unknown } | null)?.code === ErrorCodes.LOADER_CLOSED) return cause;
  return new MapError(epoch, indices, cause);
}

function mapAsyncError(why: string): Error {
  return withCode(new Error(`next() cannot wait for this batch: ${why}; use nextAsync() or for await`), ErrorCodes.MAP_ASYNC);
}

function isRecordSource(source: unknown): source is RandomAccessSource {
  return (
    (typeof source === 'object' || typeof source === 'function') &&
    source !== null &&
    'length' in source &&
    typeof (source as { get?: unknown }).get === 'function'
  );
}

export type { DataLoaderOptions } from './loader-options.js';
export type { DataLoaderFingerprint, DataLoaderState } from './loader-state.js';
