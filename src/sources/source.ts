// What a DataLoader reads. A column source is a ColumnSource: columns of
// fixed-size rows or of variable-length (ragged) rows, which the core copies
// into contiguous batches on its own threads; any object with `length` and
// `get(i)` is a record source, whose batches are arrays.
//
// THE PUBLIC SOURCE CONTRACT (README, "Writing a source"). Any memory becomes
// a fast column through three public pieces, and nothing else:
//  - regions: a TypedArray, or `MappedFile.open(path).region(offset, length,
//    dtype)` (a typed range of a read-only mapping, any size; the binding
//    shares the mapping with every loader reading it, so lifetimes are
//    handled), plus `file.bytes(offset, length)` for headers/footers;
//  - `Column.fixed(name, data, { rowShape })` and `Column.ragged(name,
//    { values, offsets } | { values, starts, ends }, pad?)`, which check the
//    column once (offsets in the core, one pass) and throw naming it;
//  - `new ColumnSource(columns)` (or `super(columns)` in a subclass), which
//    checks that every column has the same record count.
// ArraySource and NpySource (and ArrowSource, JsonlSource) are subclasses
// built only on these. Batches: a fixed column is a TypedArray of rows ×
// rowLength elements; a ragged one is `{ values, offsets }` (Ragged); a padded
// one `{ values, lengths }` (Padded); all are views into the batch's memory.
import { argumentRangeError, argumentTypeError, sourceError } from '../error-codes.js';
import { native } from '../native.js';
import { dtypeOf, DTYPES, type Dtype, type TypedArrayConstructor } from '../typed-arrays.js';
import { describe } from '../validate.js';
import type { ColumnBatch } from '../loader/batch.js';
import { type BatchColumn, checkColumnName, Column } from './column.js';

export { dtypeOf, DTYPES, type Dtype, type TypedArrayConstructor, checkColumnName };

/** Any random-access collection: records 0..length-1, read with get(i). */
export interface RandomAccessSource<T = unknown> {
  readonly length: number;
  get(index: number): T;
}

/** Column name to what a batch holds for it: a TypedArray, Ragged or Padded. */
export type Columns = Record<string, BatchColumn>;

/** Records a source may hold: indices are 32-bit in the core (rp::BatchSchedule::kMaxRecords). */
export function maxRecords(): number {
  return native().limits.maxRecords;
}

export interface ColumnInfo {
  readonly name: string;
  readonly dtype: Dtype;
  /** 'fixed' rows of rowShape, or 'ragged' (variable-length) rows. */
  readonly kind: 'fixed' | 'ragged';
  /** The shape of one record (empty for scalars and for ragged columns); a fixed batch holds rows × product(rowShape) elements. */
  readonly rowShape: readonly number[];
  /** Ragged columns padded or truncated to one length: that length and the pad value. */
  readonly pad?: Readonly<{ length: number; value: number | bigint }> | undefined;
  /**
   * Transparent huge pages for this column's memory (64 MiB or more): `'collapsed'` (huge pages
   * now), `'advised'` (the kernel moves to them over time) or `'none'` (small, refused, or
   * RP_HUGE_PAGES=0). Never changes the data.
   */
  readonly hugePages: 'collapsed' | 'advised' | 'none';
}

const columnsOfSource = new WeakMap<object, readonly Column[]>();

/**
 * A source whose records are rows of columns (see Column). Use it directly,
 * `new ColumnSource<{ tokens: Ragged<Int32Array> }>([Column.ragged(...)])`,
 * or subclass it; C names what the core's batches hold, B what the loader
 * yields (see decodeBatch).
 */
export class ColumnSource<C extends Columns = Columns, B = ColumnBatch<C>> {
  /** Carry the batch types for DataLoader; never set. */
  declare readonly __columns?: C;
  declare readonly __batch?: B;

  /** The number of records. */
  readonly length: number;

  readonly columns: readonly ColumnInfo[];

  /**
   * @param columns at least one Column (Column.fixed, Column.ragged), with
   * distinct names and the same record count.
   */
  constructor(columns: readonly Column[]) {
    if (!Array.isArray(columns)) throw argumentTypeError(`columns must be an array of Column, got ${describe(columns)}`);
    if (columns.length === 0) throw argumentRangeError('columns must hold at least one Column');
    const names = new Set<string>();
    columns.forEach((c: unknown, i) => {
      if (!(c instanceof Column)) throw argumentTypeError(`columns[${i}] must be a Column (Column.fixed, Column.ragged), got ${describe(c)}`);
      if (names.has(c.name)) throw argumentRangeError(`columns[${i}]: two columns are named "${c.name}"`);
      names.add(c.name);
      const first = columns[0]!;
      if (c.rows !== first.rows) {
        throw sourceError(`column "${c.name}" has ${c.rows} records but column "${first.name}" has ${first.rows}; every column needs the same count`);
      }
    });
    this.length = columns[0]!.rows;
    this.columns = Object.freeze(columns.map(columnInfo));
    columnsOfSource.set(this, Object.freeze([...columns]));
  }

  /**
   * Turns each batch the core assembled (its columns' views, `epoch`,
   * `indices`) into what the DataLoader yields, before `map`. The default
   * yields it as it is; a subclass may override it to decode (JsonlSource
   * parses its JSON). If it throws, the loader keeps the batch and does not
   * advance its state, as when `map` throws. A decoded batch should carry
   * `indices` for `recycle` (and `epoch`) if it is to be recycled.
   */
  decodeBatch(batch: ColumnBatch<C>): B {
    return batch as unknown as B;
  }
}

/** The public description of a column. */
export function columnInfo(c: Column): ColumnInfo {
  const info: ColumnInfo = { name: c.name, dtype: c.dtype, kind: c.kind, rowShape: c.rowShape, hugePages: c.hugePages };
  return Object.freeze(c.pad === undefined ? info : { ...info, pad: c.pad });
}

/** @internal The columns a ColumnSource was made of, for the DataLoader. */
export function columnsOf(source: object): readonly Column[] {
  const columns = columnsOfSource.get(source);
  if (columns === undefined) throw argumentTypeError('source is a ColumnSource whose constructor did not run');
  return columns;
}

/** Elements per row for a row shape. */
export function rowLengthOf(rowShape: readonly number[]): number {
  return rowShape.reduce((a, b) => a * b, 1);
}
