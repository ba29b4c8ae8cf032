// ArrowSource over folders that Hugging Face `datasets` itself wrote
// (save_to_disk: Arrow IPC streams beside a state.json): strings, lists of
// int32, int64 and fixed-size float lists, over several shards, equal the
// writer's rows byte for byte; a list of files is the same source; resume
// crosses shard boundaries exactly; shards that disagree are refused.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArrowSource, DataLoader, type Ragged, type TypedArray } from '../src/index.js';
import { hfDatasetFiles } from './helpers/hf-datasets.js';
import { writerData } from './helpers/pyarrow.js';

const files = hfDatasetFiles();
const dir = 'dir' in files ? files.dir : '';
const skip = 'reason' in files;
const manifest = skip ? { n: 0, columns: [] as string[] } : (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { n: number; columns: string[] });
const sharded = join(dir, 'sharded');

type BatchColumn = TypedArray | { values: TypedArray; offsets: Int32Array };

const writer = new Map<string, ReturnType<typeof writerData>>();
function writerRow(column: string, i: number): Buffer {
  if (!writer.has(column)) writer.set(column, writerData(dir, column));
  const { values, offsets } = writer.get(column)!;
  if (offsets !== undefined) {
    const size = column === 'tokens' ? 4 : 1;
    return Buffer.from(values.subarray(Number(offsets[i]!) * size, Number(offsets[i + 1]!) * size));
  }
  const rowBytes = values.length / manifest.n;
  return Buffer.from(values.subarray(i * rowBytes, (i + 1) * rowBytes));
}

function batchRow(column: BatchColumn, j: number, rows: number): Buffer {
  if ('offsets' in column && !ArrayBuffer.isView(column)) {
    const size = column.values.BYTES_PER_ELEMENT;
    return Buffer.from(column.values.buffer, column.values.byteOffset + column.offsets[j]! * size, (column.offsets[j + 1]! - column.offsets[j]!) * size);
  }
  const a = column as TypedArray;
  const rowBytes = a.byteLength / rows;
  return Buffer.from(a.buffer, a.byteOffset + j * rowBytes, rowBytes);
}

/** Every row of every batch equals the writer's row of its index; returns the indices seen. */
function checkRows(loader: Iterable<unknown>): number[] {
  const seen: number[] = [];
  for (const batch of loader) {
    const b = batch as Record<string, BatchColumn> & { indices: Uint32Array };
    const n = b.indices.length;
    for (const name of manifest.columns) {
      for (let j = 0; j < n; j++) {
        const got = batchRow(b[name]!, j, n);
        const want = writerRow(name, b.indices[j]!);
        if (!got.equals(want)) throw new Error(`column ${name}, record ${b.indices[j]}: got ${got.toString('hex')}, want ${want.toString('hex')}`);
      }
    }
    seen.push(...b.indices);
  }
  return seen;
}

