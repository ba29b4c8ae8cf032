// DataLoader: shuffled, sharded, batched loading with a state of a few dozen
// bytes. The order is computed, never stored: epoch e visits the keyed
// permutation seeded by (seed, e), and each round (one batch per shard) of
// shardCount × batchSize positions is split among the shards (see
// native/include/rp/batch_schedule.h for the exact rules). C++ threads
// assemble batches ahead of the caller; the state counts only batches that
// next() has returned.
import { type SourceFingerprint, sourceFingerprintOf } from '../sources/source-fingerprint.js';
import { markAsUntransferable } from 'node:worker_threads';
import { withCode } from '../errors.js';
import { CheckpointableIterator } from '../iterator/checkpointable-iterator.js';
import type { State } from '../iterator/state.js';
import { native, type NativeInfoLayout, type NativePrefetchQueue } from '../native.js';
import { Key } from '../random/key.js';
import { ColumnSource, columnsOf, maxRecords, type RandomAccessSource } from '../sources/source.js';
import { DTYPES, type TypedArray, type TypedArrayConstructor } from '../typed-arrays.js';
import { describe } from '../validate.js';
import type { BatchOf, MapContext } from './batch.js';
import { type DataLoaderOptions, type ResolvedOptions, resolveOptions } from './loader-options.js';
import { type DataLoaderFingerprint, type DataLoaderState, LOADER_STATE_VERSION, parseLoaderState } from './loader-state.js';
import { bufferOf, pinBuffer } from './pinned-buffers.js';
import { argumentRangeError, argumentTypeError, ErrorCodes } from '../error-codes.js';

/**
 * Small batches (the queue's slabBlocks) are copied into shared slabs of this
 * size, so they do not each pay for an ArrayBuffer allocation (as Buffer's
 * pool does). Batches in a slab never overlap, but share `.buffer` (use the
 * views, not the buffer); a slab lives while any of its batches does.
 */
const SLAB_BYTES = 64 * 1024;

