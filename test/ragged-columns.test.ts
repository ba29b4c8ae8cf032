// Ragged (variable-length) columns end to end: batches equal the rows taken by
// index from the data, byte for byte, shuffled, across shard counts and epoch
// edges, resumed in a new process; padding and truncation; bad offsets
// refused naming the column; offsets changed under a loader refused without a
// crash; batches over the block size; the public contract (MappedFile,
// Column.chunked, decodeBatch); bounded memory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArraySource, Column, type ColumnBatch, ColumnSource, DataLoader, MappedFile, type Ragged, type State } from '../src/index.js';
import { expectedBatches, type OrderConfig } from './helpers/loader-oracle.js';
import { expectPadded, expectRows, raggedData } from './helpers/ragged.js';

const root = join(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'rp-ragged-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function source(n: number, maxLength: number, dataSeed: number, wide = false) {
  const d = raggedData(n, maxLength, dataSeed, 3);
  const offsets = wide ? BigInt64Array.from(d.offsets, (v) => BigInt(v)) : d.offsets;
  const label = Int32Array.from({ length: n }, (_, i) => i * 3 + 1);
  const src = new ArraySource({
    text: { values: d.values, offsets },
    head: { values: d.values, offsets: d.offsets, pad: { length: 4, value: 7 } },
    label: { data: label, shape: [n] },
  });
  return { d, src, label };
}