describe.skipIf(skip)('ArrowSource on Hugging Face save_to_disk folders', () => {
  it('opens the folder as one source of all its shards, with the types datasets wrote', () => {
    const source = ArrowSource.open(sharded);
    expect(source.length).toBe(manifest.n);
    expect(source.shards.map((s) => [s.path.split('/').pop(), s.format, s.records])).toEqual(
      [0, 1, 2, 3].map((k) => [`data-0000${k}-of-00004.arrow`, 'stream', manifest.n / 4]),
    );
    expect(source.recordBatches).toBeGreaterThan(4); // several record batches per shard
    const info = Object.fromEntries(source.columns.map((c) => [c.name, c]));
    expect(Object.keys(info)).toEqual(['text', 'tokens', 'label', 'emb']);
    expect(info['text']).toMatchObject({ dtype: 'uint8', kind: 'ragged', arrowType: 'Utf8' });
    expect(info['tokens']).toMatchObject({ dtype: 'int32', kind: 'ragged' });
    expect(info['label']).toMatchObject({ dtype: 'int64', kind: 'fixed', rowShape: [] });
    expect(info['emb']).toMatchObject({ dtype: 'float32', kind: 'fixed', rowShape: [3] });
  });

  it('shuffled batches equal the rows datasets wrote, byte for byte', () => {
    const loader = new DataLoader(ArrowSource.open(sharded), { batchSize: 97, seed: 4, numEpochs: 1 });
    const seen = checkRows(loader);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: manifest.n }, (_, i) => i));
  });

  it('a list of the shard files is the same source; one shard alone is its own rows', () => {
    const shards = readdirSync(sharded).filter((f) => f.endsWith('.arrow')).sort().map((f) => join(sharded, f));
    const listed = ArrowSource.open(shards);
    expect(listed.length).toBe(manifest.n);
    expect(listed.path).toBe(shards[0]);
    const a = new DataLoader(listed, { batchSize: 500, seed: 8, numEpochs: 1 });
    const b = new DataLoader(ArrowSource.open(sharded), { batchSize: 500, seed: 8, numEpochs: 1 });
    for (const [x, y] of zip(a, b)) {
      expect(Array.from((x as unknown as { label: BigInt64Array }).label)).toEqual(Array.from((y as unknown as { label: BigInt64Array }).label));
    }
    const single = ArrowSource.open(join(dir, 'single'));
    expect(single.length).toBe(100);
    expect(checkRows(new DataLoader(single, { batchSize: 30, shuffle: false })).length).toBe(100);
  });

  it('resumes exactly across shard boundaries', () => {
    const options = { batchSize: 300, shuffle: false, numEpochs: 2 } as const;
    type C = { tokens: Ragged<Int32Array>; label: BigInt64Array };
    const reference = new DataLoader(ArrowSource.open<C>(sharded, { columns: ['tokens', 'label'] }), options);
    const states: unknown[] = [];
    const tokens: Buffer[] = [];
    for (const b of reference) {
      tokens.push(Buffer.from(b.tokens.values.buffer, b.tokens.values.byteOffset, b.tokens.values.byteLength));
      states.push(reference.getState());
    }
    // Batch 4 holds rows [1200, 1500): it crosses from shard 0 into shard 1.
    for (const k of [3, 4, 5, 8, 12, 16]) {
      const resumed = new DataLoader(ArrowSource.open<C>(sharded, { columns: ['tokens', 'label'] }), options);
      resumed.setState(states[k] as never);
      const rest = [...resumed].map((b) => Buffer.from(b.tokens.values.buffer, b.tokens.values.byteOffset, b.tokens.values.byteLength));
      expect(rest.length).toBe(tokens.length - k - 1);
      rest.forEach((t, j) => expect(t.equals(tokens[k + 1 + j]!)).toBe(true));
    }
  });

  it('refuses shards that disagree, naming the file and the column', () => {
    const a = join(sharded, 'data-00000-of-00004.arrow');
    const b = join(dir, 'other', 'data-00000-of-00001.arrow');
    expect(() => ArrowSource.open([a, b])).toThrow(
      expect.objectContaining({ code: 'RP_SOURCE_INVALID', message: expect.stringMatching(/other\/data-00000-of-00001\.arrow \(file 1\): column "label" is Int32 but .*data-00000-of-00004\.arrow has Int64/) }),
    );
    // Columns both agree on still read.
    expect(ArrowSource.open([a, b], { columns: ['text', 'tokens'] }).length).toBe(manifest.n / 4 + 50);
  });
});

function* zip<A, B>(a: Iterable<A>, b: Iterable<B>): Generator<[A, B]> {
  const ib = b[Symbol.iterator]();
  for (const x of a) {
    const y = ib.next();
    if (y.done === true) throw new Error('the second ended first');
    yield [x, y.value];
  }
  if (ib.next().done !== true) throw new Error('the first ended first');
}