/** A batch taken from the queue but not yet returned (map or get may throw). */
interface Taken {
  readonly buffer: ArrayBuffer;
  readonly offset: number;
  readonly epoch: number;
  readonly rows: number;
  readonly afterEpoch: number;
  readonly afterPosition: number;
  readonly key0: number;
  readonly key1: number;
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
  private epoch = 0;
  private position = 0;
  private taken: Taken | undefined;
  private asyncPending = 0;
  private asyncTail: Promise<unknown> = Promise.resolve();
  private rejectWait: ((err: Error) => void) | undefined;
  private closed = false;

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
      columns: (columns ?? []).map((c) => c.spec),
      epoch: 0,
      position: 0,
    });
    this.blockBytes = this.queue.blockBytes;
    this.slabBlocks = this.queue.slabBlocks;
    // The C++ threads read the sources between calls: they must not be detached.
    for (const c of columns ?? []) for (const a of c.arrays) pinBuffer(bufferOf(a));
    this.slots = native().infoLayout;
    this.info = new Float64Array(this.slots.columns + this.slots.perColumn * (this.columns?.length ?? 0));
  }

  /** The next batch; waits (blocking) if the C++ threads have not finished it yet. */
  next(): IteratorResult<T, undefined> {
    if (this.asyncPending > 0) {
      throw withCode(new Error('next() called while a nextAsync() is pending; use one kind of iteration at a time'), ErrorCodes.LOADER_BUSY);
    }
    return this.takeBatch();
  }

  /** The next batch, without blocking the event loop while it is assembled. */
  nextAsync(): Promise<IteratorResult<T, undefined>> {
    this.asyncPending++;
    const run = this.asyncTail.then(() => this.whenReady()).then(() => this.takeBatch());
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
    this.taken = undefined;
    this.epoch = epoch;
    this.position = position;
  }

  /**
   * Hands a batch's memory back at once, instead of when the batch is
   * garbage collected. Optional: batch memory is reused either way. The
   * batch's buffer is detached, so its views read as empty from then on.
   * Batches of 4 KiB or less share pooled slabs and are ignored. Throws a
   * TypeError: RP_INVALID_ARGUMENT for a batch this loader did not return,
   * RP_BUFFER_DETACHED for one already recycled (or detached).
   */
  recycle(batch: { readonly indices: Uint32Array }): void {
    const indices = (batch as { indices?: unknown } | null | undefined)?.indices;
    if (!(indices instanceof Uint32Array)) {
      throw argumentTypeError('batch must be a batch returned by this DataLoader (it has no indices)');
    }
    this.checkOpen();
    if (this.slabBlocks) return; // small batches: nothing to gain
    this.queue.recycle(bufferOf(indices) as ArrayBuffer);
  }

  /** Stops the C++ threads and releases the source; later calls to next() throw. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.close();
    const reject = this.rejectWait;
    this.rejectWait = undefined;
    reject?.(withCode(new Error('the DataLoader was closed while a batch was awaited'), ErrorCodes.LOADER_CLOSED));
  }

  private checkOpen(): void {
    if (this.closed) throw withCode(new Error('the DataLoader is closed'), ErrorCodes.LOADER_CLOSED);
  }

  private whenReady(): Promise<void> | void {
    this.checkOpen();
    if (this.taken !== undefined) return;
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

  private takeBatch(): IteratorResult<T, undefined> {
    this.checkOpen();
    let taken = this.taken;
    if (taken === undefined) {
      const info = this.info;
      const INFO = this.slots;
      const buffer = this.lendBlock(info);
      if (buffer === null) return DONE;
      const rows = info[INFO.rows]!;
      taken = {
        buffer,
        offset: info[INFO.blockOffset]!,
        epoch: info[INFO.epoch]!,
        rows,
        afterEpoch: info[INFO.afterEpoch]!,
        afterPosition: info[INFO.afterPosition]!,
        key0: info[INFO.key0]!,
        key1: info[INFO.key1]!,
      };
      this.taken = taken;
    }
    const value = this.build(taken); // may throw (get, map): the batch is kept for the next call
    this.taken = undefined;
    this.epoch = taken.afterEpoch;
    this.position = taken.afterPosition;
    return { done: false, value };
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
      this.slabUsed = 0;
    }
    const buffer = this.queue.take(info, this.slab, this.slabUsed);
    if (buffer !== null) this.slabUsed += size; // not used at the end of the run
    return buffer;
  }

  private build(t: Taken): T {
    const indices = new Uint32Array(t.buffer, t.offset, t.rows);
    let batch: Record<string, unknown>;
    if (this.columns !== undefined) {
      // Column offsets in the block, as the take() that produced t wrote them
      // (a batch kept after a throwing map is rebuilt before any other take).
      const info = this.info;
      const INFO = this.slots;
      batch = {};
      const columns = this.columns;
      for (let c = 0; c < columns.length; c++) {
        const col = columns[c]!;
        const slot = INFO.columns + INFO.perColumn * c;
        const length = col.kind === 'ragged' ? info[slot + INFO.dataLength]! : t.rows * col.rowLength;
        const values = new col.type(t.buffer, t.offset + info[slot + INFO.dataOffset]!, length) as TypedArray;
        if (col.kind === 'fixed') {
          batch[col.name] = values;
        } else {
          const aux = new Int32Array(t.buffer, t.offset + info[slot + INFO.auxOffset]!, col.kind === 'ragged' ? t.rows + 1 : t.rows);
          batch[col.name] = col.kind === 'ragged' ? { values, offsets: aux } : { values, lengths: aux };
        }
      }
    } else {
      const source = this.records!;
      const records: unknown[] = new Array(t.rows);
      for (let j = 0; j < t.rows; j++) records[j] = source.get(indices[j]!);
      batch = records as unknown as Record<string, unknown>;
    }
    batch.epoch = t.epoch;
    batch.indices = indices;
    if (this.decode !== undefined) batch = this.decode(batch as never) as Record<string, unknown>;
    const map = this.options.map as ((batch: unknown, ctx: MapContext) => T) | undefined;
    if (map === undefined) return batch as T;
    return map(batch, { key: Key.fromWords(Uint32Array.of(t.key0, t.key1)), epoch: t.epoch, indices });
  }
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
