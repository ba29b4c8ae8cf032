// What a DataLoader yields.
import type { Key } from '../random/key.js';
import type { ColumnSource, Columns, RandomAccessSource } from '../sources/source.js';

/** Carried by every batch besides its data. */
export interface BatchInfo {
  /** The epoch the batch belongs to. */
  readonly epoch: number;
  /** The record indices the batch holds, in row order (empty for an empty batch). */
  readonly indices: Uint32Array;
}

/** A batch of a column source: each column a contiguous TypedArray of rows × rowLength elements. */
export type ColumnBatch<C extends Columns = Columns> = C & BatchInfo;

/** A batch of a record source: the records, in order. */
export type RecordBatch<T = unknown> = T[] & BatchInfo;

/** The batch type a source gives. */
export type BatchOf<S> = S extends ColumnSource<infer C> ? ColumnBatch<C> : S extends RandomAccessSource<infer T> ? RecordBatch<T> : never;

/** What map() gets besides the batch. */
export interface MapContext {
  /**
   * A key derived from (seed, epoch, first record index) alone (n stands in
   * for the first record of an empty batch), so random augmentation gives the
   * same result after a resume, with nothing saved. Derive per-record keys
   * with random.split(key, n) or random.foldIn(key, j).
   */
  readonly key: Key;
  readonly epoch: number;
  readonly indices: Uint32Array;
}
