// Arrow IPC files (Feather v2) and streams (what Hugging Face `datasets`
// writes), memory-mapped; one file, a list of them, or a `save_to_disk`
// directory (its state.json lists the shards) read as one source.
// apache-arrow decodes the schema, the footer (files) and each record batch's
// metadata (small flatbuffers, read through copy-on-write views); a stream's
// record batches are found by walking its message headers once. The columns'
// buffers are never read in JavaScript: they become FileRegions that the core
// gathers from in place. Only bool columns are copied (unpacked from bits to
// one byte per record at open), as no TypedArray holds bits.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordBatch as BatchHeader } from 'apache-arrow/ipc/metadata/message';
import type { Field, Schema } from 'apache-arrow/schema';
import type { DataType } from 'apache-arrow/type';
import { argumentRangeError, argumentTypeError, ErrorCodes, sourceError } from '../error-codes.js';
import { DTYPES, type Dtype } from '../typed-arrays.js';
import { describe } from '../validate.js';
import { checkFooterBytes, checkMessage, checkMessageBytes } from './arrow-metadata-check.js';
import { type ArrowModules, arrowModules } from './arrow-modules.js';
import { Column } from './column.js';
import { type FileRegion, MappedFile } from './mapped-file.js';
import { checkColumnName, type ColumnInfo, type Columns, ColumnSource } from './source.js';

export interface ArrowSourceOptions {
  /** The columns to read, by name, in this order (default: every column of the file). */
  readonly columns?: readonly string[];
}

export interface ArrowColumnInfo extends ColumnInfo {
  /** The column's Arrow type, as apache-arrow prints it (e.g. 'Int32', 'LargeList<Float32>'). */
  readonly arrowType: string;
}

// "ARROW1" then two bytes of padding opens a file; the footer ends it.
const MAGIC = 'ARROW1';
const HEADER_BYTES = 8;
const TRAILER_BYTES = 10; // int32 footer length + "ARROW1"

/** How a supported Arrow type reads: fixed rows (rowShape) of dtype, bools, or ragged values. */
type Layout =
  | { kind: 'fixed'; dtype: Dtype; rowShape: number[] }
  | { kind: 'bool' }
  | { kind: 'bytes'; offsets: 'int32' | 'int64' }
  | { kind: 'list'; offsets: 'int32' | 'int64'; dtype: Dtype };

/** A field's place in a record batch: its first field node and first buffer (IPC order, depth-first). */
interface Slot {
  readonly node: number;
  readonly buffer: number;
}

interface Selected {
  readonly field: Field;
  readonly layout: Layout;
  readonly slot: Slot;
}

/** One file of an ArrowSource. */
export interface ArrowShard {
  readonly path: string;
  readonly format: 'file' | 'stream';
  /** Records in this file (its rows follow the previous shards' rows). */
  readonly records: number;
  readonly recordBatches: number;
}

/** A file's schema and its record batches, found without reading their data. */
interface Indexed {
  readonly path: string;
  readonly file: MappedFile;
  readonly format: 'file' | 'stream';
  readonly fields: readonly Field[];
  readonly batches: Batch[];
}

export class ArrowSource<C extends Columns = Columns> extends ColumnSource<C> {
  /** What was opened: the file, the directory, or (for a list) the first file. */
  readonly path: string;
  /** Record batches in all files (each column is read as one sequence of them). */
  readonly recordBatches: number;
  /** The files, in order; one for a single file. */
  readonly shards: readonly ArrowShard[];
  declare readonly columns: readonly ArrowColumnInfo[];

  private constructor(path: string, shards: ArrowShard[], columns: Column[], types: string[]) {
    super(columns);
    this.path = path;
    this.shards = Object.freeze(shards.map((s) => Object.freeze(s)));
    this.recordBatches = shards.reduce((sum, s) => sum + s.recordBatches, 0);
    this.columns = Object.freeze(this.columns.map((info, i) => Object.freeze({ ...info, arrowType: types[i]! })));
  }

