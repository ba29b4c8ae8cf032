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

/**
 * A batch of a column source: a fixed column is a contiguous TypedArray of
 * rows × rowLength elements, a ragged one `{ values, offsets }`, a padded one
 * `{ values, lengths }` (views into the batch's memory).
 */
export type ColumnBatch<C extends Columns = Columns> = C & BatchInfo;

/** A batch of a record source: the records, in order. */
export type RecordBatch<T = unknown> = T[] & BatchInfo;

/** The batch type a source gives. */
// `any`: a source's decodeBatch takes its own batch type, which no one C would accept.
export type BatchOf<S> = S extends ColumnSource<any, infer B> ? B : S extends RandomAccessSource<infer T> ? RecordBatch<T> : never;

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
