// ArrowSource over record batches of every layout the core's chunk lookup
// (rp::ChunkIndex) distinguishes: uniform, a short last one, one batch,
// uneven and empty ones; fixed and ragged columns equal the written rows.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecordBatch, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ArrowSource, DataLoader } from '../src/index.js';
import { tempDir } from './helpers/temp-dir.js';

/** A file whose record batches hold `sizes` rows: x = row number (int32), s = its decimal string. */
function write(sizes: number[]): string {
  let row = 0;
  const batches = sizes.map((n) => {
    const x = Int32Array.from({ length: Math.max(n, 1) }, (_, j) => row + j);
    const s = Array.from(x, String);
    row += n;
    const batch = new Table({ x: vectorFromArray(x), s: vectorFromArray(s, new Utf8()) }).batches[0]!;
    return n === 0 ? batch.slice(0, 0) : batch; // an empty batch of the same schema
  });
  const path = join(tempDir('rp-arrow-chunks-'), 'rows.arrow');
  writeFileSync(path, tableToIPC(new Table(batches as RecordBatch[]), 'file'));
  return path;
}

describe('ArrowSource record batch layouts', () => {
  it.each([
    ['uniform', [64, 64, 64, 64]],
    ['last batch short', [100, 100, 100, 7]],
    ['one batch', [333]],
    ['uneven', [5, 300, 1, 77, 2, 150, 40]],
    ['uneven with empty batches', [30, 0, 0, 45, 0, 9]],
    ['first batch shorter', [3, 50, 50]],
  ])('%s: every shuffled row is the written one', (_, sizes) => {
    const source = ArrowSource.open(write(sizes));
    const n = sizes.reduce((a, b) => a + b, 0);
    expect(source.length).toBe(n);
    expect(source.recordBatches).toBe(sizes.length);
    const loader = new DataLoader(source, { batchSize: 37, seed: 9, numEpochs: 1 });
    const seen: number[] = [];
    for (const batch of loader) {
      const b = batch as unknown as { x: Int32Array; s: { values: Uint8Array; offsets: Int32Array }; indices: Uint32Array };
      for (let j = 0; j < b.indices.length; j++) {
        const i = b.indices[j]!;
        expect(b.x[j]).toBe(i);
        expect(Buffer.from(b.s.values.subarray(b.s.offsets[j], b.s.offsets[j + 1])).toString()).toBe(String(i));
        seen.push(i);
      }
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  });
});

describe('ArrowSource on folders and lists of files', () => {
  /** Stream shards of `sizes` rows (x = row number across shards) in a folder, with a state.json listing them. */
  function folder(sizes: number[], state?: unknown): { dir: string; files: string[] } {
    const dir = tempDir('rp-arrow-folder-');
    let row = 0;
    const files = sizes.map((n, k) => {
      const x = Int32Array.from({ length: n }, (_, j) => row + j);
      row += n;
      const file = `data-0000${k}-of-0000${sizes.length}.arrow`;
      writeFileSync(join(dir, file), tableToIPC(new Table({ x: vectorFromArray(x) }), k % 2 === 0 ? 'stream' : 'file'));
      return file;
    });
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state ?? { _data_files: files.map((filename) => ({ filename })) }));
    return { dir, files };
  }

  it('reads the shards state.json lists, in its order, streams and files alike', () => {
    const { dir, files } = folder([10, 25, 7]);
    const source = ArrowSource.open(dir);
    expect(source.shards.map((s) => [s.format, s.records])).toEqual([['stream', 10], ['file', 25], ['stream', 7]]);
    const batch = new DataLoader(source, { batchSize: 42, shuffle: false }).next().value as unknown as { x: Int32Array };
    expect(Array.from(batch.x)).toEqual(Array.from({ length: 42 }, (_, i) => i));
    // Another order in state.json is another row order.
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ _data_files: [files[2], files[0], files[1]].map((filename) => ({ filename })) }));
    const reordered = new DataLoader(ArrowSource.open(dir), { batchSize: 42, shuffle: false }).next().value as unknown as { x: Int32Array };
    expect(Array.from(reordered.x.subarray(0, 8))).toEqual([35, 36, 37, 38, 39, 40, 41, 0]);
  });

  it('refuses a folder without a valid state.json, naming it', () => {
    const bare = tempDir('rp-arrow-bare-');
    expect(() => ArrowSource.open(bare)).toThrow(expect.objectContaining({ code: 'RP_SOURCE_INVALID', message: expect.stringMatching(/without a readable state\.json/) }));
    expect(() => ArrowSource.open(folder([3], { _data_files: [] }).dir)).toThrow(/"_data_files" must be a non-empty array/);
    expect(() => ArrowSource.open(folder([3], { _data_files: [{ filename: '../x.arrow' }] }).dir)).toThrow(/_data_files\[0\]\.filename must be a file name in the directory/);
    const broken = folder([3]).dir;
    writeFileSync(join(broken, 'state.json'), '{');
    expect(() => ArrowSource.open(broken)).toThrow(expect.objectContaining({ code: 'RP_SOURCE_INVALID', message: expect.stringMatching(/state\.json is not valid JSON/) }));
    expect(() => ArrowSource.open([])).toThrow(expect.objectContaining({ code: 'RP_INVALID_ARGUMENT' }));
  });
});
