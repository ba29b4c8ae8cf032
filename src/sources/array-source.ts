// In-memory columns, built on the public contract (Column, ColumnSource). The
// DataLoader's C++ threads read straight from these arrays, so they must stay
// attached (not transferred) while a loader uses them.
import type { TypedArray } from '../typed-arrays.js';
import { describe } from '../validate.js';
import { Column, type PadOption, type Padded, type Ragged } from './column.js';
import { checkColumnName, type ColumnInfo, ColumnSource, type Columns, dtypeOf, maxRecords } from './source.js';
import { argumentRangeError, argumentTypeError, ErrorCodes } from '../error-codes.js';
import { withCode } from '../errors.js';
import { isResizable } from '../loader/pinned-buffers.js';

/** A fixed column: its data, row-major, and its shape [records, ...rowShape]. */
export interface ColumnSpec<T extends TypedArray = TypedArray> {
  data: T;
  shape: readonly number[];
}

/** A ragged column: values and n+1 offsets (Int32Array, or BigInt64Array for large columns), optionally padded. */
export interface RaggedColumnSpec<T extends TypedArray = TypedArray> {
  values: T;
  offsets: Int32Array | BigInt64Array;
  pad?: PadOption;
}

export type ArrayColumnSpec = ColumnSpec | RaggedColumnSpec;

/** What a batch holds for a column spec. */
export type BatchColumnOf<S> = S extends { data: infer T extends TypedArray }
  ? T
  : S extends { values: infer T extends TypedArray; pad: PadOption }
    ? Padded<T>
    : S extends { values: infer T extends TypedArray }
      ? Ragged<T>
      : never;

export interface ArrayColumnInfo<T extends TypedArray = TypedArray> extends ColumnInfo {
  /** Fixed columns: the data. Ragged: the values. */
  readonly data: T;
  /** Ragged columns: the offsets. */
  readonly offsets?: Int32Array | BigInt64Array;
}

class ArraySourceImpl<C extends Columns = Columns> extends ColumnSource<C> {
  declare readonly columns: readonly ArrayColumnInfo[];

  /**
   * @param columns name → { data, shape } (fixed: every shape starts with the
   * same record count n >= 1, and data holds exactly product(shape) elements)
   * or { values, offsets, pad? } (ragged: n+1 offsets into values).
   */
  constructor(columns: Record<string, ArrayColumnSpec>) {
    if (typeof columns !== 'object' || columns === null || Array.isArray(columns)) {
      throw argumentTypeError(`columns must be an object of { data, shape } or { values, offsets } specs, got ${describe(columns)}`);
    }
    const entries = Object.entries(columns as Record<string, unknown>);
    if (entries.length === 0) throw argumentRangeError('columns must name at least one column');
    const made = entries.map(([name, spec]) => makeColumn(name, spec));
    const first = made[0]!;
    for (const c of made) {
      if (c.rows !== first.rows) {
        throw argumentRangeError(`columns.${c.name} has ${c.rows} records but columns.${first.name} has ${first.rows}; every column needs the same count`);
      }
    }
    super(made);
    const infos = this.columns.map((info, i) => {
      const spec = entries[i]![1] as { data?: TypedArray; values?: TypedArray; offsets?: Int32Array | BigInt64Array };
      const extra = spec.data !== undefined ? { data: spec.data } : { data: spec.values!, offsets: spec.offsets! };
      return Object.freeze({ ...info, ...extra });
    });
    (this as { columns: readonly ArrayColumnInfo[] }).columns = Object.freeze(infos);
  }
}

function makeColumn(name: string, spec: unknown): Column {
  const where = `columns.${name}`;
  if (typeof spec !== 'object' || spec === null) throw argumentTypeError(`${where} must be { data, shape } or { values, offsets }, got ${describe(spec)}`);
  if ('values' in spec || 'offsets' in spec) {
    const { values, offsets, pad } = spec as { values?: unknown; offsets?: unknown; pad?: unknown };
    return Column.ragged(name, { values, offsets, pad } as never);
  }
  checkColumnName(name, 'columns');
  const { data, shape } = spec as { data?: unknown; shape?: unknown };
  if (dtypeOf(data) === undefined) throw argumentTypeError(`${where}.data must be a TypedArray, got ${describe(data)}`);
  const array = data as TypedArray;
  if (isResizable(array)) {
    throw withCode(new TypeError(`${where}.data must not use a resizable or growable buffer`), ErrorCodes.BUFFER_RESIZABLE);
  }
  const dims = checkShape(shape, `${where}.shape`);
  if (dims[0]! > maxRecords()) throw argumentRangeError(`${where}.shape: ${dims[0]} records exceed the 2^32 limit`);
  const need = dims.reduce((a, b) => a * b, 1);
  if (need !== array.length) throw argumentRangeError(`${where}: shape [${dims.join(', ')}] needs ${need} elements, data has ${array.length}`);
  return Column.fixed(name, array, { rowShape: dims.slice(1) });
}

function checkShape(shape: unknown, name: string): number[] {
  if (!Array.isArray(shape) || shape.length === 0) {
    throw argumentTypeError(`${name} must be a non-empty array [records, ...rowShape], got ${describe(shape)}`);
  }
  shape.forEach((d: unknown, i) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw argumentRangeError(`${name}[${i}] must be a non-negative integer, got ${describe(d)}`);
    }
    if (i > 0 && d === 0) throw argumentRangeError(`${name}[${i}] is 0: rows must not be empty`);
  });
  if (shape[0] === 0) throw argumentRangeError(`${name}: the source is empty (0 records)`);
  return shape as number[];
}

/** In-memory columns: fixed ({ data, shape }) or ragged ({ values, offsets, pad? }). */
export type ArraySource<C extends Columns = Columns> = ArraySourceImpl<C>;

interface ArraySourceConstructor {
  new <S extends Record<string, ArrayColumnSpec>>(columns: S): ArraySource<{ [K in keyof S]: BatchColumnOf<S[K]> }>;
  readonly prototype: ArraySource;
}

Object.defineProperty(ArraySourceImpl, 'name', { value: 'ArraySource' });
export const ArraySource: ArraySourceConstructor = ArraySourceImpl as unknown as ArraySourceConstructor;
