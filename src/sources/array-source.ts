// In-memory columns. The DataLoader's C++ threads read straight from these
// arrays, so they must stay attached (not transferred) while a loader uses them.
import type { TypedArray } from '../loader/gather.js';
import { withCode } from '../errors.js';
import { isResizable } from '../loader/pinned-buffers.js';
import { adviseArray } from './huge-page-advice.js';
import { describe } from '../validate.js';
import {
  checkColumnName,
  type ColumnInfo,
  ColumnSource,
  type ColumnStorage,
  type Columns,
  DTYPES,
  type Dtype,
  dtypeOf,
  maxRecords,
  rowLengthOf,
} from './source.js';
import { argumentRangeError, argumentTypeError, ErrorCodes } from '../error-codes.js';

/** One column: its data, row-major, and its shape [records, ...rowShape]. */
export interface ColumnSpec<T extends TypedArray = TypedArray> {
  data: T;
  shape: readonly number[];
}

export interface ArrayColumnInfo<T extends TypedArray = TypedArray> extends ColumnInfo {
  readonly data: T;
}


export class ArraySource<C extends Columns = Columns> extends ColumnSource<C> {
  readonly length: number;
  readonly columns: readonly ArrayColumnInfo[];

  /**
   * @param columns name → { data, shape }. Every shape starts with the same
   * record count n >= 1, and data holds exactly product(shape) elements.
   */
  constructor(columns: { [K in keyof C]: ColumnSpec<C[K]> }) {
    super();
    if (typeof columns !== 'object' || columns === null || Array.isArray(columns)) {
      throw argumentTypeError(`columns must be an object of { data, shape } specs, got ${describe(columns)}`);
    }
    const entries = Object.entries(columns as Record<string, unknown>);
    if (entries.length === 0) throw argumentRangeError('columns must name at least one column');
    const infos: ArrayColumnInfo[] = [];
    let length: number | undefined;
    let first = '';
    for (const [name, spec] of entries) {
      const where = `columns.${name}`;
      checkColumnName(name, 'columns');
      if (typeof spec !== 'object' || spec === null) throw argumentTypeError(`${where} must be { data, shape }, got ${describe(spec)}`);
      const { data, shape } = spec as { data?: unknown; shape?: unknown };
      const dtype = dtypeOf(data);
      if (dtype === undefined) throw argumentTypeError(`${where}.data must be a TypedArray, got ${describe(data)}`);
      const array = data as TypedArray;
      if (isResizable(array)) {
        throw withCode(new TypeError(`${where}.data must not use a resizable or growable buffer`), ErrorCodes.BUFFER_RESIZABLE);
      }
      const dims = checkShape(shape, `${where}.shape`);
      const n = dims[0]!;
      if (n === 0) throw argumentRangeError(`${where}.shape: the source is empty (0 records)`);
      if (n > maxRecords()) throw argumentRangeError(`${where}.shape: ${n} records exceed the 2^32 limit`);
      const rowShape = dims.slice(1);
      const rowLength = rowLengthOf(rowShape);
      if (n * rowLength !== array.length) {
        throw argumentRangeError(`${where}: shape [${dims.join(', ')}] needs ${n * rowLength} elements, data has ${array.length}`);
      }
      if (length === undefined) {
        length = n;
        first = name;
      } else if (n !== length) {
        throw argumentRangeError(`${where} has ${n} records but columns.${first} has ${length}; every column needs the same count`);
      }
      infos.push(Object.freeze({ name, dtype, rowShape: Object.freeze(rowShape), hugePages: adviseArray(array), data: array }));
    }
    this.length = length!;
    this.columns = Object.freeze(infos);
  }

  /** @internal */
  storage(): readonly ColumnStorage[] {
    return this.columns.map((c) => {
      const type = DTYPES[c.dtype as Dtype];
      const rowLength = rowLengthOf(c.rowShape);
      return { name: c.name, type, rowLength, native: { data: c.data, rowBytes: rowLength * type.BYTES_PER_ELEMENT } };
    });
  }
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
  return shape as number[];
}
