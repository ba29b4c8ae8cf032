// recycle(batch): later batches reuse a returned batch's memory at once, and
// the stream (bytes, indices, state) is exactly the one without recycling.
import { describe, expect, it } from 'vitest';
import { ArraySource, DataLoader } from '../src/index.js';

const ROW = 1024; // 8-row batches are 8 KiB blocks: above the slab size, so recyclable
const n = 100;
const data = new Uint8Array(n * ROW).map((_, i) => (i * 131 + (i >> 10)) & 0xff);
const source = new ArraySource({ x: { data, shape: [n, ROW] } });

type Batch = { x: Uint8Array; indices: Uint32Array; epoch: number };

function run(prefetch: number, recycle: boolean, batches: number, restoreAt?: number) {
  const loader = new DataLoader(source, { batchSize: 8, seed: 5, numEpochs: Infinity, prefetch });
  const out: { bytes: Buffer; indices: number[]; state: string }[] = [];
  const buffers = new Set<ArrayBufferLike>();
  let arenaBlocks = 0;
  let saved: ReturnType<typeof loader.getState> | undefined;
  // A loader may start on the pool a closed one left: count what it adds.
  const blocks = () => (loader as unknown as { queue: { arenaBlocks: number } }).queue.arenaBlocks;
  const startBlocks = blocks();
  try {
    for (let i = 0; i < batches; i++) {
      if (restoreAt !== undefined && i === restoreAt) saved = loader.getState();
      if (restoreAt !== undefined && i === restoreAt + 5) loader.setState(saved!); // rewind 5 batches
      const batch = loader.next().value as Batch;
      buffers.add(batch.x.buffer);
      out.push({ bytes: Buffer.from(batch.x), indices: Array.from(batch.indices), state: JSON.stringify(loader.getState()) });
      if (recycle) loader.recycle(batch);
    }
    // The blocks the loader's memory has made meanwhile: reuse keeps this small.
    arenaBlocks = blocks() - startBlocks;
  } finally {
    loader.close();
  }
  return { out, distinctBuffers: buffers.size, arenaBlocks };
}

describe('DataLoader.recycle', () => {
  it.each([0, 2, 4])('gives the same stream with and without recycling (prefetch %i)', (prefetch) => {
    const plain = run(prefetch, false, 60);
    const recycled = run(prefetch, true, 60);
    expect(recycled.out).toEqual(plain.out);
    // Each batch is a buffer of its own; recycling reuses their memory at
    // once: a handful of new blocks instead of one per batch. (Without it,
    // how many are new depends on what the collector has returned to the
    // pool the earlier loaders of this process left.)
    expect(plain.distinctBuffers).toBe(60);
    expect(recycled.distinctBuffers).toBe(60);
    expect(recycled.arenaBlocks).toBeLessThanOrEqual(prefetch + 8);
  });

  it('stays exact across setState with recycled blocks in flight', () => {
    expect(run(2, true, 40, 10).out).toEqual(run(2, false, 40, 10).out);
  });

  it('refuses batches it did not hand out, and a second recycle of the same batch', () => {
    const loader = new DataLoader(source, { batchSize: 8, seed: 5 });
    try {
      const batch = loader.next().value as Batch;
      const view = batch.x;
      loader.recycle(batch);
      expect(view.length).toBe(0); // detached: nothing can reach the reused memory
      expect(() => loader.recycle(batch)).toThrow(/already recycled/);
      expect(() => loader.recycle({ indices: new Uint32Array(8) })).toThrow(TypeError);
      expect(() => loader.recycle({} as never)).toThrow(/no indices/);
      expect(() => loader.recycle(null as never)).toThrow(TypeError);
    } finally {
      loader.close();
    }
  });

  it('ignores small batches, which share pooled slabs', () => {
    const small = new ArraySource({ x: { data: new Uint8Array(100 * 4), shape: [100, 4] } });
    const loader = new DataLoader(small, { batchSize: 8, seed: 1 });
    try {
      const batch = loader.next().value as Batch;
      expect(() => loader.recycle(batch)).not.toThrow();
      expect(batch.x.length).toBe(32); // left as it is
      expect(loader.next().done).toBe(false);
    } finally {
      loader.close();
    }
  });

  // Whatever the batch size: slab batches (4 KiB or less) and own-buffer batches alike.
  it.each([
    ['a small-batch (slab) loader', 4],
    ['a large-batch loader', ROW],
  ])('%s refuses a batch it did not return with RP_INVALID_ARGUMENT', (_, rowBytes) => {
    const rows = new ArraySource({ x: { data: new Uint8Array(100 * rowBytes), shape: [100, rowBytes] } });
    const loader = new DataLoader(rows, { batchSize: 8, seed: 1 });
    const other = new DataLoader(rows, { batchSize: 8, seed: 1 });
    try {
      const mine = loader.next().value as Batch;
      const theirs = other.next().value as Batch;
      const foreign = [theirs, { indices: new Uint32Array(8) }, { indices: mine.indices.slice() }];
      for (const batch of foreign) {
        expect(() => loader.recycle(batch)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'RP_INVALID_ARGUMENT' }));
      }
      expect(() => loader.recycle(mine)).not.toThrow();
    } finally {
      loader.close();
      other.close();
    }
  });
});
