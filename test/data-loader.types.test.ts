// Batch types follow the source (checked by `npm run typecheck`; the runtime
// part only makes sure the snippets run).
import { describe, expect, it } from 'vitest';
import { ArraySource, DataLoader } from '../src/index.js';

describe('DataLoader types', () => {
  it('infers column, record and mapped batch types', async () => {
    const source = new ArraySource({ x: { data: new Float32Array(8), shape: [4, 2] }, y: { data: new Uint8Array(4), shape: [4] } });
    const batch = new DataLoader(source, { batchSize: 2 }).next().value!;
    const x: Float32Array = batch.x;
    const y: Uint8Array = batch.y;
    const epoch: number = batch.epoch;
    const indices: Uint32Array = batch.indices;
    // @ts-expect-error: not a column
    void batch.z;
    const strings: string[] = new DataLoader({ length: 3, get: (i: number) => `s${i}` }, { batchSize: 2 }).next().value!;
    // @ts-expect-error: records are strings
    const numbers: number[] = new DataLoader({ length: 3, get: (i: number) => `s${i}` }, { batchSize: 2 }).next().value!;
    const mapped = new DataLoader(source, { batchSize: 2, map: (b, ctx) => b.x.length + ctx.epoch });
    const sizes: number[] = [];
    for await (const size of mapped) sizes.push(size satisfies number);
    expect([x.length, y.length, epoch, indices.length, strings.length, numbers.length, sizes]).toEqual([4, 2, 0, 2, 2, 2, [4, 4]]);
  });
});
