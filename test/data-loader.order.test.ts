// The DataLoader's order and bytes, checked against an independent oracle
// (test/helpers/loader-oracle.ts), plus coverage across shards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ArraySource, DataLoader, random } from '../src/index.js';
import { caseArbitrary, collect, runLength } from './helpers/loader-arbitraries.js';
import { caseLoader, expectedBytes, type LoaderCase, serializeBatch } from './helpers/loader-cases.js';
import { batchKey, expectedBatches, expectedRounds, epochOrder } from './helpers/loader-oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'rp-loader-order-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('DataLoader order', () => {
  it('gives exactly the documented batches, bytes and states (property)', () => {
    fc.assert(
      fc.property(caseArbitrary({ sources: ['array', 'records', 'npy'] }), (c) => {
        const total = runLength(c);
        const loader = caseLoader(c, dir);
        const { values, states, ended } = collect(loader, total);
        loader.close();
        const expected = expectedBatches({ ...c, numEpochs: Math.min(c.numEpochs, 3) }, c.shardIndex);
        expect(values.length).toBe(expected.length);
        if (c.numEpochs <= 3) expect(ended || values.length === total).toBe(true);
        // Serialised only now: earlier batches must not have been overwritten.
        values.forEach((v, k) => {
          const e = expected[k]!;
          const key = batchKey(c.seed, e.epoch, e.indices[0] ?? c.n);
          expect(serializeBatch(v).equals(expectedBytes(c, e.epoch, e.indices, key))).toBe(true);
          expect(states[k + 1]).toMatchObject({ epoch: e.after.epoch, position: e.after.position });
        });
        if (c.numEpochs !== Infinity) {
          const again = caseLoader(c, dir, false);
          const full = collect(again, total + 5);
          expect(full.ended).toBe(true);
          expect(full.values.length).toBe(total);
          again.close();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('covers every record exactly once per epoch across shards, or the documented subset with dropRemainder (property)', () => {
    fc.assert(
      fc.property(caseArbitrary({ maxShards: 6 }), (c) => {
        const epochs = Math.min(c.numEpochs, 2);
        const seen: number[][] = Array.from({ length: epochs }, () => new Array<number>(c.n).fill(0));
        const counts: number[][] = [];
        for (let k = 0; k < c.shardCount; k++) {
          const loader = caseLoader({ ...c, shardIndex: k, map: 'none' }, dir);
          const perEpoch = new Array<number>(epochs).fill(0);
          for (;;) {
            const r = loader.next();
            if (r.done) break;
            const b = r.value as { epoch: number; indices: Uint32Array };
            if (b.epoch >= epochs) break;
            perEpoch[b.epoch]! += 1;
            for (const i of b.indices) seen[b.epoch]![i]! += 1;
          }
          loader.close();
          counts.push(perEpoch);
        }
        // Every shard takes part in every round, so all shards yield as many batches.
        for (const perEpoch of counts) expect(perEpoch).toEqual(counts[0]);
        const S = c.shardCount * c.batchSize;
        for (let e = 0; e < epochs; e++) {
          const order = epochOrder(c, e);
          const kept = c.dropRemainder ? Math.floor(c.n / S) * S : c.n;
          const want = new Array<number>(c.n).fill(0);
          for (let p = 0; p < kept; p++) want[order[p]!] = 1;
          expect(seen[e]).toEqual(want);
          expect(counts[0]![e]).toBe(Math.ceil(kept / S));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('splits a short last step evenly; shards past the remainder get empty batches', () => {
    const c: LoaderCase = {
      source: 'records', n: 10, batchSize: 4, shardCount: 5, shardIndex: 0, dropRemainder: false,
      numEpochs: 1, seed: 3, shuffle: false, prefetch: 2, map: 'none', dataSeed: 0,
    };
    const sizes = [0, 1, 2, 3, 4].map((k) => {
      const loader = caseLoader({ ...c, shardIndex: k });
      const out = collect(loader, 10).values.map((b) => Array.from((b as { indices: Uint32Array }).indices));
      loader.close();
      return out;
    });
    // 10 records, steps of 20: one step split 2,2,2,2,2.
    expect(sizes).toEqual([[[0, 1]], [[2, 3]], [[4, 5]], [[6, 7]], [[8, 9]]]);
    const three = [0, 1, 2, 3, 4].map((k) => {
      const loader = caseLoader({ ...c, n: 13, batchSize: 2, shardIndex: k });
      const out = collect(loader, 10).values.map((b) => Array.from((b as { indices: Uint32Array }).indices));
      loader.close();
      return out;
    });
    // 13 records, steps of 10: a full step, then 3 left: 1,1,1,0,0.
    expect(three).toEqual([
      [[0, 1], [10]],
      [[2, 3], [11]],
      [[4, 5], [12]],
      [[6, 7], []],
      [[8, 9], []],
    ]);
  });

  it('reshuffles every epoch with the documented keys, and shuffle: false keeps the natural order', () => {
    const n = 1000;
    const source = { length: n, get: (i: number) => i };
    const loader = new DataLoader(source, { batchSize: n, numEpochs: 3, seed: 7n });
    const epochs = [...loader].map((b) => Array.from(b.indices));
    expect(epochs.length).toBe(3);
    for (let e = 0; e < 3; e++) {
      const key = random.foldIn(random.foldIn(random.foldIn(random.key(7), 0), e), 0);
      expect(epochs[e]).toEqual(Array.from(random.permutation(key, n)));
      expect([...epochs[e]!].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    expect(epochs[0]).not.toEqual(epochs[1]);
    expect(epochs[1]).not.toEqual(epochs[2]);
    const plain = new DataLoader(source, { batchSize: 300, shuffle: false });
    expect([...plain].flatMap((b) => [...b])).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('returns contiguous, independent column arrays of rows × rowLength elements', () => {
    const n = 50;
    const x = Float64Array.from({ length: n * 4 }, (_, i) => i * 0.25);
    const y = Int16Array.from({ length: n }, (_, i) => -i);
    const source = new ArraySource({ x: { data: x, shape: [n, 2, 2] }, y: { data: y, shape: [n] } });
    expect(source.columns.map((col) => [col.name, col.dtype, col.rowShape])).toEqual([
      ['x', 'float64', [2, 2]],
      ['y', 'int16', []],
    ]);
    const loader = new DataLoader(source, { batchSize: 8, seed: 1, prefetch: 3 });
    const batches = [...loader];
    expect(batches.map((b) => b.x.length)).toEqual([32, 32, 32, 32, 32, 32, 8]);
    for (const b of batches) {
      expect(b.x).toBeInstanceOf(Float64Array);
      expect(b.y).toBeInstanceOf(Int16Array);
      expect(Object.keys(b)).toEqual(['x', 'y', 'epoch', 'indices']);
      b.indices.forEach((r, j) => {
        expect(Array.from(b.x.subarray(j * 4, j * 4 + 4))).toEqual(Array.from(x.subarray(r * 4, r * 4 + 4)));
        expect(b.y[j]).toBe(r === 0 ? 0 : -r);
      });
    }
    // Batches never overlap (small ones may share a slab's ArrayBuffer):
    // writing into one leaves the others alone.
    const ranges = batches.flatMap((b) => [b.x, b.y, b.indices].map((v) => ({ buffer: v.buffer, from: v.byteOffset, to: v.byteOffset + v.byteLength })));
    for (const [i, a] of ranges.entries()) {
      for (const b of ranges.slice(i + 1)) if (a.buffer === b.buffer) expect(a.to <= b.from || b.to <= a.from).toBe(true);
    }
    batches[0]!.x.fill(NaN);
    expect(batches.slice(1).every((b) => b.x.every((v) => !Number.isNaN(v)))).toBe(true);
    // A shared slab cannot be moved to another thread from under the C++ threads
    // (the first batches use blocks of their own, as many as the queue keeps
    // ahead, which for small batches is 64 KiB worth; later ones slabs).
    const endless = new DataLoader(source, { batchSize: 8, seed: 1, prefetch: 3, numEpochs: Infinity });
    let prev = endless.next().value!.x.buffer;
    let slab: ArrayBufferLike | undefined;
    for (let i = 0; i < 1000 && slab === undefined; i++) {
      const next = endless.next().value!.x.buffer;
      if (next === prev) slab = next;
      prev = next;
    }
    endless.close();
    expect(slab).toBeDefined();
    structuredClone(slab!, { transfer: [slab as ArrayBuffer] });
    expect(slab!.byteLength).toBeGreaterThan(0);
  });

  it('gives map() a key derived from (seed, epoch, first record) and the indices', () => {
    const source = { length: 20, get: (i: number) => i * 10 };
    const seen: Array<{ key: string; epoch: number; indices: number[] }> = [];
    const loader = new DataLoader(source, {
      batchSize: 6,
      seed: 99,
      numEpochs: 2,
      map: (batch, ctx) => {
        seen.push({ key: String(ctx.key), epoch: ctx.epoch, indices: Array.from(ctx.indices) });
        return batch.reduce((a, b) => a + b, 0);
      },
    });
    const sums = [...loader];
    const expected = expectedRounds(
      { n: 20, batchSize: 6, shardCount: 1, dropRemainder: false, numEpochs: 2, seed: 99, shuffle: true },
      { epoch: 0, position: 0 },
    ).map((s) => s[0]!);
    expect(sums).toEqual(expected.map((e) => e.indices.reduce((a, i) => a + i * 10, 0)));
    expect(seen).toEqual(expected.map((e) => ({ key: String(batchKey(99, e.epoch, e.indices[0]!)), epoch: e.epoch, indices: e.indices })));
  });

  it('handles a bigint seed above 2^53 and keeps it exact in the state', () => {
    const seed = 2n ** 64n - 12345n;
    const loader = new DataLoader({ length: 30, get: (i: number) => i }, { batchSize: 30, seed });
    const [batch] = [...loader];
    expect(Array.from(batch!.indices)).toEqual(
      expectedBatches({ n: 30, batchSize: 30, shardCount: 1, dropRemainder: false, numEpochs: 1, seed, shuffle: true }, 0)[0]!.indices,
    );
    expect((loader.getState() as { fingerprint: { seed: unknown } }).fingerprint.seed).toBe(seed);
  });

  it('runs forever with numEpochs: Infinity', () => {
    const loader = new DataLoader({ length: 3, get: (i: number) => i }, { batchSize: 2, numEpochs: Infinity, prefetch: 1 });
    const epochs: number[] = [];
    for (const b of loader) {
      epochs.push(b.epoch);
      if (epochs.length === 200) break;
    }
    expect(epochs[199]).toBe(99);
    loader.close();
  });
});
