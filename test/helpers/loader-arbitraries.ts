// fast-check generators for DataLoader cases, and a runner that collects a
// loader's batches (kept as values, so a later batch overwriting an earlier
// one would show up when they are serialised at the end).
import fc from 'fast-check';
import type { DataLoader } from '../../src/index.js';
import type { LoaderCase, SourceKind } from './loader-cases.js';
import { expectedBatches } from './loader-oracle.js';

export function caseArbitrary(opts: { sources?: SourceKind[]; maxN?: number; maxShards?: number } = {}): fc.Arbitrary<LoaderCase> {
  return fc
    .record({
      source: fc.constantFrom<SourceKind>(...(opts.sources ?? ['array', 'records'])),
      n: fc.integer({ min: 1, max: opts.maxN ?? 60 }),
      batchSize: fc.integer({ min: 1, max: 12 }),
      shardCount: fc.integer({ min: 1, max: opts.maxShards ?? 5 }),
      shardPick: fc.nat(),
      dropRemainder: fc.boolean(),
      numEpochs: fc.constantFrom(1, 2, 3, Infinity),
      seed: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
      shuffle: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      prefetch: fc.integer({ min: 0, max: 4 }),
      map: fc.constantFrom<'none' | 'noise'>('none', 'noise'),
      dataSeed: fc.integer({ min: 0, max: 1000 }),
    })
    .map(({ shardPick, ...c }) => ({
      ...c,
      shardIndex: shardPick % c.shardCount,
      // dropRemainder needs at least one full round per epoch
      dropRemainder: c.dropRemainder && c.shardCount * c.batchSize <= c.n,
    }));
}

/** Batches in the first `epochs` epochs of a shard (what a run to the end gives, capped for Infinity). */
export function runLength(c: LoaderCase, epochs = 3): number {
  return expectedBatches({ ...c, numEpochs: Math.min(c.numEpochs, epochs) }, c.shardIndex).length;
}

/** Up to `limit` batches and the state after each (states[k] = after k batches). */
export function collect(loader: DataLoader<any, unknown>, limit: number): { values: unknown[]; states: unknown[]; ended: boolean } {
  const values: unknown[] = [];
  const states: unknown[] = [loader.getState()];
  while (values.length < limit) {
    const r = loader.next();
    if (r.done) return { values, states, ended: true };
    values.push(r.value);
    states.push(loader.getState());
  }
  return { values, states, ended: false };
}

/** Stop points: 0, the end, and one before / at / after each epoch end. */
export function stopPoints(epochs: number[], total: number): number[] {
  const points = new Set<number>([0, total]);
  for (let k = 1; k < epochs.length; k++) {
    if (epochs[k] !== epochs[k - 1]) for (const d of [-1, 0, 1]) points.add(k + d);
  }
  return [...points].filter((k) => k >= 0 && k <= total).sort((a, b) => a - b);
}