  /**
   * Maps Arrow IPC data and reads its schema and record batch metadata:
   *  - a file path: the IPC file format (Feather v2) or the IPC stream format
   *    (a stream's record batches are indexed once from its message headers);
   *  - a directory written by Hugging Face `Dataset.save_to_disk`: the files
   *    its state.json lists (`_data_files`), in order, as one source;
   *  - an array of file paths: those files, in order, as one source.
   * Several files must agree on the columns read (names and types), or this
   * throws RP_SOURCE_INVALID naming the file and the column.
   * Columns: every integer and float type but float16 (their TypedArray),
   * bool (Uint8Array of 0/1), FixedSizeList of those (rowShape, nested lists
   * give more dimensions), Utf8, LargeUtf8, Binary, LargeBinary (ragged
   * Uint8Array), List and LargeList of a numeric type (ragged). Refused, with
   * RP_SOURCE_INVALID naming the file, the column and the reason: nulls,
   * dictionary encoding, structs, nested lists, other types, body
   * compression and truncated files.
   */
  static open<C extends Columns = Columns>(path: string | readonly string[], options: ArrowSourceOptions = {}): ArrowSource<C> {
    if (typeof options !== 'object' || options === null) throw argumentTypeError(`options must be an object, got ${describe(options)}`);
    const wanted = checkColumnsOption(options.columns);
    const paths = shardPaths(path);
    const shards = paths.map((p) => indexFile(p));
    const first = shards[0]!;
    const fields = first.fields;
    const slots = fieldSlots(fields);
    if (fields.length === 0) throw sourceError(`${first.path} has no columns`);
    const names = wanted ?? fields.map((f) => f.name);
    names.forEach((name, i) => {
      if (wanted === undefined && names.indexOf(name) !== i) throw sourceError(`${first.path} has two columns named "${name}"; pick one with options.columns`);
      try {
        checkColumnName(name, 'column');
      } catch (cause) {
        throw withCause(sourceError(`${first.path}: column "${name}" cannot be read: ${(cause as Error).message}${wanted === undefined ? '; leave it out with options.columns' : ''}`), cause);
      }
    });
    const selected: Selected[] = names.map((name) => {
      const index = fields.findIndex((f) => f.name === name);
      if (index < 0) throw argumentRangeError(`options.columns: ${first.path} has no column "${name}" (it has ${fields.map((f) => `"${f.name}"`).join(', ')})`);
      const field = fields[index]!;
      return { field, layout: layoutOf(field, first.path), slot: slots[index]! };
    });
    if (selected.length === 0) throw argumentRangeError(`options.columns must name at least one column`);
    // Every other file: the same columns (all of them when none are named), of the same types.
    const perShard = shards.map((shard, k) => (k === 0 ? selected : agree(shard, k, first, selected, wanted === undefined)));
    const rows = shards.reduce((sum, shard) => sum + shard.batches.reduce((n, b) => n + b.header.length, 0), 0);
    if (rows === 0) throw sourceError(`${paths.length === 1 ? first.path : `${typeof path === 'string' ? path : first.path} (${paths.length} files)`} holds no records`);
    const columns = selected.map((s, c) => {
      const parts: Column[] = [];
      for (let k = 0; k < shards.length; k++) {
        const shard = shards[k]!;
        const sel = perShard[k]![c]!;
        try {
          parts.push(...readColumn(shard.file, shard.path, sel, shard.batches));
        } catch (cause) {
          // The contract's own checks (offsets, regions) fail as RP_INVALID_ARGUMENT: here the file is at fault.
          if ((cause as { code?: unknown }).code !== ErrorCodes.INVALID_ARGUMENT) throw cause;
          throw withCause(sourceError(`${shard.path}: column "${sel.field.name}" cannot be read: ${(cause as Error).message}`), cause);
        }
      }
      if (parts.length === 0) throw sourceError(`${first.path}: column "${s.field.name}" holds no records`);
      return parts.length === 1 ? parts[0]! : Column.chunked(s.field.name, parts);
    });
    const info: ArrowShard[] = shards.map((shard) => ({
      path: shard.path,
      format: shard.format,
      records: shard.batches.reduce((n, b) => n + b.header.length, 0),
      recordBatches: shard.batches.length,
    }));
    return new ArrowSource<C>(typeof path === 'string' ? path : first.path, info, columns, selected.map((s) => String(s.field.type)));
  }
}

