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
  /** A 0, 1, 2, ... ramp the positions are copied from. */
  private readonly ramp: Int32Array;
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
    this.ramp = Int32Array.from({ length: this.length }, (_, i) => i);
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

  private allocate(sequences: number): PackedBatch<T> {
    const type = (this.stream.tokenType?.constructor ?? Int32Array) as unknown as new (n: number) => T;
    const tokens = new type(sequences * this.length);
    if (this.padId !== 0 && this.padId !== 0n) (tokens as unknown as { fill(v: unknown): void }).fill(this.padId);
    return { tokens, segmentIds: new Int32Array(sequences * this.length), positions: new Int32Array(sequences * this.length) };
  }

  /** Writes `piece` at flat position `at` as segment `segment`. */
  private write(out: PackedBatch<T>, at: number, piece: TypedArray, segment: number): void {
    const n = piece.length;
    (out.tokens as unknown as { set(a: ArrayLike<unknown>, at: number): void }).set(piece as unknown as ArrayLike<unknown>, at);
    out.segmentIds.fill(segment, at, at + n);
    out.positions.set(this.ramp.subarray(0, n), at);
  }

  private nextConcat(): PackedBatch<T> | undefined {
    const s = this.stream;
    if (s.done) return undefined;
    const out = this.allocate(this.batchSize);
    for (let q = 0; q < this.batchSize && !s.done; q++) {
      let at = 0;
      let segment = 0;
      while (at < this.length && !s.done) {
        const piece = s.take(Math.min(s.remaining(), this.length - at));
        this.write(out, q * this.length + at, piece, ++segment);
        at += piece.length;
      }
    }
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
    let open = 0;
    while (!s.done) {
      const l = Math.min(s.remaining(), this.length);
      let bin = 0;
      while (bin < open && this.length - used[bin]! < l) bin++;
      if (bin === open) {
        if (open === this.bins) break; // fits no bin, and none can open: the group is done
        open++;
      }
      this.write(out, bin * this.length + used[bin]!, s.take(l), ++segments[bin]!);
      used[bin]! += l;
    }
    this.group = out;
    this.groupBatches = Math.max(1, Math.ceil(open / this.batchSize));
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
