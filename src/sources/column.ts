// Column: how any memory becomes a column a DataLoader reads (the public
// source contract, see source.ts). A column is either
//  - fixed: rows of rowShape elements, row-major, in one region; or
//  - ragged: values plus Arrow-style offsets (row i is values[offsets[i],
//    offsets[i+1])), or plus separate starts and ends (row i is
//    values[starts[i], ends[i])), optionally padded/truncated to one length.
// A region is a TypedArray or a FileRegion (MappedFile.region()); the core
// reads it in place on its threads. Offsets are checked once here, in the
// core (one pass), so a bad column fails at construction, naming itself.
import { withCode } from '../errors.js';
import { argumentRangeError, argumentTypeError, ErrorCodes, sourceError } from '../error-codes.js';
import { isResizable } from '../loader/pinned-buffers.js';
import { type HugePageAdvice, native, type NativeColumn, type NativeMix, type NativeRegion } from '../native.js';
import { DTYPES, dtypeOf, type Dtype, type TypedArray } from '../typed-arrays.js';
import { describe } from '../validate.js';
import { adviseArray, adviseMapping } from './huge-page-advice.js';
import { FileRegion } from './mapped-file.js';

/** Memory a column reads in place: a TypedArray, or a typed range of a MappedFile. */
export type Region = TypedArray | FileRegion;

/** A ragged column in a batch: row j is values[offsets[j], offsets[j+1]); offsets has rows+1 entries from 0. */
export interface Ragged<T extends TypedArray = TypedArray> {
  readonly values: T;
  readonly offsets: Int32Array;
}

/**
 * A padded ragged column in a batch: values is [rows × length], row j's first
 * lengths[j] elements are its own (lengths[j] = min(record length, length)),
 * the rest are the pad value.
 */
export interface Padded<T extends TypedArray = TypedArray> {
  readonly values: T;
  readonly lengths: Int32Array;
}

/** What one column of a batch is. */
export type BatchColumn = TypedArray | Ragged | Padded;

/** Pad (or truncate) every row of a ragged column to `length` elements, filling with `value` (default 0). */
export interface PadOption {
  readonly length: number;
  readonly value?: number | bigint;
}

/** The offsets of a ragged column: n+1 Arrow offsets, or n starts and n ends, as int32 or int64. */
export type RaggedLayout =
  | { readonly offsets: Int32Array | BigInt64Array | FileRegion }
  | { readonly starts: Int32Array | BigInt64Array | FileRegion; readonly ends: Int32Array | BigInt64Array | FileRegion };

export type RaggedSpec<T extends TypedArray = TypedArray> = RaggedLayout & {
  readonly values: T | FileRegion;
  readonly pad?: PadOption;
};

/** @internal How the core reads a region: memory it is given, or part of a mapping. */
function nativeRegion(region: Region): NativeRegion {
  return region instanceof FileRegion
    ? { file: region.file.native, offset: region.byteOffset, bytes: region.byteLength }
    : { data: region };
}

const token = Symbol('Column');

/**
 * One column of a ColumnSource. Made by Column.fixed() or Column.ragged(),
 * which check it; pass columns to the ColumnSource constructor.
 */
export class Column<B extends BatchColumn = BatchColumn> {
  /** Carries the batch column's type; never set. */
  declare readonly __batch?: B;
  readonly name: string;
  readonly dtype: Dtype;
  readonly kind: 'fixed' | 'ragged';
  /** Records (rows). */
  readonly rows: number;
  /** Fixed: the shape of one record (empty for scalars). Ragged: empty (rows of scalars). */
  readonly rowShape: readonly number[];
  /** Ragged only: the padding applied, with its value resolved. */
  readonly pad: Readonly<{ length: number; value: number | bigint }> | undefined;
  /** Ragged only: elements in the longest record. */
  readonly maxRowLength: number | undefined;
  /** Transparent huge pages for this column's memory (see ColumnInfo.hugePages). */
  readonly hugePages: HugePageAdvice;
  /** @internal */
  readonly spec: NativeColumn;
  /** @internal The TypedArrays the core reads (pinned by a DataLoader). */
  readonly arrays: readonly TypedArray[];

  private constructor(
    key: symbol,
    fields: Omit<Column<B>, '__batch'>,
  ) {
    if (key !== token) throw argumentTypeError('use Column.fixed() or Column.ragged() to make a Column');
    this.name = fields.name;
    this.dtype = fields.dtype;
    this.kind = fields.kind;
    this.rows = fields.rows;
    this.rowShape = Object.freeze([...fields.rowShape]);
    this.pad = fields.pad === undefined ? undefined : Object.freeze({ ...fields.pad });
    this.maxRowLength = fields.maxRowLength;
    this.hugePages = fields.hugePages;
    this.spec = Object.freeze(fields.spec);
    this.arrays = Object.freeze([...fields.arrays]);
    Object.freeze(this);
  }

