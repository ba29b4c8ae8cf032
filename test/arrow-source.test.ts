// ArrowSource over files written by pyarrow (an independent writer): every
// listed type across several record batches, compared byte for byte with
// the writer's own data in shuffled batches; each refusal names the file,
// the column and the reason.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArrowSource, DataLoader, IncompatibleStateError, type TypedArray } from '../src/index.js';
import { RecordBatch, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { pyarrowFiles, writerData } from './helpers/pyarrow.js';
import { tempDir } from './helpers/temp-dir.js';

const files = pyarrowFiles();
const dir = 'dir' in files ? files.dir : '';
const skip = 'reason' in files;
const manifest = skip ? { n: 0, batch: 0, columns: [] as string[] } : (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { n: number; batch: number; columns: string[] });

type BatchColumn = TypedArray | { values: TypedArray; offsets: Int32Array };

function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

const writer = new Map<string, ReturnType<typeof writerData>>();

/** Row i of the writer's data, as bytes. */
function writerRow(column: string, i: number): Uint8Array {
  if (!writer.has(column)) writer.set(column, writerData(dir, column));
  const { values, offsets } = writer.get(column)!;
  if (offsets !== undefined) {
    const size = values.length / Number(offsets[offsets.length - 1]!) || 1;
    return values.subarray(Number(offsets[i]!) * size, Number(offsets[i + 1]!) * size);
  }
  const rowBytes = values.length / manifest.n;
  return values.subarray(i * rowBytes, (i + 1) * rowBytes);
}

/** Row j of a batch column, as bytes. */
function batchRow(column: BatchColumn, j: number, rows: number): Uint8Array {
  if ('offsets' in column && !ArrayBuffer.isView(column)) {
    const size = column.values.BYTES_PER_ELEMENT;
    return bytesOf(column.values).subarray(column.offsets[j]! * size, column.offsets[j + 1]! * size);
  }
  const all = bytesOf(column as TypedArray);
  const rowBytes = all.length / rows;
  return all.subarray(j * rowBytes, (j + 1) * rowBytes);
}

describe.skipIf(skip)('ArrowSource (files written by pyarrow)', () => {
  it('reads every listed type across several record batches', () => {
    const source = ArrowSource.open(join(dir, 'all.arrow'));
    expect(source.length).toBe(manifest.n);
    expect(source.recordBatches).toBe(Math.ceil(manifest.n / manifest.batch));
    const info = Object.fromEntries(source.columns.map((c) => [c.name, c]));
    expect(Object.keys(info)).toEqual(manifest.columns);
    expect(info['int8']).toMatchObject({ dtype: 'int8', kind: 'fixed', rowShape: [], arrowType: 'Int8' });
    expect(info['uint64']).toMatchObject({ dtype: 'uint64', kind: 'fixed' });
    expect(info['float32']).toMatchObject({ dtype: 'float32', kind: 'fixed' });
    expect(info['bool']).toMatchObject({ dtype: 'uint8', kind: 'fixed', rowShape: [] });
    expect(info['fsl']).toMatchObject({ dtype: 'float32', kind: 'fixed', rowShape: [3] });
    expect(info['image']).toMatchObject({ dtype: 'uint8', kind: 'fixed', rowShape: [2, 4] });
    for (const name of ['utf8', 'large_utf8', 'binary', 'large_binary']) expect(info[name]).toMatchObject({ dtype: 'uint8', kind: 'ragged' });
    expect(info['list_i32']).toMatchObject({ dtype: 'int32', kind: 'ragged' });
    expect(info['large_list_f64']).toMatchObject({ dtype: 'float64', kind: 'ragged' });
  });

  it.each(['all.arrow', 'all_stream.arrow'])('%s: shuffled batches equal the rows the writer wrote, byte for byte', (file) => {
    const source = ArrowSource.open(join(dir, file));
    expect(source.shards.map((s) => s.format)).toEqual([file === 'all.arrow' ? 'file' : 'stream']);
    expect(source.recordBatches).toBe(Math.ceil(manifest.n / manifest.batch));
    const loader = new DataLoader(source, { batchSize: 64, seed: 5, numEpochs: 1 });
    let rows = 0;
    const seen = new Set<number>();
    for (const batch of loader) {
      const b = batch as unknown as Record<string, BatchColumn> & { indices: Uint32Array };
      const n = b.indices.length;
      for (const name of manifest.columns) {
        for (let j = 0; j < n; j++) {
          const got = batchRow(b[name]!, j, n);
          const want = writerRow(name, b.indices[j]!);
          if (Buffer.compare(got, want) !== 0) {
            throw new Error(`column ${name}, record ${b.indices[j]}: got ${Buffer.from(got).toString('hex')}, want ${Buffer.from(want).toString('hex')}`);
          }
        }
      }
      b.indices.forEach((i) => seen.add(i));
      rows += n;
    }
    expect(rows).toBe(manifest.n);
    expect(seen.size).toBe(manifest.n);
  });

  it('reads the named columns only, in their order', () => {
    const source = ArrowSource.open(join(dir, 'all.arrow'), { columns: ['utf8', 'int32'] });
    expect(source.columns.map((c) => c.name)).toEqual(['utf8', 'int32']);
    // A file with a column it refuses opens when that column is left out.
    expect(ArrowSource.open(join(dir, 'struct.arrow'), { columns: ['ok'] }).length).toBe(8);
  });

  it('loads a column whose validity bitmap shows no nulls', () => {
    const source = ArrowSource.open(join(dir, 'bitmap_no_nulls.arrow'));
    const batch = new DataLoader(source, { batchSize: 8, shuffle: false }).next().value as unknown as { x: Int32Array };
    expect(Buffer.compare(bytesOf(batch.x), readFileSync(join(dir, 'bitmap_no_nulls.values.bin')))).toBe(0);
  });

  it('reads the stream format as the file format', () => {
    const a = new DataLoader(ArrowSource.open(join(dir, 'whole.arrow')), { batchSize: 8, shuffle: false }).next().value as unknown as Record<string, Float64Array>;
    const b = new DataLoader(ArrowSource.open(join(dir, 'stream.arrow')), { batchSize: 8, shuffle: false }).next().value as unknown as Record<string, Float64Array>;
    expect(Array.from(b['x']!)).toEqual(Array.from(a['x']!));
    expect(Array.from(b['x']!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('reads a file of one record batch, and skips empty record batches', () => {
    expect(ArrowSource.open(join(dir, 'one_batch.arrow')).length).toBe(10);
    const source = ArrowSource.open(join(dir, 'empty_batch.arrow'));
    expect(source.length).toBe(10);
    const batch = new DataLoader(source, { batchSize: 10, shuffle: false }).next().value as unknown as { x: Int32Array; s: { values: Uint8Array; offsets: Int32Array } };
    expect(Array.from(batch.x)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Buffer.from(batch.s.values).toString()).toBe('0123456789');
  });

  it.each([
    ['nulls', /column "bad", record batch 0 has 1 null/],
    ['list_nulls', /column "bad", record batch 0 has 1 null value inside its lists/],
    ['dictionary', /column "bad" \(Dictionary<Int32, Utf8>\) cannot be read: dictionary encoding/],
    ['nested_list', /column "bad" \(List<List<Int32>>\) cannot be read: nested lists/],
    ['struct', /column "bad" \(Struct<.*>\) cannot be read: structs/],
    ['float16', /column "bad" \(Float16\) cannot be read: float16, which has no TypedArray/],
    ['timestamp', /column "bad" \(Timestamp<SECOND>\) cannot be read: the type is not supported/],
    ['lz4', /record batch 0 uses LZ4 body compression/],
    ['zstd', /record batch 0 uses ZSTD body compression/],
    ['stream_nulls', /column "bad", record batch 0 has 1 null/],
    ['stream_lz4', /record batch 0 uses LZ4 body compression/],
    ['stream_truncated', /message 1 at byte \d+ is truncated: its body/],
    ['not_arrow', /is neither an Arrow IPC file .* nor an Arrow IPC stream/],
    ['truncated', /is truncated/],
    ['truncated_body', /record batch 0 .* lies past the end of the file .*truncated/],
  ])('refuses %s, naming the file, the column and the reason', (name, reason) => {
    const path = join(dir, `${name}.arrow`);
    let error: (Error & { code?: string }) | undefined;
    try {
      ArrowSource.open(path);
    } catch (e) {
      error = e as Error & { code?: string };
    }
    expect(error).toBeInstanceOf(RangeError);
    expect(error!.code).toBe('RP_SOURCE_INVALID');
    expect(error!.message).toContain(path);
    expect(error!.message).toMatch(reason);
  });

  it('resumes exactly around epoch edges, over any shard count, with n in the fingerprint', () => {
    const source = ArrowSource.open(join(dir, 'all.arrow'), { columns: ['utf8', 'int64'] });
    const options = { batchSize: 96, seed: 3, numEpochs: 3 };
    const reference = new DataLoader(source, options);
    const states: unknown[] = [];
    const order: number[][] = [];
    for (const b of reference) {
      order.push(Array.from(b.indices));
      states.push(reference.getState());
    }
    const perEpoch = Math.ceil(manifest.n / options.batchSize);
    for (const k of [perEpoch - 2, perEpoch - 1, perEpoch, 2 * perEpoch - 1]) {
      const resumed = new DataLoader(ArrowSource.open(join(dir, 'all.arrow'), { columns: ['utf8', 'int64'] }), options);
      resumed.setState(states[k] as never);
      expect([...resumed].map((b) => Array.from(b.indices))).toEqual(order.slice(k + 1));
    }
    // Elastic: the state of one shard resumes over three, which together see the rest of the epoch once.
    const k = 4;
    const rest = new Set(order.slice(k + 1, perEpoch).flat());
    const seen: number[] = [];
    for (let shard = 0; shard < 3; shard++) {
      const l = new DataLoader(source, { ...options, batchSize: 32, shardCount: 3, shardIndex: shard, numEpochs: 1 });
      l.setState(states[k] as never);
      for (const b of l) seen.push(...b.indices);
    }
    expect(seen.sort((a, b) => a - b)).toEqual([...rest].sort((a, b) => a - b));
    // The fingerprint carries n: a state of another file does not restore.
    const other = new DataLoader(ArrowSource.open(join(dir, 'one_batch.arrow')), options);
    expect((states[0] as { fingerprint: { n: number } }).fingerprint.n).toBe(manifest.n);
    expect(() => other.setState(states[0] as never)).toThrow(IncompatibleStateError);
  });
});

describe('ArrowSource on corrupt metadata', () => {
  it('refuses a footer whose vector lengths cannot fit it, before apache-arrow decodes it', () => {
    // Three record batches written by apache-arrow; then the footer's block count is made 2^31 - 1.
    const batches = [0, 1, 2].map((k) => new Table({ x: vectorFromArray(Int32Array.of(k, k + 1)) }).batches[0]!);
    const bytes = Buffer.from(tableToIPC(new Table(batches as RecordBatch[]), 'file'));
    const footerLength = bytes.readInt32LE(bytes.length - 10);
    const footerStart = bytes.length - 10 - footerLength;
    const path = join(tempDir('rp-arrow-'), 'blocks.arrow');
    writeFileSync(path, bytes);
    expect(ArrowSource.open(path).length).toBe(6);
    // The block vector: its length (3), then 24-byte blocks of which the first starts at byte 8.
    const first = Buffer.alloc(8);
    first.writeBigInt64LE(8n);
    let at = -1;
    for (let i = footerStart; i + 12 <= bytes.length; i += 4) {
      if (bytes.readUInt32LE(i) === 3 && bytes.subarray(i + 4, i + 12).equals(first)) at = i;
    }
    expect(at).toBeGreaterThan(0);
    bytes.writeUInt32LE(2 ** 31 - 1, at);
    writeFileSync(path, bytes);
    expect(() => ArrowSource.open(path)).toThrow(expect.objectContaining({ code: 'RP_SOURCE_INVALID', message: expect.stringMatching(/footer cannot be decoded: the footer's record batch blocks claims 2147483647 entries/) }));
  });
});
