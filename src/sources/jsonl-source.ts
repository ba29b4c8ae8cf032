// JSON Lines files, memory-mapped and indexed by the core in one scan at open
// (indexLines): each non-blank line is a record. The core gathers a batch's
// lines as ragged bytes on its threads; with `parse` (the default) the batch
// is then decoded once (one TextDecoder call) and each line JSON.parse'd from
// a slice of that string, which measured as fast as one JSON.parse of the
// whole batch joined into an array, and cannot merge two malformed lines
// into one valid record as the joined form can.
import { RecordDecodeError } from '../errors.js';
import { type ColumnBatch } from '../loader/batch.js';
import { argumentRangeError, argumentTypeError, sourceError } from '../error-codes.js';
import { describe } from '../validate.js';
import { Column, type Ragged } from './column.js';
import { indexLines, lineNumberAt } from './line-index.js';
import { MappedFile } from './mapped-file.js';
import { ColumnSource } from './source.js';

export interface JsonlSourceOptions {
  /** true (default): batches are arrays of parsed records; false: the raw bytes of each line, as ragged `line`. */
  readonly parse?: boolean;
}

/** What the core gathers for a JSONL source: the bytes of each record's line. */
export type JsonlColumns = { line: Ragged<Uint8Array> };

/** A batch of parsed records, in row order, with the batch's epoch and indices. */
export type JsonlRecords<T> = T[] & { readonly epoch: number; readonly indices: Uint32Array };

// fatal: invalid UTF-8 fails the batch (naming the line) instead of turning into U+FFFD.
// ignoreBOM: byte offsets must stay character offsets; a BOM fails line 1 as JSON.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A JSON Lines file as a column source. `B` is what a batch is: the parsed
 * records (JsonlRecords<T>, the default) or, with `{ parse: false }`, the raw
 * `{ line: { values, offsets } }` batch.
 */
export class JsonlSource<B = JsonlRecords<unknown>> extends ColumnSource<JsonlColumns, B> {
  readonly path: string;
  /** Whether batches are parsed records (DataLoader calls decodeBatch) or raw line bytes. */
  readonly parse: boolean;
  private readonly file: MappedFile;
  /** n + 1 record offsets (LineIndex.offsets). */
  private readonly offsets: BigInt64Array;

  private constructor(path: string, parse: boolean, file: MappedFile, column: Column, offsets: BigInt64Array) {
    super([column]);
    this.path = path;
    this.parse = parse;
    this.file = file;
    this.offsets = offsets;
  }

  /**
   * Maps and indexes the JSON Lines file at `path`. Blank lines (only spaces,
   * tabs, "\r") are not records; "\r\n" endings and a missing final newline
   * work. Throws SourceOpenError (RP_SOURCE_OPEN_FAILED) if the file cannot be
   * opened and RP_SOURCE_INVALID if it holds no record. Lines are parsed when
   * their batch is made: a malformed one fails that batch (RP_RECORD_INVALID).
   */
  static open<T = unknown>(path: string, options?: { readonly parse?: true }): JsonlSource<JsonlRecords<T>>;
  static open(path: string, options: { readonly parse: false }): JsonlSource<ColumnBatch<JsonlColumns>>;
  static open(path: string, options?: JsonlSourceOptions): JsonlSource<JsonlRecords<unknown> | ColumnBatch<JsonlColumns>>;
  static open(path: string, options: JsonlSourceOptions = {}): JsonlSource<JsonlRecords<unknown> | ColumnBatch<JsonlColumns>> {
    if (typeof path !== 'string' || path === '') throw argumentTypeError(`path must be a non-empty string, got ${describe(path)}`);
    if (typeof options !== 'object' || options === null) throw argumentTypeError(`options must be an object, got ${describe(options)}`);
    const parse = options.parse ?? true;
    if (typeof parse !== 'boolean') throw argumentTypeError(`options.parse must be a boolean, got ${describe(parse)}`);
    const file = MappedFile.open(path);
    const index = indexLines(file, { ends: !parse });
    if (index.length === 0) throw sourceError(`${path} holds no record (no line that is not blank)`);
    const bytes = file.region(0, file.byteLength, 'uint8');
    // Parsed: each row runs to the next record (its line ending and blank
    // lines are JSON whitespace), 8 bytes a record. Raw: the line's own bytes.
    const column = parse
      ? Column.ragged('line', { values: bytes, offsets: index.offsets })
      : Column.ragged('line', { values: bytes, starts: index.offsets.subarray(0, index.length), ends: index.ends! });
    return new JsonlSource(path, parse, file, column, index.offsets);
  }

