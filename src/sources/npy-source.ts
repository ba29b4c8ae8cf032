// .npy files, memory-mapped read-only by the core: the kernel pages rows in as
// the loader's threads touch them, so a dataset may be larger than RAM. Do
// not modify or truncate a file while a source maps it.
import { SourceOpenError } from '../errors.js';
import type { TypedArray } from '../loader/gather.js';
import { describe } from '../validate.js';
import { Column } from './column.js';
import { MappedFile } from './mapped-file.js';
import { NPY_PREAMBLE_MAX, type NpyHeader, parseNpyHeader, parseNpyPreamble } from './npy-header.js';
import { checkColumnName, type ColumnInfo, columnInfo, ColumnSource, type Columns, DTYPES, maxRecords, rowLengthOf } from './source.js';
import { argumentRangeError, argumentTypeError, sourceError } from '../error-codes.js';

export interface NpyColumnInfo extends ColumnInfo {
  readonly path: string;
  /** The numpy dtype string from the header, e.g. '<f4'. */
  readonly descr: string;
}

interface NpyColumn {
  readonly info: NpyColumnInfo;
  readonly file: MappedFile;
  readonly header: NpyHeader;
  readonly column: Column;
  readonly rows: number;
  readonly rowLength: number;
}

/** Node caps an external ArrayBuffer at 4 GiB; array() views are limited to that. */
const MAX_VIEW_BYTES = 2 ** 32;

/** .npy files, memory-mapped; built on the public contract (MappedFile, Column, ColumnSource). */
export class NpySource<C extends Columns = Columns> extends ColumnSource<C> {
  declare readonly columns: readonly NpyColumnInfo[];
  private readonly mapped: readonly NpyColumn[];

  private constructor(mapped: NpyColumn[]) {
    super(mapped.map((m) => m.column));
    this.mapped = mapped;
    (this as { columns: readonly NpyColumnInfo[] }).columns = Object.freeze(mapped.map((m) => m.info));
  }

  /**
   * Maps one .npy file (its batches have one column, `data`), or a map of
   * column name → .npy file, whose first dimensions must agree. The dtypes
   * are known only at run time; name the column types as a type argument
   * (e.g. `NpySource.open<{ x: Float32Array }>({ x: 'x.npy' })`) to get them
   * in the batch type.
   */
  static open<T extends TypedArray = TypedArray>(path: string): NpySource<{ data: T }>;
  static open<K extends string>(paths: Record<K, string>): NpySource<Record<K, TypedArray>>;
  static open<C extends Columns>(paths: { [K in keyof C]: string }): NpySource<C>;
  static open(paths: string | Record<string, string>): NpySource {
    let entries: [string, unknown][];
    if (typeof paths === 'string') {
      entries = [['data', paths]];
    } else if (typeof paths === 'object' && paths !== null && !Array.isArray(paths)) {
      entries = Object.entries(paths);
      if (entries.length === 0) throw argumentRangeError('paths must name at least one column');
    } else {
      throw argumentTypeError(`paths must be a file path or an object of column name → path, got ${describe(paths)}`);
    }
    const mapped: NpyColumn[] = [];
    for (const [name, path] of entries) {
      checkColumnName(name, 'paths');
      if (typeof path !== 'string' || path === '') {
        throw argumentTypeError(`paths.${name} must be a non-empty string, got ${describe(path)}`);
      }
      const column = openColumn(name, path);
      const first = mapped[0];
      if (first !== undefined && column.rows !== first.rows) {
        throw sourceError(
          `${path} has ${column.rows} records but ${first.info.path} has ${first.rows}; every column needs the same count`,
        );
      }
      mapped.push(column);
    }
    return new NpySource(mapped);
  }

  /** A zero-copy view of a whole column (at most 4 GiB), e.g. to inspect rows. */
  array(name: string = this.columns[0]!.name): TypedArray {
    const m = this.mapped.find((c) => c.info.name === name);
    if (m === undefined) throw argumentRangeError(`name "${name}" is not a column of this source`);
    const type = DTYPES[m.info.dtype];
    const bytes = m.rows * m.rowLength * type.BYTES_PER_ELEMENT;
    if (bytes > MAX_VIEW_BYTES) {
      throw sourceError(`column "${name}" (${m.info.path}) has ${bytes} bytes, more than a 4 GiB view can show`);
    }
    return new type(m.file.bytes(m.header.dataOffset, bytes).buffer);
  }
}

function openColumn(name: string, path: string): NpyColumn {
  let file: MappedFile;
  try {
    file = MappedFile.open(path);
  } catch (err) {
    if (!(err instanceof SourceOpenError)) throw err;
    throw new SourceOpenError(path, `cannot open .npy file ${err.message.slice('cannot open '.length)}`, { cause: err.cause });
  }
  const size = file.byteLength;
  const preamble = file.bytes(0, Math.min(size, NPY_PREAMBLE_MAX));
  const { dataOffset } = parseNpyPreamble(preamble, path);
  // A file shorter than its header is reported as truncated by parseNpyHeader.
  const header = parseNpyHeader(file.bytes(0, Math.min(size, dataOffset)), path);
  const { shape, dtype, fortranOrder } = header;
  if (shape.length === 0) throw sourceError(`${path} holds a 0-d array; a source needs a first dimension of records`);
  const rows = shape[0]!;
  if (rows === 0) throw sourceError(`${path} is empty (0 records)`);
  if (rows > maxRecords()) throw sourceError(`${path} has ${rows} records, more than the 2^32 limit`);
  const rowShape = shape.slice(1);
  if (rowShape.some((d) => d === 0)) throw sourceError(`${path} has shape (${shape.join(', ')}): rows must not be empty`);
  // Fortran order only changes the layout when two or more dimensions exceed 1.
  if (fortranOrder && shape.filter((d) => d > 1).length > 1) {
    throw sourceError(`${path} is in Fortran order; save it C-contiguous (numpy.ascontiguousarray) to load it by rows`);
  }
  const type = DTYPES[dtype];
  if (dataOffset % type.BYTES_PER_ELEMENT !== 0) {
    throw sourceError(`${path}: data starts at byte ${dataOffset}, not aligned to its ${type.BYTES_PER_ELEMENT}-byte elements`);
  }
  const rowLength = rowLengthOf(rowShape);
  const need = rows * rowLength * type.BYTES_PER_ELEMENT;
  if (size - dataOffset < need) {
    throw sourceError(`${path} is truncated: shape (${shape.join(', ')}) of '${header.descr}' needs ${need} bytes of data, the file has ${size - dataOffset}`);
  }
  const column = Column.fixed(name, file.region(dataOffset, rows * rowLength, dtype), { rowShape });
  const info: NpyColumnInfo = Object.freeze({ ...columnInfo(column), path, descr: header.descr });
  return { info, file, header, rows, rowLength, column };
}
