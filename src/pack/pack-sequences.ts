// packSequences: ragged token rows packed into fixed-length sequences, in
// Grain's and T5X's layout (tokens, segment ids from 1 per piece of a row in
// a sequence with 0 for padding, positions from 0 in each piece), resumable
// with O(1) state and no tokens in it.
//  - 'concat': the rows' tokens one after another, cut every `length`
//    tokens. State: the cursor of the next token (RowStream).
//  - 'firstFit': each row (rows longer than `length` split into pieces of
//    `length`) goes into the first of `bins` open sequences with room; when
//    a piece fits none and all `bins` are open, the group of bins is done
//    and emitted as bins / batchSize batches, and the piece opens the next
//    group. State: the cursor where the current group starts plus the batches
//    of it already emitted; a restore packs that group again (at most
//    bins × length tokens) and skips what was emitted.
import { IncompatibleStateError } from '../errors.js';
import { argumentRangeError, argumentTypeError, stateRangeError, stateTypeError } from '../error-codes.js';
import { CheckpointableIterator } from '../iterator/checkpointable-iterator.js';
import { isPlainObject, type State } from '../iterator/state.js';
import { native } from '../native.js';
import type { TypedArray } from '../typed-arrays.js';
import { describe, plainObject } from '../validate.js';
import { type RowCursor, RowStream } from './row-stream.js';

export interface PackOptions {
  /** The ragged column of the loader's batches that holds the tokens. */
  readonly column: string;
  /** Tokens per packed sequence. */
  readonly length: number;
  readonly strategy: 'concat' | 'firstFit';
  /** The token that fills padding (default 0; segment id and position 0 there). */
  readonly padId?: number | bigint;
  /** Sequences per yielded batch. */
  readonly batchSize: number;
  /** firstFit: open sequences packed together, a multiple of batchSize (default: the first multiple >= 64). */
  readonly bins?: number;
}

/** A batch of packed sequences: each array is [batchSize, length], row-major. */
export interface PackedBatch<T extends TypedArray = TypedArray> {
  readonly tokens: T;
  /** 1, 2, ... for each piece of a row in a sequence; 0 for padding. */
  readonly segmentIds: Int32Array;
  /** The token's place in its piece, from 0; 0 for padding. */
  readonly positions: Int32Array;
}

const VERSION = 1;
const KNOWN = ['column', 'length', 'strategy', 'padId', 'batchSize', 'bins'];

/**
 * Packs the ragged token rows of `loader`'s batches (`options.column`) into
 * batches of `batchSize` sequences of `length` tokens. A CheckpointableIterator:
 * getState() is the loader's state plus a few numbers; setState() resumes
 * byte for byte (the loader is repositioned through its own setState).
 */
export function packSequences<T extends TypedArray = Int32Array>(loader: CheckpointableIterator<unknown>, options: PackOptions): SequencePacker<T> {
  return new SequencePacker<T>(loader, options);
}

export class SequencePacker<T extends TypedArray = Int32Array> extends CheckpointableIterator<PackedBatch<T>> {
  readonly length: number;
  readonly batchSize: number;
  readonly strategy: 'concat' | 'firstFit';
  readonly bins: number;
  private readonly padId: number | bigint;
  private readonly stream: RowStream;
  private started = false;
  /** The packing kernels' cursor and counters (see nextConcat, packGroup). */
  private readonly kernel = new Float64Array(4);
  // firstFit: the group being emitted, where it started, and batches of it emitted.
  private group: PackedBatch<T> | undefined;
  private groupBatches = 0;
  private groupStart: RowCursor | undefined;
  private emitted = 0;