/** The files to read: one file, a save_to_disk directory's shards, or a list. */
function shardPaths(path: unknown): string[] {
  if (Array.isArray(path)) {
    if (path.length === 0) throw argumentRangeError('path must name at least one file, got an empty array');
    path.forEach((p: unknown, i) => {
      if (typeof p !== 'string' || p === '') throw argumentTypeError(`path[${i}] must be a non-empty string, got ${describe(p)}`);
    });
    return [...(path as string[])];
  }
  if (typeof path !== 'string' || path === '') throw argumentTypeError(`path must be a non-empty string or an array of them, got ${describe(path)}`);
  let directory = false;
  try {
    directory = statSync(path).isDirectory();
  } catch {
    return [path]; // MappedFile.open names what is wrong
  }
  return directory ? stateJsonShards(path) : [path];
}

/** The data files a Hugging Face `save_to_disk` directory lists in its state.json (`_data_files`), in order. */
function stateJsonShards(dir: string): string[] {
  const statePath = join(dir, 'state.json');
  let text: string;
  try {
    text = readFileSync(statePath, 'utf8');
  } catch (cause) {
    throw withCause(sourceError(`${dir} is a directory without a readable state.json (${(cause as Error).message}); ArrowSource reads a directory written by Hugging Face Dataset.save_to_disk, or pass a list of .arrow files`), cause);
  }
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch (cause) {
    throw withCause(sourceError(`${statePath} is not valid JSON: ${(cause as Error).message}`), cause);
  }
  const files = (state as { _data_files?: unknown } | null)?._data_files;
  if (!Array.isArray(files) || files.length === 0) throw sourceError(`${statePath}: "_data_files" must be a non-empty array of { filename }, got ${describe(files)}`);
  return files.map((f: unknown, i) => {
    const name = (f as { filename?: unknown } | null)?.filename;
    if (typeof name !== 'string' || name === '' || name.includes('/') || name.includes('\\') || name === '..') {
      throw sourceError(`${statePath}: _data_files[${i}].filename must be a file name in the directory, got ${describe(name)}`);
    }
    return join(dir, name);
  });
}

/** Shard k's columns for the selected ones of the first shard, checked to agree. */
function agree(shard: Indexed, k: number, first: Indexed, selected: Selected[], all: boolean): Selected[] {
  const fields = shard.fields;
  const slots = fieldSlots(fields);
  if (all) {
    const mine = fields.map((f) => f.name).join(', ');
    const theirs = first.fields.map((f) => f.name).join(', ');
    if (mine !== theirs) throw sourceError(`${shard.path} (file ${k}) has the columns [${mine}] but ${first.path} has [${theirs}]; the files must agree (or name the columns with options.columns)`);
  }
  return selected.map((s) => {
    const index = fields.findIndex((f) => f.name === s.field.name);
    if (index < 0) throw sourceError(`${shard.path} (file ${k}) has no column "${s.field.name}", which ${first.path} has`);
    const field = fields[index]!;
    if (String(field.type) !== String(s.field.type)) {
      throw sourceError(`${shard.path} (file ${k}): column "${field.name}" is ${String(field.type)} but ${first.path} has ${String(s.field.type)}; the files must agree`);
    }
    return { field, layout: layoutOf(field, shard.path), slot: slots[index]! };
  });
}

/** Maps one file and finds its schema and record batches (file or stream format). */
function indexFile(path: string): Indexed {
  const file = MappedFile.open(path);
  const head = file.bytes(0, Math.min(file.byteLength, HEADER_BYTES));
  if (ascii(head.subarray(0, 6)) === MAGIC) {
    const footer = readFooter(file);
    const batches = [...footer.recordBatches()].map((block, k) => readBatch(file, block, k, path));
    return { path, file, format: 'file', fields: footer.schema.fields, batches };
  }
  return readStream(file);
}

function checkColumnsOption(columns: unknown): string[] | undefined {
  if (columns === undefined) return undefined;
  if (!Array.isArray(columns)) throw argumentTypeError(`options.columns must be an array of column names, got ${describe(columns)}`);
  const seen = new Set<string>();
  columns.forEach((c: unknown, i) => {
    if (typeof c !== 'string') throw argumentTypeError(`options.columns[${i}] must be a string, got ${describe(c)}`);
    if (seen.has(c)) throw argumentRangeError(`options.columns names "${c}" twice`);
    seen.add(c);
  });
  return [...(columns as string[])];
}