  /**
   * A column of fixed-size records: `data` holds rows × product(rowShape)
   * elements, row-major (rowShape defaults to [], one element per record).
   */
  static fixed<T extends TypedArray>(name: string, data: T | FileRegion, options: { rowShape?: readonly number[] } = {}): Column<T> {
    const where = `column "${checkName(name)}"`;
    const region = checkRegion(data, `${where}: data`);
    if (typeof options !== 'object' || options === null) throw argumentTypeError(`${where}: options must be an object, got ${describe(options)}`);
    const rowShape = checkRowShape(options.rowShape ?? [], `${where}: rowShape`);
    const rowLength = rowShape.reduce((a, b) => a * b, 1);
    const rows = region.length / rowLength;
    if (!Number.isInteger(rows)) {
      throw argumentRangeError(`${where}: ${region.length} elements are not whole rows of ${rowLength} (rowShape [${rowShape.join(', ')}])`);
    }
    checkRows(rows, where);
    const type = DTYPES[region.dtype];
    return new Column<T>(token, {
      name,
      dtype: region.dtype,
      kind: 'fixed',
      rows,
      rowShape,
      pad: undefined,
      maxRowLength: undefined,
      hugePages: advise(data),
      spec: { kind: 'fixed', name, data: nativeRegion(data), rowBytes: rowLength * type.BYTES_PER_ELEMENT, rows },
      arrays: data instanceof FileRegion ? [] : [data],
    });
  }

  /**
   * A column of variable-length records: `values` with n+1 `offsets` (Arrow's
   * layout; the first need not be 0) or n `starts` and n `ends`, as int32 or
   * int64 (BigInt64Array, or a FileRegion of dtype 'int32'/'int64'). Offsets
   * must stay within values and (Arrow layout) never decrease, or this throws
   * RP_SOURCE_INVALID naming the column and the offset. With `pad`, batches
   * hold rows padded or truncated to `pad.length` (a Padded column).
   */
  static ragged<T extends TypedArray>(name: string, spec: RaggedSpec<T> & { readonly pad: PadOption }): Column<Padded<T>>;
  static ragged<T extends TypedArray>(name: string, spec: RaggedSpec<T> & { readonly pad?: undefined }): Column<Ragged<T>>;
  static ragged<T extends TypedArray>(name: string, spec: RaggedSpec<T>): Column<Ragged<T> | Padded<T>>;
  static ragged(name: string, spec: RaggedSpec): Column<Ragged | Padded> {
    const where = `column "${checkName(name)}"`;
    if (typeof spec !== 'object' || spec === null) {
      throw argumentTypeError(`${where} must be { values, offsets } or { values, starts, ends }, got ${describe(spec)}`);
    }
    const values = checkRegion(spec.values, `${where}: values`);
    const hasOffsets = 'offsets' in spec && spec.offsets !== undefined;
    const hasStarts = 'starts' in spec && spec.starts !== undefined;
    if (hasOffsets === hasStarts) {
      throw argumentTypeError(`${where} needs either offsets (n+1 Arrow offsets) or starts and ends (n each), ${hasOffsets ? 'not both' : 'got neither'}`);
    }
    let starts: Region;
    let ends: Region | undefined;
    let rows: number;
    if (hasOffsets) {
      starts = (spec as { offsets: Region }).offsets;
      const o = checkOffsetsRegion(starts, `${where}: offsets`);
      if (o.length < 1) throw argumentRangeError(`${where}: offsets must hold n+1 entries (at least 1), got 0`);
      rows = o.length - 1;
    } else {
      starts = (spec as { starts: Region }).starts;
      ends = (spec as { ends?: Region }).ends;
      const s = checkOffsetsRegion(starts, `${where}: starts`);
      const e = checkOffsetsRegion(ends, `${where}: ends`);
      if (s.length !== e.length) throw argumentRangeError(`${where}: starts has ${s.length} entries but ends has ${e.length}`);
      if (s.dtype !== e.dtype) throw argumentTypeError(`${where}: starts and ends must have the same type, got ${s.dtype} and ${e.dtype}`);
      rows = s.length;
    }
    checkRows(rows, where);
    const offsets64 = regionDtype(starts) === 'int64';
    const pad = checkPad(spec.pad, values.dtype, `${where}: pad`);
    const type = DTYPES[values.dtype];
    let stats: { maxRow: number; total: number };
    try {
      stats = native().checkRaggedOffsets(nativeRegion(starts), ends === undefined ? undefined : nativeRegion(ends), offsets64, rows, values.length);
    } catch (cause) {
      const code = (cause as { code?: unknown }).code;
      if (code === ErrorCodes.SOURCE_INVALID) throw sourceError(`${where}: ${(cause as Error).message}`);
      throw cause;
    }
    let padBytes: Uint8Array | undefined;
    if (pad !== undefined) {
      const one = new (type as unknown as new (n: number) => TypedArray)(1);
      (one as unknown as (number | bigint)[])[0] = pad.value;
      padBytes = new Uint8Array(one.buffer);
    }
    const arrays = [spec.values, starts, ends].filter((r): r is TypedArray => r !== undefined && !(r instanceof FileRegion));
    return new Column<Ragged | Padded>(token, {
      name,
      dtype: values.dtype,
      kind: 'ragged',
      rows,
      rowShape: [],
      pad,
      maxRowLength: stats.maxRow,
      hugePages: advise(spec.values),
      spec: {
        kind: 'ragged',
        name,
        values: nativeRegion(spec.values),
        elementBytes: type.BYTES_PER_ELEMENT,
        starts: nativeRegion(starts),
        ends: ends === undefined ? undefined : nativeRegion(ends),
        offsets64,
        rows,
        maxRow: stats.maxRow,
        totalElements: stats.total,
        padLength: pad?.length ?? 0,
        padBytes,
      },
      arrays,
    });
  }