  constructor(loader: CheckpointableIterator<unknown>, options: PackOptions) {
    super();
    if (!(loader instanceof CheckpointableIterator)) throw argumentTypeError(`loader must be a CheckpointableIterator (a DataLoader), got ${describe(loader)}`);
    const o = plainObject(options, 'options', KNOWN, 'a packSequences option');
    if (typeof o.column !== 'string' || o.column === '') throw argumentTypeError(`options.column must be a column name, got ${describe(o.column)}`);
    this.length = positiveInt(o.length, 'options.length', 2 ** 31 - 1);
    this.batchSize = positiveInt(o.batchSize, 'options.batchSize', 2 ** 31 - 1);
    if (this.length * this.batchSize > 2 ** 31 - 1) throw argumentRangeError(`options.batchSize × options.length must be below 2^31, got ${this.length * this.batchSize}`);
    if (o.strategy !== 'concat' && o.strategy !== 'firstFit') throw argumentRangeError(`options.strategy must be 'concat' or 'firstFit', got ${describe(o.strategy)}`);
    this.strategy = o.strategy;
    const defaultBins = Math.ceil(64 / this.batchSize) * this.batchSize;
    this.bins = o.bins === undefined ? defaultBins : positiveInt(o.bins, 'options.bins', 2 ** 31 - 1);
    if (this.bins % this.batchSize !== 0) throw argumentRangeError(`options.bins must be a multiple of batchSize (${this.batchSize}), got ${this.bins}`);
    if (this.strategy === 'firstFit' && this.bins * this.length > 2 ** 31 - 1) throw argumentRangeError(`options.bins × options.length must be below 2^31`);
    if (o.padId !== undefined && typeof o.padId !== 'number' && typeof o.padId !== 'bigint') throw argumentTypeError(`options.padId must be a number or a bigint, got ${describe(o.padId)}`);
    this.padId = (o.padId as number | bigint | undefined) ?? 0;
    this.stream = new RowStream(loader, o.column);
  }

  next(): IteratorResult<PackedBatch<T>, undefined> {
    this.begin();
    const batch = this.strategy === 'concat' ? this.nextConcat() : this.nextFirstFit();
    return batch === undefined ? { done: true, value: undefined } : { done: false, value: batch };
  }

  getState(): State {
    this.begin();
    const c = this.strategy === 'concat' ? this.stream.cursor() : this.groupStart!;
    return {
      version: VERSION,
      strategy: this.strategy,
      length: this.length,
      batchSize: this.batchSize,
      bins: this.strategy === 'firstFit' ? this.bins : 0,
      inner: c.inner,
      row: c.row,
      offset: c.offset,
      emitted: this.strategy === 'firstFit' ? this.emitted : 0,
    };
  }

  setState(state: State): void {
    if (!isPlainObject(state)) throw stateTypeError(`state must be a packSequences state object, got ${describe(state)}`);
    if (state.version !== VERSION) throw new IncompatibleStateError(`state.version is ${describe(state.version)}; packSequences reads version ${VERSION}`, ['version']);
    const differing = (['strategy', 'length', 'batchSize', 'bins'] as const).filter((f) => state[f] !== (f === 'bins' ? (this.strategy === 'firstFit' ? this.bins : 0) : this[f]));
    if (differing.length > 0) {
      throw new IncompatibleStateError(`the state was saved by packSequences with other options: ${differing.map((f) => `${f} (saved ${describe(state[f])})`).join(', ')}`, [...differing]);
    }
    const row = stateInt(state.row, 'state.row');
    const offset = stateInt(state.offset, 'state.offset');
    const emitted = stateInt(state.emitted, 'state.emitted');
    if (emitted >= Math.max(1, this.bins / this.batchSize)) throw stateRangeError(`state.emitted must be below ${this.bins / this.batchSize}, got ${emitted}`);
    const cursor = { inner: state.inner as State, row, offset };
    this.stream.seek(cursor); // validates the inner state (the loader's own setState) before anything here changes
    this.started = true;
    if (this.strategy === 'firstFit') {
      this.groupStart = cursor;
      this.group = undefined;
      this.emitted = emitted;
      if (emitted > 0) this.packGroup();
    }
  }

  private begin(): void {
    if (this.started) return;
    this.started = true;
    this.stream.start();
    this.groupStart = this.stream.cursor();
  }