function readFooter(file: MappedFile): InstanceType<ArrowModules['Footer']> {
  const { Footer } = arrowModules();
  const path = file.path;
  const size = file.byteLength;
  if (size < HEADER_BYTES + TRAILER_BYTES) throw sourceError(`${path} is truncated: ${size} bytes cannot hold an Arrow file's header and footer`);
  const tail = file.bytes(size - TRAILER_BYTES, TRAILER_BYTES);
  if (ascii(tail.subarray(4)) !== MAGIC) throw sourceError(`${path} is truncated: it does not end with the Arrow footer's "ARROW1"`);
  const footerBytes = new DataView(tail.buffer, tail.byteOffset, 4).getInt32(0, true);
  if (footerBytes <= 0 || footerBytes > size - HEADER_BYTES - TRAILER_BYTES) {
    throw sourceError(`${path} is truncated or corrupt: its footer length ${footerBytes} does not fit the file (${size} bytes)`);
  }
  try {
    const bytes = file.bytes(size - TRAILER_BYTES - footerBytes, footerBytes);
    checkFooterBytes(bytes);
    return Footer.decode(bytes);
  } catch (cause) {
    throw withCause(sourceError(`${path}: the Arrow footer cannot be decoded: ${(cause as Error).message}`), cause);
  }
}

/**
 * A stream's schema and record batches, found by walking its message headers
 * (each message: the continuation marker 0xFFFFFFFF, or before Arrow 0.15
 * nothing, an int32 metadata length, the metadata, then a body the metadata
 * sizes); bodies are skipped, never read. Dictionary batches are skipped too
 * (dictionary columns are refused).
 */
function readStream(file: MappedFile): Indexed {
  const { Message, MessageHeader } = arrowModules();
  const path = file.path;
  const size = file.byteLength;
  const notArrow = () => sourceError(`${path} is neither an Arrow IPC file (it does not start with "ARROW1") nor an Arrow IPC stream (it does not start with a schema message)`);
  let schema: Schema | undefined;
  const batches: Batch[] = [];
  let offset = 0;
  for (let m = 0; offset < size; m++) {
    const where = `${path}: message ${m} at byte ${offset}`;
    if (offset + 4 > size) throw sourceError(`${where} is truncated: the stream ends inside its length prefix`);
    const prefix = file.bytes(offset, Math.min(8, size - offset));
    const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
    const continued = view.getInt32(0, true) === -1;
    if (continued && prefix.length < 8) throw sourceError(`${where} is truncated: the stream ends inside its length prefix`);
    const length = view.getInt32(continued ? 4 : 0, true);
    const start = offset + (continued ? 8 : 4);
    if (length === 0) break; // the end-of-stream marker
    if (length < 0 || start + length > size) {
      if (m === 0) throw notArrow();
      throw sourceError(`${where} is truncated: its metadata (${length} bytes) lies past the end of the file (${size} bytes)`);
    }
    const bytes = file.bytes(start, length);
    let header: { type: number; bodyLength: bigint };
    try {
      header = checkMessage(bytes);
    } catch (cause) {
      if (m === 0) throw withCause(notArrow(), cause);
      throw withCause(sourceError(`${where}: its metadata cannot be decoded: ${(cause as Error).message}`), cause);
    }
    const bodyLength = Number(header.bodyLength);
    const body = start + length;
    if (!Number.isSafeInteger(bodyLength) || bodyLength < 0 || body + bodyLength > size) {
      throw sourceError(`${where} is truncated: its body [${body}, +${header.bodyLength}) lies past the end of the file (${size} bytes)`);
    }
    if (header.type === MessageHeader.Schema) {
      if (schema !== undefined) throw sourceError(`${where} is a second schema message; a stream has one`);
      try {
        schema = Message.decode(bytes).header() as Schema;
      } catch (cause) {
        throw withCause(sourceError(`${where}: its schema cannot be decoded: ${(cause as Error).message}`), cause);
      }
    } else if (header.type === MessageHeader.RecordBatch) {
      if (schema === undefined) throw m === 0 ? notArrow() : sourceError(`${where} is a record batch before the stream's schema`);
      batches.push(readBatch(file, { offset, metaDataLength: body - offset, bodyLength }, batches.length, path));
    } else if (header.type !== MessageHeader.DictionaryBatch) {
      if (m === 0) throw notArrow();
      throw sourceError(`${where} has message type ${header.type}, which an IPC stream does not hold`);
    }
    offset = body + bodyLength;
  }
  if (schema === undefined) throw notArrow();
  return { path, file, format: 'stream', fields: schema.fields, batches };
}