  /**
   * One column whose rows are the parts' rows, one part after another (an
   * Arrow file's record batches): parts made by Column.fixed or Column.ragged
   * of the same kind, dtype, rowShape, offset width and pad; their names are
   * ignored. The core finds each row's part in O(1) (rp::ChunkIndex); nothing is
   * copied or allocated per row.
   */
  static chunked<B extends BatchColumn>(name: string, parts: readonly Column<B>[]): Column<B> {
    const where = `column "${checkName(name)}"`;
    if (!Array.isArray(parts) || parts.length === 0) {
      throw argumentTypeError(`${where}: parts must be a non-empty array of Column, got ${describe(parts)}`);
    }
    const first = parts[0];
    parts.forEach((p: unknown, i) => {
      if (!(p instanceof Column)) throw argumentTypeError(`${where}: parts[${i}] must be a Column, got ${describe(p)}`);
      if (p.spec.kind === 'chunked') throw argumentTypeError(`${where}: parts[${i}] is itself chunked; pass its parts`);
      const a = first!;
      const same =
        p.kind === a.kind &&
        p.dtype === a.dtype &&
        p.rowShape.join(',') === a.rowShape.join(',') &&
        (p.spec.kind !== 'ragged' || a.spec.kind !== 'ragged' || p.spec.offsets64 === a.spec.offsets64) &&
        p.pad?.length === a.pad?.length &&
        p.pad?.value === a.pad?.value;
      if (!same) {
        throw argumentTypeError(`${where}: parts[${i}] (${p.kind} ${p.dtype} [${p.rowShape.join(', ')}]${p.pad ? ' padded' : ''}) differs from parts[0] (${a.kind} ${a.dtype} [${a.rowShape.join(', ')}]${a.pad ? ' padded' : ''})`);
      }
    });
    const rows = parts.reduce((sum, p) => sum + p.rows, 0);
    checkRows(rows, where);
    const lengths = parts.map((p) => p.maxRowLength).filter((m): m is number => m !== undefined);
    return new Column<B>(token, {
      name,
      dtype: first!.dtype,
      kind: first!.kind,
      rows,
      rowShape: first!.rowShape,
      pad: first!.pad,
      maxRowLength: lengths.length === 0 ? undefined : Math.max(...lengths),
      hugePages: first!.hugePages,
      spec: { kind: 'chunked', name, parts: parts.map((p) => p.spec) },
      arrays: parts.flatMap((p) => p.arrays),
    });
  }

  /**
   * @internal A mixed source's column (MixedSource): the sources' columns one
   * after another (their parts, for chunked ones), read through `mix`; it has
   * `records` records. The caller has checked the columns agree.
   */
  static mixed<B extends BatchColumn>(name: string, columns: readonly Column<B>[], mix: NativeMix, records: number): Column<B> {
    const first = columns[0]!;
    const parts = columns.flatMap((c) => (c.spec.kind === 'chunked' ? c.spec.parts : [c.spec]));
    const lengths = columns.map((p) => p.maxRowLength).filter((m): m is number => m !== undefined);
    return new Column<B>(token, {
      name,
      dtype: first.dtype,
      kind: first.kind,
      rows: records,
      rowShape: first.rowShape,
      pad: first.pad,
      maxRowLength: lengths.length === 0 ? undefined : Math.max(...lengths),
      hugePages: first.hugePages,
      spec: { kind: 'chunked', name, parts, mix },
      arrays: columns.flatMap((p) => p.arrays),
    });
  }
}