  /**
   * Output arrays, not zeroed: the kernels write every slot they fill and
   * pad() the rest (zeroing them first would cost a third of the packing).
   */
  private allocate(sequences: number): PackedBatch<T> {
    const type = (this.stream.tokenType?.constructor ?? Int32Array) as unknown as { new (b: ArrayBuffer, o: number, n: number): T; BYTES_PER_ELEMENT: number };
    const n = sequences * this.length;
    const fresh = (bytes: number) => Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
    return { tokens: new type(fresh(n * type.BYTES_PER_ELEMENT), 0, n), segmentIds: new Int32Array(fresh(n * 4), 0, n), positions: new Int32Array(fresh(n * 4), 0, n) };
  }

  /** Slots [from, to) of out become padding: padId, segment 0, position 0. */
  private pad(out: PackedBatch<T>, from: number, to: number): void {
    if (from >= to) return;
    (out.tokens as unknown as { fill(v: unknown, a: number, b: number): void }).fill(this.padId, from, to);
    out.segmentIds.fill(0, from, to);
    out.positions.fill(0, from, to);
  }

  private nextConcat(): PackedBatch<T> | undefined {
    const s = this.stream;
    if (s.done) return undefined;
    const out = this.allocate(this.batchSize);
    // [row, offset, next slot, last segment id of the current sequence], advanced by the core.
    const k = this.kernel;
    k[2] = 0;
    k[3] = 0;
    while (!s.done && k[2]! < out.tokens.length) {
      k[0] = s.row;
      k[1] = s.offset;
      native().packConcat(s.values!, s.offsets!, k, this.length, out.tokens, out.segmentIds, out.positions);
      s.moveTo(k[0]!, k[1]!);
    }
    this.pad(out, k[2]!, out.tokens.length);
    return out;
  }

  private nextFirstFit(): PackedBatch<T> | undefined {
    if (this.group === undefined) {
      if (this.stream.done) return undefined;
      this.packGroup();
    }
    const b = this.emitted;
    const n = this.batchSize * this.length;
    const g = this.group!;
    const batch: PackedBatch<T> = {
      tokens: g.tokens.subarray(b * n, (b + 1) * n) as T,
      segmentIds: g.segmentIds.subarray(b * n, (b + 1) * n),
      positions: g.positions.subarray(b * n, (b + 1) * n),
    };
    this.emitted++;
    if (this.emitted === this.groupBatches) {
      // The group is out: the next one starts where packing stopped.
      this.group = undefined;
      this.emitted = 0;
      this.groupStart = this.stream.cursor();
    }
    return batch;
  }

  /** Packs one group from the stream's cursor (the group's start). */
  private packGroup(): void {
    const s = this.stream;
    const out = this.allocate(this.bins);
    const used = new Int32Array(this.bins);
    const segments = new Int32Array(this.bins);
    // [row, offset, open bins], advanced by the core.
    const k = this.kernel;
    k[2] = 0;
    while (!s.done) {
      k[0] = s.row;
      k[1] = s.offset;
      const full = native().packFirstFit(s.values!, s.offsets!, k, this.length, out.tokens, out.segmentIds, out.positions, used, segments);
      s.moveTo(k[0]!, k[1]!);
      if (full) break;
    }
    this.groupBatches = Math.max(1, Math.ceil(k[2]! / this.batchSize));
    for (let b = 0; b < this.groupBatches * this.batchSize; b++) this.pad(out, b * this.length + (used[b] ?? 0), (b + 1) * this.length);
    this.group = out;
  }
}

function positiveInt(value: unknown, name: string, max: number): number {
  if (typeof value !== 'number') throw argumentTypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw argumentRangeError(`${name} must be an integer in [1, ${max}], got ${value}`);
  return value;
}

function stateInt(value: unknown, name: string): number {
  if (typeof value !== 'number') throw stateTypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isSafeInteger(value) || value < 0) throw stateRangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}