interface Batch {
  readonly header: BatchHeader;
  /** The file offset of the batch's body, which its buffers' offsets count from. */
  readonly body: number;
  readonly bodyLength: number;
  readonly index: number;
}

function readBatch(file: MappedFile, block: { offset: number; metaDataLength: number; bodyLength: number }, k: number, path: string): Batch {
  const { CompressionType, Message, MessageHeader } = arrowModules();
  const size = file.byteLength;
  const { offset, metaDataLength, bodyLength } = block;
  const where = `${path}: record batch ${k}`;
  if (offset < 0 || metaDataLength < 8 || bodyLength < 0 || offset + metaDataLength + bodyLength > size) {
    throw sourceError(`${where} [${offset}, +${metaDataLength + bodyLength}) lies past the end of the file (${size} bytes): the file is truncated`);
  }
  const prefix = file.bytes(offset, 8);
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  // The continuation marker, then the metadata's length (Arrow >= 0.15); before that, the length alone.
  const continued = view.getInt32(0, true) === -1;
  const start = offset + (continued ? 8 : 4);
  const length = view.getInt32(continued ? 4 : 0, true);
  if (length <= 0 || start + length > offset + metaDataLength) throw sourceError(`${where}: its metadata length ${length} does not fit its block`);
  let message: InstanceType<typeof Message>;
  try {
    const bytes = file.bytes(start, length);
    const type = checkMessageBytes(bytes);
    if (type !== MessageHeader.RecordBatch) throw new Error(`it is not a record batch message (type ${type})`);
    message = Message.decode(bytes);
  } catch (cause) {
    throw withCause(sourceError(`${where}: its metadata cannot be decoded: ${(cause as Error).message}`), cause);
  }
  const header = message.header() as BatchHeader;
  if (header.compression !== null) {
    const codec = header.compression.type === CompressionType.ZSTD ? 'ZSTD' : header.compression.type === CompressionType.LZ4_FRAME ? 'LZ4' : String(header.compression.type);
    throw sourceError(`${where} uses ${codec} body compression, which is read in place only uncompressed; write the file with compression='uncompressed'`);
  }
  if (!Number.isSafeInteger(header.length) || header.length < 0) throw sourceError(`${where} has an invalid length ${header.length}`);
  return { header, body: offset + metaDataLength, bodyLength, index: k };
}

/** Field nodes and buffers each type takes in a record batch (Arrow columnar format, IPC). */
function nodesAndBuffers(type: DataType): { nodes: number; buffers: number } {
  const { Type } = arrowModules();
  const children = (type.children ?? []).map((c) => {
    if (c?.type === undefined) throw sourceError('a field has a child without a type (a corrupt schema)');
    return nodesAndBuffers(c.type);
  });
  const sum = (own: number) => ({
    nodes: 1 + children.reduce((a, c) => a + c.nodes, 0),
    buffers: own + children.reduce((a, c) => a + c.buffers, 0),
  });
  switch (type.typeId) {
    case Type.Null:
      return sum(0);
    case Type.Struct:
    case Type.FixedSizeList:
      return sum(1);
    case Type.Union:
      return sum((type as unknown as { mode: number }).mode === 1 ? 2 : 1); // dense: type ids + offsets; sparse: type ids
    case Type.Binary:
    case Type.Utf8:
    case Type.LargeBinary:
    case Type.LargeUtf8:
      return sum(3);
    default:
      return sum(2); // validity + data (primitives, dictionary indices) or validity + offsets (lists, maps)
  }
}

function fieldSlots(fields: readonly Field[]): Slot[] {
  const { Type } = arrowModules();
  let node = 0;
  let buffer = 0;
  return fields.map((f) => {
    const slot = { node, buffer };
    if (f.type.typeId === Type.Utf8View || f.type.typeId === Type.BinaryView) {
      // Their buffer count varies per batch; the columns after them cannot be found without it.
      return { node: -1, buffer: -1 };
    }
    const used = nodesAndBuffers(f.type);
    node += used.nodes;
    buffer += used.buffers;
    return slot;
  });
}

