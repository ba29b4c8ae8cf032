// What a DataLoader reads. Column sources (ArraySource, NpySource) hold
// fixed-size rows that the core copies into contiguous batches; any object
// with `length` and `get(i)` is a record source, whose batches are arrays.
import { dtypeOf, DTYPES, type Dtype, type TypedArray, type TypedArrayConstructor } from '../typed-arrays.js';
import { native, type NativeColumn } from '../native.js';
import { argumentTypeError } from '../error-codes.js';

export { dtypeOf, DTYPES, type Dtype, type TypedArrayConstructor };

/** Any random-access collection: records 0..length-1, read with get(i). */
export interface RandomAccessSource<T = unknown> {
  readonly length: number;
  get(index: number): T;
}

/** Column name to the TypedArray kind of its batches. */
export type Columns = Record<string, TypedArray>;

/** Records a source may hold: indices are 32-bit in the core (rp::BatchSchedule::kMaxRecords). */
export function maxRecords(): number {
  return native().limits.maxRecords;
}

/** Batch fields that are not columns. */
const RESERVED_COLUMN_NAMES: readonly string[] = ['epoch', 'indices'];

export interface ColumnInfo {
  readonly name: string;
  readonly dtype: Dtype;
  /** The shape of one record (empty for scalars); a batch holds rows × product(rowShape) elements. */
  readonly rowShape: readonly number[];
  /**
   * Transparent huge pages for this column's memory (64 MiB or more): `'collapsed'` (huge pages
   * now), `'advised'` (the kernel moves to them over time) or `'none'` (small, refused, or
   * RP_HUGE_PAGES=0). Never changes the data.
   */
  readonly hugePages: 'collapsed' | 'advised' | 'none';
}

/** @internal How a DataLoader reads a column. */
export interface ColumnStorage {
  readonly name: string;
  readonly type: TypedArrayConstructor;
  /** Elements per row. */
  readonly rowLength: number;
  readonly native: NativeColumn;
}

/** The base of sources whose records are rows of TypedArray columns. */
export abstract class ColumnSource<C extends Columns = Columns> {
  /** Carries the column types for DataLoader's batch type; never set. */
  declare readonly __columns?: C;

  /** The number of records. */
  abstract readonly length: number;

  abstract readonly columns: readonly ColumnInfo[];

  /** @internal */
  abstract storage(): readonly ColumnStorage[];
}

/** Elements per row for a row shape. */
export function rowLengthOf(rowShape: readonly number[]): number {
  return rowShape.reduce((a, b) => a * b, 1);
}

/** Checks a column name (used as a batch key) and returns it. */
export function checkColumnName(name: string, what: string): string {
  if (name === '') throw argumentTypeError(`${what}: a column name must not be empty`);
  if (RESERVED_COLUMN_NAMES.includes(name)) {
    throw argumentTypeError(`${what}: "${name}" cannot be a column name, batches use it for their ${name}`);
  }
  return name;
}