/** Batch fields that are not columns. */
const RESERVED_COLUMN_NAMES: readonly string[] = ['epoch', 'indices'];

/** Checks a column name (used as a batch key) and returns it. */
export function checkColumnName(name: string, what: string): string {
  if (typeof name !== 'string') throw argumentTypeError(`${what}: a column name must be a string, got ${describe(name)}`);
  if (name === '') throw argumentTypeError(`${what}: a column name must not be empty`);
  if (RESERVED_COLUMN_NAMES.includes(name)) {
    throw argumentTypeError(`${what}: "${name}" cannot be a column name, batches use it for their ${name}`);
  }
  return name;
}

function checkName(name: string): string {
  return checkColumnName(name, 'Column');
}

function regionDtype(region: Region): Dtype {
  return region instanceof FileRegion ? region.dtype : dtypeOf(region)!;
}

function checkRegion(region: unknown, where: string): { dtype: Dtype; length: number } {
  if (region instanceof FileRegion) return { dtype: region.dtype, length: region.length };
  const dtype = dtypeOf(region);
  if (dtype === undefined) throw argumentTypeError(`${where} must be a TypedArray or a FileRegion, got ${describe(region)}`);
  const array = region as TypedArray;
  if (isResizable(array)) {
    throw withCode(new TypeError(`${where} must not use a resizable or growable buffer`), ErrorCodes.BUFFER_RESIZABLE);
  }
  return { dtype, length: array.length };
}

function checkOffsetsRegion(region: unknown, where: string): { dtype: Dtype; length: number } {
  const r = checkRegion(region, where);
  if (r.dtype !== 'int32' && r.dtype !== 'int64') {
    throw argumentTypeError(`${where} must be an Int32Array or a BigInt64Array (or a FileRegion of int32/int64), got ${r.dtype}`);
  }
  return r;
}

function checkRows(rows: number, where: string): void {
  if (rows === 0) throw argumentRangeError(`${where}: the column is empty (0 records)`);
  const max = native().limits.maxRecords;
  if (rows > max) throw argumentRangeError(`${where}: ${rows} records exceed the 2^32 limit`);
}

function checkRowShape(shape: unknown, where: string): number[] {
  if (!Array.isArray(shape)) throw argumentTypeError(`${where} must be an array of dimensions, got ${describe(shape)}`);
  shape.forEach((d: unknown, i) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1) {
      throw argumentRangeError(`${where}[${i}] must be a positive integer, got ${describe(d)}`);
    }
  });
  return [...(shape as number[])];
}

function checkPad(pad: unknown, dtype: Dtype, where: string): { length: number; value: number | bigint } | undefined {
  if (pad === undefined) return undefined;
  if (typeof pad !== 'object' || pad === null) throw argumentTypeError(`${where} must be { length, value? }, got ${describe(pad)}`);
  const { length, value } = pad as { length?: unknown; value?: unknown };
  if (typeof length !== 'number') throw argumentTypeError(`${where}.length must be a number, got ${describe(length)}`);
  if (!Number.isSafeInteger(length) || length < 1 || length > 2 ** 31 - 1) {
    throw argumentRangeError(`${where}.length must be an integer in [1, 2^31 - 1], got ${length}`);
  }
  const big = dtype === 'int64' || dtype === 'uint64';
  if (value === undefined) return { length, value: big ? 0n : 0 };
  if (big) {
    if (typeof value !== 'bigint') throw argumentTypeError(`${where}.value must be a bigint for ${dtype} values, got ${describe(value)}`);
    const fits = dtype === 'int64' ? BigInt.asIntN(64, value) === value : BigInt.asUintN(64, value) === value;
    if (!fits) throw argumentRangeError(`${where}.value ${value} does not fit ${dtype}`);
    return { length, value };
  }
  if (typeof value !== 'number') throw argumentTypeError(`${where}.value must be a number for ${dtype} values, got ${describe(value)}`);
  if (dtype !== 'float32' && dtype !== 'float64') {
    const one = new (DTYPES[dtype] as unknown as new (n: number) => { 0: number })(1);
    one[0] = value;
    if (one[0] !== value) throw argumentRangeError(`${where}.value ${value} is not a ${dtype} value`);
  }
  return { length, value };
}

function advise(region: Region): HugePageAdvice {
  return region instanceof FileRegion ? adviseMapping(region.file.native) : adviseArray(region);
}