/** The TypedArray kind of a numeric Arrow type, or why there is none. */
function numericDtype(type: DataType): Dtype | string {
  const { Precision, Type } = arrowModules();
  if (type.typeId === Type.Int) {
    const { bitWidth, isSigned } = type as unknown as { bitWidth: number; isSigned: boolean };
    const names: Record<number, Dtype> = isSigned ? { 8: 'int8', 16: 'int16', 32: 'int32', 64: 'int64' } : { 8: 'uint8', 16: 'uint16', 32: 'uint32', 64: 'uint64' };
    return names[bitWidth] ?? `a ${bitWidth}-bit integer type`;
  }
  if (type.typeId === Type.Float) {
    const { precision } = type as unknown as { precision: number };
    if (precision === Precision.SINGLE) return 'float32';
    if (precision === Precision.DOUBLE) return 'float64';
    return 'float16, which has no TypedArray in Node (cast it to float32)';
  }
  return `type ${String(type)}, which is not a number`;
}

function layoutOf(field: Field, path: string): Layout {
  const { Type } = arrowModules();
  const type = field.type;
  const refuse = (why: string): never => {
    throw sourceError(`${path}: column "${field.name}" (${String(type)}) cannot be read: ${why}`);
  };
  switch (type.typeId) {
    case Type.Int:
    case Type.Float: {
      const dtype = numericDtype(type);
      return dtype in DTYPES ? { kind: 'fixed', dtype: dtype as Dtype, rowShape: [] } : refuse(dtype);
    }
    case Type.Bool:
      return { kind: 'bool' };
    case Type.Utf8:
    case Type.Binary:
      return { kind: 'bytes', offsets: 'int32' };
    case Type.LargeUtf8:
    case Type.LargeBinary:
      return { kind: 'bytes', offsets: 'int64' };
    case Type.FixedSizeList: {
      const rowShape: number[] = [];
      let t: DataType = type;
      while (t.typeId === Type.FixedSizeList) {
        rowShape.push((t as unknown as { listSize: number }).listSize);
        const child = t.children?.[0];
        if (child === undefined) return refuse('the list has no value field (a corrupt schema)');
        t = child.type;
      }
      if (rowShape.some((d) => d < 1)) refuse('a list size of 0 gives empty rows');
      const dtype = numericDtype(t);
      return dtype in DTYPES ? { kind: 'fixed', dtype: dtype as Dtype, rowShape } : refuse(`its values are ${dtype}; a FixedSizeList must hold numbers`);
    }
    case Type.List:
    case Type.LargeList: {
      const field = type.children?.[0];
      if (field === undefined) return refuse('the list has no value field (a corrupt schema)');
      const child = field.type;
      if (child.typeId === Type.List || child.typeId === Type.LargeList || child.typeId === Type.FixedSizeList) {
        refuse('nested lists are not read (only lists of numbers)');
      }
      const dtype = numericDtype(child);
      if (!(dtype in DTYPES)) refuse(`its values are ${dtype}; a List must hold numbers`);
      return { kind: 'list', offsets: type.typeId === Type.List ? 'int32' : 'int64', dtype: dtype as Dtype };
    }
    case Type.Dictionary:
      return refuse('dictionary encoding is not read (decode it first, e.g. pyarrow dictionary_decode / cast)');
    case Type.Struct:
      return refuse('structs are not read (store their fields as columns, e.g. pyarrow Table.flatten())');
    default:
      return refuse('the type is not supported (numbers, bool, FixedSizeList, Utf8/Binary and List of numbers are)');
  }
}