describe('ragged columns in batches', () => {
  it.each([
    [1, false],
    [2, true],
    [3, false],
  ])('equal the rows by index, shuffled, for %i shard(s) (BigInt64 offsets: %s)', (shardCount, wide) => {
    const n = 157;
    const { d, src, label } = source(n, 40, 11, wide);
    const config: OrderConfig = { n, batchSize: 8, shardCount, dropRemainder: false, numEpochs: 2, seed: 99, shuffle: true };
    const seen: number[] = [];
    for (let shard = 0; shard < shardCount; shard++) {
      const { n: _n, ...options } = config;
      const loader = new DataLoader(src, { ...options, shardIndex: shard, prefetch: 3 });
      const want = expectedBatches(config, shard);
      const got = [...loader];
      expect(got.length).toBe(want.length);
      got.forEach((b, k) => {
        expect(Array.from(b.indices)).toEqual(want[k]!.indices);
        expect(b.epoch).toBe(want[k]!.epoch);
        expectRows(b.text, b.indices, d.row);
        expectPadded(b.head, b.indices, d.row, 4, 7);
        expect(Array.from(b.label)).toEqual(Array.from(b.indices, (i) => label[i]!));
        if (b.epoch === 0) seen.push(...b.indices);
      });
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('large batches (split across the pool) and the inline path give the same bytes', () => {
    const n = 3000;
    const { d, src } = source(n, 2048, 5);
    for (const [batchSize, prefetch] of [
      [2048, 2],
      [3, 0],
    ] as const) {
      const loader = new DataLoader(src, { batchSize, seed: 3, prefetch, numEpochs: 1 });
      let k = 0;
      for (const b of loader) {
        expectRows(b.text, b.indices, d.row);
        if (++k > 40) break;
      }
      loader.close();
    }
  });

  it('typed values other than bytes, padded with a value of their type', () => {
    const n = 40;
    const d = raggedData(n, 9, 2);
    const values = Float32Array.from(d.values, (v) => v / 4);
    const src = new ArraySource({ x: { values, offsets: d.offsets }, p: { values, offsets: d.offsets, pad: { length: 3, value: -1.5 } } });
    for (const b of new DataLoader(src, { batchSize: 7, seed: 1 })) {
      b.indices.forEach((r, j) => {
        const row = Array.from(values.subarray(d.offsets[r]!, d.offsets[r + 1]!));
        expect(Array.from(b.x.values.subarray(b.x.offsets[j]!, b.x.offsets[j + 1]!))).toEqual(row);
        const kept = Math.min(row.length, 3);
        expect(b.p.lengths[j]).toBe(kept);
        expect(Array.from(b.p.values.subarray(j * 3, j * 3 + 3))).toEqual([...row.slice(0, kept), ...Array(3 - kept).fill(-1.5)]);
      });
      expect(b.x.values).toBeInstanceOf(Float32Array);
    }
  });

  it('small batches that outgrow their block (two long rows among empty ones) come whole', () => {
    const n = 200;
    const offsets = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + (i < 2 ? 1000 : i % 2);
    const values = new Uint8Array(offsets[n]!).map((_, i) => (i * 13 + 5) & 255);
    const row = (i: number) => values.subarray(offsets[i]!, offsets[i + 1]!);
    for (const prefetch of [0, 2]) {
      const loader = new DataLoader(new ArraySource({ t: { values, offsets } }), { batchSize: 4, shuffle: false, prefetch, numEpochs: 3 });
      for (const b of loader) expectRows(b.t, b.indices, row);
    }
  });

  it('batches over the block size get memory of their own, and recycle() takes them', () => {
    // Mostly short rows, every 100th 256 KiB: a batch holding two of those outgrows the block.
    const n = 1000;
    const lengths = Array.from({ length: n }, (_, i) => (i % 100 === 0 ? 256 * 1024 : i % 11));
    const offsets = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + lengths[i]!;
    const values = new Uint8Array(offsets[n]!).map((_, i) => (i * 31 + 7) & 255);
    const row = (i: number) => values.subarray(offsets[i]!, offsets[i + 1]!);
    const loader = new DataLoader(new ArraySource({ t: { values, offsets } }), { batchSize: 64, seed: 4, numEpochs: 4 });
    const blockBytes = (loader as unknown as { queue: { blockBytes: number } }).queue.blockBytes;
    let oversize = 0;
    for (const b of loader) {
      expectRows(b.t, b.indices, row);
      if (b.indices.buffer.byteLength > blockBytes) {
        oversize++;
        loader.recycle(b);
        expect(b.t.values.length).toBe(0); // detached
        expect(() => loader.recycle(b)).toThrow(expect.objectContaining({ code: 'RP_BUFFER_DETACHED' }));
      }
    }
    expect(oversize).toBeGreaterThan(0);
  });
});

describe('ragged offsets are checked', () => {
  const values = new Uint8Array(10);
  it.each([
    ['decreasing', Int32Array.of(0, 5, 4, 10), /column "t": offsets\[2\] = 4 is less than offsets\[1\] = 5/],
    ['past the values', Int32Array.of(0, 5, 11), /column "t": offsets\[2\] = 11 is past the end of the values \(10 elements\)/],
    ['negative', Int32Array.of(-1, 5), /column "t": offsets\[0\] = -1 is negative/],
    ['64-bit past the values', BigInt64Array.of(0n, 2n ** 40n), /column "t": offsets\[1\] = 1099511627776 is past the end/],
  ])('%s: RP_SOURCE_INVALID naming the column', (_name, offsets, message) => {
    const make = () => new ArraySource({ t: { values, offsets } });
    expect(make).toThrow(RangeError);
    expect(make).toThrow(message);
    expect(make).toThrow(expect.objectContaining({ code: 'RP_SOURCE_INVALID' }));
  });

  it('starts and ends, and argument errors', () => {
    expect(() => Column.ragged('t', { values, starts: Int32Array.of(0, 6), ends: Int32Array.of(3, 5) })).toThrow(
      /column "t": ends\[1\] = 5 is less than starts\[1\] = 6/,
    );
    expect(() => Column.ragged('t', { values, offsets: new Float32Array(3) as never })).toThrow(TypeError);
    expect(() => Column.ragged('t', { values, offsets: new Int32Array(0) })).toThrow(/offsets must hold n\+1 entries/);
    expect(() => Column.ragged('t', { values, offsets: Int32Array.of(0, 10), pad: { length: 0 } })).toThrow(/pad.length must be an integer in \[1/);
    expect(() => Column.ragged('t', { values, offsets: Int32Array.of(0, 10), pad: { length: 2, value: 300 } })).toThrow(/pad.value 300 is not a uint8 value/);
    expect(() => Column.ragged('t', { values, starts: Int32Array.of(0), ends: BigInt64Array.of(1n) })).toThrow(/same type/);
    expect(() => new ArraySource({ t: { values, offsets: Int32Array.of(0, 10) }, u: { data: new Uint8Array(2), shape: [2] } })).toThrow(/every column needs the same count/);
  });

  it('offsets changed under a loader fail that batch (RP_SOURCE_INVALID, the column named), never read outside the values', () => {
    const d = raggedData(50, 8, 9);
    const offsets = d.offsets.slice();
    const loader = new DataLoader(new ArraySource({ t: { values: d.values, offsets } }), { batchSize: 50, shuffle: false, prefetch: 0, numEpochs: 2 });
    offsets[20] = 2 ** 30;
    expect(() => loader.next()).toThrow(expect.objectContaining({ code: 'RP_SOURCE_INVALID' }));
    expect(() => loader.next()).toThrow(/column "t": row 1[9] spans/);
    offsets[20] = d.offsets[20]!;
    loader.setState(loader.getState()); // errors stick until the state is set again
    expectRows(loader.next().value!.t, Uint32Array.from({ length: 50 }, (_, i) => i), d.row);
  });
});

describe('the public source contract', () => {
  it('a source over a mapped file: MappedFile regions, any offset, no JavaScript copy', () => {
    const d = raggedData(300, 30, 17, 2);
    const offsets = BigInt64Array.from(d.offsets, (v) => BigInt(v));
    const ids = Int32Array.from({ length: 300 }, (_, i) => 1000 + i);
    // [16-byte header][offsets, 8-aligned][ids][values]
    const header = Buffer.from('RAGGEDFILE000000');
    const body = Buffer.concat([header, Buffer.from(offsets.buffer), Buffer.from(ids.buffer), Buffer.from(d.values)]);
    const path = join(dir, 'ragged.bin');
    writeFileSync(path, body);
    const file = MappedFile.open(path);
    expect(Buffer.from(file.bytes(0, 6)).toString()).toBe('RAGGED');
    const at = 16 + offsets.byteLength;
    class MySource extends ColumnSource<{ text: Ragged<Uint8Array>; id: Int32Array }> {
      constructor() {
        super([
          Column.ragged('text', { values: file.region(at + ids.byteLength, d.values.length, 'uint8'), offsets: file.region(16, 301, 'int64') }),
          Column.fixed('id', file.region(at, 300, 'int32')),
        ]);
      }
    }
    const src = new MySource();
    expect(src.columns.map((c) => [c.name, c.kind, c.dtype])).toEqual([
      ['text', 'ragged', 'uint8'],
      ['id', 'fixed', 'int32'],
    ]);
    for (const b of new DataLoader(src, { batchSize: 16, seed: 8, numEpochs: 2 })) {
      expectRows(b.text, b.indices, d.row);
      expect(Array.from(b.id)).toEqual(Array.from(b.indices, (i) => 1000 + i));
    }
    expect(() => file.region(3, 2, 'int32')).toThrow(/not aligned/);
    expect(() => file.region(0, body.length, 'uint16')).toThrow(/past the end/);
    expect(() => MappedFile.open(join(dir, 'missing'))).toThrow(expect.objectContaining({ code: 'RP_SOURCE_OPEN_FAILED' }));
  });

  it('Column.chunked: parts one after another equal the whole', () => {
    const d = raggedData(200, 12, 23);
    const x = Float64Array.from({ length: 400 }, (_, i) => i / 2);
    const cuts = [0, 70, 71, 200];
    const part = (k: number) => ({
      text: Column.ragged('p', { values: d.values, offsets: d.offsets.subarray(cuts[k], cuts[k + 1]! + 1) }),
      x: Column.fixed('p', x.subarray(cuts[k]! * 2, cuts[k + 1]! * 2), { rowShape: [2] }),
    });
    const parts = [0, 1, 2].map(part);
    const src = new ColumnSource<{ text: Ragged<Uint8Array>; x: Float64Array }>([
      Column.chunked('text', parts.map((p) => p.text)),
      Column.chunked('x', parts.map((p) => p.x)),
    ]);
    expect(src.length).toBe(200);
    for (const b of new DataLoader(src, { batchSize: 9, seed: 2 })) {
      expectRows(b.text, b.indices, d.row);
      b.indices.forEach((r, j) => expect([b.x[j * 2], b.x[j * 2 + 1]]).toEqual([x[r * 2], x[r * 2 + 1]]));
    }
    expect(() => Column.chunked('c', [parts[0]!.text, parts[1]!.x] as never)).toThrow(/parts\[1\].*differs from parts\[0\]/);
    expect(() => Column.chunked('c', [])).toThrow(/non-empty array/);
  });

  it('decodeBatch: what the loader yields; a throw keeps the batch and the state', () => {
    const d = raggedData(30, 6, 4);
    let fail = true;
    class Decoded extends ColumnSource<{ t: Ragged<Uint8Array> }, { rows: string[]; indices: Uint32Array }> {
      constructor() {
        super([Column.ragged('t', { values: d.values, offsets: d.offsets })]);
      }
      override decodeBatch(batch: ColumnBatch<{ t: Ragged<Uint8Array> }>) {
        if (fail) {
          fail = false;
          throw new Error('decode failed');
        }
        const { values, offsets } = batch.t;
        return { rows: Array.from(batch.indices, (_, j) => Buffer.from(values.subarray(offsets[j]!, offsets[j + 1]!)).toString('hex')), indices: batch.indices };
      }
    }
    const loader = new DataLoader(new Decoded(), { batchSize: 4, seed: 6 });
    const before = loader.getState();
    expect(() => loader.next()).toThrow('decode failed');
    expect(loader.getState()).toEqual(before);
    const b = loader.next().value!;
    expect(b.rows).toEqual(Array.from(b.indices, (i) => Buffer.from(d.row(i)).toString('hex')));
  });
});

describe('exact resume of ragged batches in a new process', () => {
  const n = 61;
  const options = { batchSize: 5, seed: 12, numEpochs: 3, dropRemainder: false };
  function run(shardCount: number, shardIndex: number, state: State, take: number) {
    const args = { n, maxLength: 30, dataSeed: 31, options: { ...options, shardCount, shardIndex }, state, take };
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'test/fixtures/ragged-resume-child.ts'), JSON.stringify(args)], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout) as { batches: Array<{ epoch: number; indices: number[]; values: string; offsets: number[]; lengths: number[] }> };
  }

  it.each([
    [2, 3, 5], // saved under 2 shards, resumed under 3: one round before the epoch's end
    [2, 3, 6], // at the epoch's last (short) round
    [1, 1, 13], // just after the edge
  ])('saved with %i shard(s), resumed with %i, after %i rounds', (savedShards, resumedShards, rounds) => {
    const { d, src } = source(n, 30, 31);
    const saver = new DataLoader(src, { ...options, shardCount: savedShards, shardIndex: 0 });
    for (let k = 0; k < rounds; k++) saver.next();
    const state = saver.getState();
    const position = state as { epoch: number; position: number };
    const config: OrderConfig = { n, ...options, shardCount: resumedShards, shuffle: true };
    for (let shard = 0; shard < resumedShards; shard++) {
      const { batches } = run(resumedShards, shard, state, 4);
      const want = expectedBatches(config, shard, { epoch: position.epoch, position: position.position }, 4);
      expect(batches.map((b) => b.indices)).toEqual(want.map((w) => w.indices));
      for (const b of batches) {
        const values = Buffer.from(b.values, 'hex');
        expectRows({ values: new Uint8Array(values), offsets: Int32Array.from(b.offsets) }, b.indices, d.row);
        expect(b.lengths).toEqual(b.indices.map((i) => Math.min(d.row(i).length, 4)));
      }
    }
  });
});

describe('ragged batch memory', () => {
  it('3,000 batches of ~1 MiB in a sync loop: RSS and arena blocks stay bounded', () => {
    const script = `
      const { DataLoader, ArraySource } = require(${JSON.stringify(join(root, 'src/index.ts'))});
      const { raggedData } = require(${JSON.stringify(join(root, 'test/helpers/ragged-data.ts'))});
      const d = raggedData(20000, 2048, 3);
      const loader = new DataLoader(new ArraySource({ t: { values: d.values, offsets: d.offsets } }), { batchSize: 1024, seed: 1, numEpochs: Infinity });
      for (let k = 0; k < 20; k++) loader.next();
      gc(); const start = process.memoryUsage().rss;
      for (let k = 0; k < 3000; k++) loader.next();
      process.stdout.write(JSON.stringify({ growth: process.memoryUsage().rss - start, blocks: loader.queue.arenaBlocks }));
      loader.close();`;
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    const { growth, blocks } = JSON.parse(r.stdout) as { growth: number; blocks: number };
    console.log(`3,000 ragged ~1 MiB batches: RSS +${(growth / 2 ** 20).toFixed(0)} MiB, ${blocks} arena blocks`);
    expect(growth).toBeLessThan(256 * 2 ** 20);
    expect(blocks).toBeLessThan(128);
  });
});