  /** The 1-based line number of record `index` in the file (blank lines counted). */
  lineNumber(index: number): number {
    if (typeof index !== 'number') throw argumentTypeError(`index must be a number, got ${describe(index)}`);
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.length) {
      throw argumentRangeError(`index must be an integer in [0, ${this.length}), got ${describe(index)}`);
    }
    return lineNumberAt(this.file, Number(this.offsets[index]!));
  }

  /**
   * What the DataLoader hands out for a gathered batch: with `parse`, its
   * records (parseBatch); otherwise the batch as gathered.
   */
  override decodeBatch(batch: ColumnBatch<JsonlColumns>): B {
    return (this.parse ? this.parseBatch(batch) : batch) as B;
  }

  /**
   * The records of a gathered batch, parsed: one decode of its bytes, one
   * JSON.parse per line. A line that is not valid UTF-8 or not valid JSON
   * throws RecordDecodeError (RP_RECORD_INVALID) naming the file and its line.
   */
  parseBatch<T = unknown>(batch: ColumnBatch<JsonlColumns>): JsonlRecords<T> {
    const { values, offsets } = batch.line;
    const rows = offsets.length - 1;
    const records = new Array<T>(rows) as T[] & { epoch: number; indices: Uint32Array };
    let text: string;
    try {
      text = decoder.decode(values);
    } catch {
      throw this.badRow(batch, this.firstBadUtf8(values, offsets), 'is not valid UTF-8');
    }
    // Valid UTF-8 decodes to as many UTF-16 units as bytes only when it is all ASCII.
    const cuts = text.length === values.length ? offsets : utf16Offsets(values, offsets);
    for (let j = 0; j < rows; j++) {
      const line = text.slice(cuts[j]!, cuts[j + 1]!);
      try {
        records[j] = JSON.parse(line) as T;
      } catch (cause) {
        throw this.badRow(batch, j, `is not valid JSON: ${(cause as Error).message}`, cause);
      }
    }
    records.epoch = batch.epoch;
    records.indices = batch.indices;
    return records;
  }

  private firstBadUtf8(values: Uint8Array, offsets: Int32Array): number {
    for (let j = 0; j + 1 < offsets.length; j++) {
      try {
        decoder.decode(values.subarray(offsets[j]!, offsets[j + 1]!));
      } catch {
        return j;
      }
    }
    return 0;  // not reached: the whole batch failed to decode
  }

  private badRow(batch: ColumnBatch<JsonlColumns>, row: number, what: string, cause?: unknown): Error {
    const record = batch.indices[row]!;
    const line = this.lineNumber(record);
    return new RecordDecodeError(this.path, line, `${this.path}: line ${line} (record ${record}) ${what}`, { cause });
  }
}

/** UTF-16 positions of a batch's row boundaries (valid UTF-8: every byte that is not a continuation starts a character; 4-byte ones take two units). */
function utf16Offsets(values: Uint8Array, offsets: Int32Array): Int32Array {
  const cuts = new Int32Array(offsets.length);
  let units = 0;
  let byte = 0;
  for (let j = 1; j < offsets.length; j++) {
    const end = offsets[j]!;
    for (; byte < end; byte++) {
      const b = values[byte]!;
      if ((b & 0xc0) !== 0x80) units += b >= 0xf0 ? 2 : 1;
    }
    cuts[j] = units;
  }
  return cuts;
}