/** A file's part of a column: one checked part per non-empty record batch (bools: unpacked into one array). */
function readColumn(file: MappedFile, path: string, s: Selected, batches: Batch[]): Column[] {
  const rows = batches.reduce((n, b) => n + b.header.length, 0);
  const { field, layout, slot } = s;
  const name = field.name;
  const parts: Column[] = [];
  let bools: Uint8Array | undefined;
  if (layout.kind === 'bool') bools = new Uint8Array(rows);
  let row = 0;
  for (const b of batches) {
    const n = b.header.length;
    const where = `${path}: column "${name}", record batch ${b.index}`;
    const node = b.header.nodes[slot.node];
    if (node === undefined || node.length !== n) throw sourceError(`${where}: its field node is missing or holds ${node?.length} records, not ${n}`);
    if (node.nullCount !== 0) throw sourceError(`${where} has ${plural(node.nullCount, 'null')}; columns with nulls are not read (fill them first, e.g. pyarrow fill_null)`);
    const buffer = (i: number, minBytes: number, what: string): number => {
      const r = b.header.buffers[slot.buffer + i];
      if (r === undefined) throw sourceError(`${where}: its ${what} buffer is missing from the batch metadata`);
      if (r.offset < 0 || r.offset + r.length > b.bodyLength) throw sourceError(`${where}: its ${what} buffer lies outside the batch body (truncated or corrupt file)`);
      if (r.length < minBytes) throw sourceError(`${where}: its ${what} buffer holds ${r.length} bytes, ${minBytes} are needed`);
      return b.body + r.offset;
    };
    if (layout.kind === 'bool') {
      const bytes = file.bytes(buffer(1, Math.ceil(n / 8), 'data'), Math.ceil(n / 8));
      for (let j = 0; j < n; j++) bools![row + j] = (bytes[j >> 3]! >> (j & 7)) & 1;
    } else if (n > 0) {
      parts.push(readPart(file, s, b, n, where, buffer));
    }
    row += n;
  }
  if (bools !== undefined) return rows === 0 ? [] : [Column.fixed(name, bools)];
  return parts;
}

/** One record batch's part of a column, checked against the batch's metadata. */
function readPart(file: MappedFile, s: Selected, b: Batch, n: number, where: string, buffer: (i: number, minBytes: number, what: string) => number): Column {
  const { field, layout } = s;
  const name = field.name;
  switch (layout.kind) {
    case 'fixed': {
      // A FixedSizeList's nodes and validity buffers come first, one per level; each level must be free of nulls too.
      const levels = layout.rowShape.length;
      let count = n;
      for (let level = 1; level <= levels; level++) {
        count *= layout.rowShape[level - 1]!;
        const node = b.header.nodes[s.slot.node + level];
        if (node === undefined || node.length < count) throw sourceError(`${where}: its list values hold ${node?.length} values, ${count} are needed`);
        if (node.nullCount !== 0) throw sourceError(`${where} has ${plural(node.nullCount, 'null value')} inside its lists; nulls are not read`);
      }
      const size = DTYPES[layout.dtype].BYTES_PER_ELEMENT;
      const at = buffer(levels + 1, count * size, 'data');
      return Column.fixed(name, region(file, at, count, layout.dtype, where), { rowShape: layout.rowShape });
    }
    case 'bytes':
    case 'list': {
      const offsetType = layout.offsets;
      const offsets = region(file, buffer(1, (n + 1) * (offsetType === 'int32' ? 4 : 8), 'offsets'), n + 1, offsetType, where);
      let valuesAt: number;
      let dtype: Dtype;
      let valueBytes: number;
      if (layout.kind === 'bytes') {
        dtype = 'uint8';
        valueBytes = b.header.buffers[s.slot.buffer + 2]?.length ?? 0;
        valuesAt = buffer(2, 0, 'data');
      } else {
        dtype = layout.dtype;
        const child = b.header.nodes[s.slot.node + 1];
        if (child === undefined) throw sourceError(`${where}: its list values' field node is missing`);
        if (child.nullCount !== 0) throw sourceError(`${where} has ${plural(child.nullCount, 'null value')} inside its lists; nulls are not read`);
        const size = DTYPES[dtype].BYTES_PER_ELEMENT;
        valueBytes = child.length * size;
        valuesAt = buffer(3, valueBytes, 'list values');
      }
      const size = DTYPES[dtype].BYTES_PER_ELEMENT;
      const values = region(file, valuesAt, Math.floor(valueBytes / size), dtype, where);
      try {
        return Column.ragged(name, { values: values as FileRegion, offsets });
      } catch (cause) {
        throw withCause(sourceError(`${where}: ${(cause as Error).message}`), cause);
      }
    }
    default:
      throw sourceError(`${where}: unexpected layout`);
  }
}

function region(file: MappedFile, offset: number, length: number, dtype: Dtype, where: string): FileRegion {
  const size = DTYPES[dtype].BYTES_PER_ELEMENT;
  if (offset % size !== 0) throw sourceError(`${where}: a buffer at byte ${offset} is not aligned to its ${size}-byte ${dtype} elements`);
  return file.region(offset, length, dtype);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function ascii(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

function withCause<E extends Error>(error: E, cause: unknown): E {
  Object.defineProperty(error, 'cause', { value: cause, configurable: true, writable: true, enumerable: false });
  return error;
}


