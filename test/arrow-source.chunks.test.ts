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
