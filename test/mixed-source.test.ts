// MixedSource: window proportions (property), every record's source and index
// against a sequential count, batches equal to the sources' rows (fixed,
// ragged and chunked columns), lengths for 'first' and 'all' with fresh
// orders per repeat, resume at random points over changing shard counts,
// the fingerprint's refusal and allowWeightChange, and disagreeing sources.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecordBatch, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArraySource, ArrowSource, DataLoader, IncompatibleStateError, MixedSource, type Ragged } from '../src/index.js';
import { tempDir } from './helpers/temp-dir.js';

type C = { x: Float64Array; t: Ragged<Int32Array> };

/** Source s: n records; x = s * 1e6 + i, t = [s * 1e6 + i] repeated i % 4 times. */
function source(s: number, n: number): ArraySource<C> {
  const x = Float64Array.from({ length: n }, (_, i) => s * 1e6 + i);
  const lengths = Array.from({ length: n }, (_, i) => i % 4);
  const offsets = Int32Array.from([0, ...lengths.map(((sum) => (l: number) => (sum += l))(0))]);
  const values = Int32Array.from(lengths.flatMap((l, i) => Array<number>(l).fill(s * 1e6 + i)));
  return new ArraySource({ x: { data: x, shape: [n] }, t: { values, offsets } }) as unknown as ArraySource<C>;
}

function mix(weights: number[], lengths: number[], options: ConstructorParameters<typeof MixedSource>[1] = {}) {
  return new MixedSource<C>(weights.map((weight, k) => ({ source: source(k, lengths[k]!), weight })), options);
}

/** Record i's source, for the first `count` records. */
function sourcesOf(m: MixedSource<C>, count: number): number[] {
  return m.locate(Array.from({ length: count }, (_, i) => i)).map((r) => r.source);
}

describe('MixedSource', () => {
  it('keeps every source within windowBound of W × weight over every window (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.01, max: 100, noNaN: true }), { minLength: 2, maxLength: 5 }), fc.integer({ min: 1, max: 2 ** 20 }), (weights, seed) => {
        const m = mix(weights, weights.map(() => 5000), { seed, length: 2000 });
        const total = weights.reduce((a, b) => a + b, 0);
        const of = sourcesOf(m, 2000);
        if (weights.length === 2) expect(m.windowBound).toBeLessThanOrEqual(1);
        for (let k = 0; k < weights.length; k++) {
          const prefix = [0];
          for (const s of of) prefix.push(prefix[prefix.length - 1]! + (s === k ? 1 : 0));
          for (const w of [1, 2, 5, 13, 100, 1000]) {
            for (let a = 0; a + w <= of.length; a += 7) {
              const dev = Math.abs(prefix[a + w]! - prefix[a]! - (w * weights[k]!) / total);
              if (dev > m.windowBound + 1e-9) throw new Error(`source ${k}, window [${a}, +${w}): ${dev} > ${m.windowBound}`);
            }
          }
        }
      }),
      { numRuns: 40, seed: 23 },
    );
  });

  it('maps each record to the next unread record of its source (brute-force count), and batches hold those rows', () => {
    for (const [weights, lengths] of [
      [[1, 1], [30, 30]],
      [[0.7, 0.2, 0.1], [70, 20, 10]],
      [[3, 1, 1, 5], [40, 90, 13, 60]],
    ] as const) {
      const m = mix([...weights], [...lengths]);
      const located = m.locate(Array.from({ length: m.length }, (_, i) => i));
      const next = weights.map(() => 0);
      for (const r of located) expect(r.index).toBe(next[r.source]!++);
      // 'first': no source repeats, and one is read whole.
      expect(next.every((n, k) => n <= lengths[k]!)).toBe(true);
      expect(next.some((n, k) => n === lengths[k]!)).toBe(true);
      // The loader's batches (shuffled) hold exactly those rows.
      const loader = new DataLoader(m, { batchSize: 16, seed: 2, numEpochs: 1 });
      for (const b of loader) {
        b.indices.forEach((i, j) => {
          const { source: s, index } = located[i]!;
          expect(b.x[j]).toBe(s * 1e6 + index);
          expect(Array.from(b.t.values.subarray(b.t.offsets[j], b.t.offsets[j + 1]))).toEqual(Array<number>(index % 4).fill(s * 1e6 + index));
        });
      }
    }
  });

  it("'all' reads every source whole; sources that run out repeat, each repeat a fresh order of all their rows", () => {
    const m = mix([1, 1, 1], [5, 50, 120], { exhausted: 'all', seed: 9 });
    const located = m.locate(Array.from({ length: m.length }, (_, i) => i));
    const rows = [0, 1, 2].map((k) => located.filter((r) => r.source === k).map((r) => r.index));
    expect(rows[2]!.length).toBeGreaterThanOrEqual(120);
    expect(new Set(rows[2]).size).toBe(120);
    const repeats: number[][] = [];
    for (let a = 0; a + 5 <= rows[0]!.length; a += 5) repeats.push(rows[0]!.slice(a, a + 5));
    expect(repeats.length).toBeGreaterThan(10);
    for (const r of repeats) expect([...r].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(repeats[0]).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(repeats.map((r) => r.join())).size).toBeGreaterThan(5);
    // The seed keys the repeats only.
    const other = mix([1, 1, 1], [5, 50, 120], { exhausted: 'all', seed: 10 }).locate(Array.from({ length: m.length }, (_, i) => i));
    expect(other.map((r) => r.source)).toEqual(located.map((r) => r.source));
    expect(other.map((r) => r.index)).not.toEqual(located.map((r) => r.index));
    // An explicit length.
    expect(mix([1, 2], [10, 10], { length: 1000 }).length).toBe(1000);
  });

  it('mixes ragged, fixed and chunked columns (an Arrow file of uneven record batches beside arrays)', () => {
    const batches = [7, 30, 3].map((n, k) => {
      const base = k === 0 ? 0 : k === 1 ? 7 : 37;
      return new Table({ x: vectorFromArray(Float64Array.from({ length: n }, (_, i) => 5e6 + base + i)) }).batches[0]!;
    });
    const path = join(tempDir('rp-mix-'), 'x.arrow');
    writeFileSync(path, tableToIPC(new Table(batches as RecordBatch[]), 'file'));
    const arrays = new ArraySource({ x: { data: Float64Array.from({ length: 25 }, (_, i) => i), shape: [25] } });
    const m = new MixedSource([{ source: arrays, weight: 1 }, { source: ArrowSource.open(path), weight: 2 }], { exhausted: 'all' });
    const located = m.locate(Array.from({ length: m.length }, (_, i) => i));
    const loader = new DataLoader(m, { batchSize: 11, seed: 4, numEpochs: 1 });
    let seen = 0;
    for (const b of loader) {
      b.indices.forEach((i, j) => {
        const { source: s, index } = located[i]!;
        expect((b as unknown as { x: Float64Array }).x[j]).toBe(s === 0 ? index : 5e6 + index);
        seen++;
      });
    }
    expect(seen).toBe(m.length);
  });

  it('resumes exactly at random points, over changing shard counts', () => {
    const make = () => mix([0.5, 0.3, 0.2], [400, 300, 90], { seed: 5 });
    const options = { batchSize: 32, seed: 7, numEpochs: 2 };
    const reference = new DataLoader(make(), options);
    const order: number[][] = [];
    const xs: number[][] = [];
    const states: unknown[] = [];
    for (const b of reference) {
      order.push(Array.from(b.indices));
      xs.push(Array.from(b.x));
      states.push(reference.getState());
    }
    const perEpoch = Math.ceil(make().length / options.batchSize);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: order.length - 2 }), fc.integer({ min: 1, max: 4 }), (k, shards) => {
        const resumed = new DataLoader(make(), options);
        resumed.setState(states[k] as never);
        if (shards === 1) {
          expect([...resumed].map((b) => Array.from(b.x))).toEqual(xs.slice(k + 1));
          return;
        }
        // Over `shards` loaders the rest of the epoch is seen once.
        const epoch = Math.floor((k + 1) / perEpoch);
        const epochEnd = (epoch + 1) * perEpoch;
        const rest = order.slice(k + 1, epochEnd).flat().sort((a, b) => a - b);
        const seen: number[] = [];
        for (let shard = 0; shard < shards; shard++) {
          const l = new DataLoader(make(), { ...options, shardCount: shards, shardIndex: shard, batchSize: 8 });
          l.setState(states[k] as never);
          for (const b of l) {
            if (b.epoch !== epoch) break;
            seen.push(...b.indices);
          }
        }
        expect(seen.sort((a, b) => a - b)).toEqual(rest);
      }),
      { numRuns: 16, seed: 3, examples: [[perEpoch - 1, 3], [perEpoch - 2, 2]] },
    );
  });

  it('refuses a state saved with other weights or sources, unless allowWeightChange', () => {
    const loader = new DataLoader(mix([0.7, 0.2, 0.1], [70, 20, 10]), { batchSize: 10, seed: 1 });
    loader.next();
    loader.next();
    const state = loader.getState();
    expect((state as { fingerprint: { source: unknown } }).fingerprint.source).toMatchObject({ rows: [70, 20, 10], weights: [0.7, 0.2, 0.1] });
    const other = new DataLoader(mix([0.5, 0.3, 0.2], [70, 20, 10]), { batchSize: 10, seed: 1 });
    expect(() => other.setState(state)).toThrow(IncompatibleStateError);
    expect(() => other.setState(state)).toThrow(/source\.weights/);
    // Other source lengths: refused even with allowWeightChange.
    const longer = new DataLoader(mix([0.7, 0.2, 0.1], [70, 21, 10], { allowWeightChange: true }), { batchSize: 10, seed: 1 });
    expect(() => longer.setState(state)).toThrow(/source\.rows/);
    // With it, the loader continues from the same position under the new weights.
    const changed = mix([0.5, 0.3, 0.2], [70, 20, 10], { allowWeightChange: true });
    const resumed = new DataLoader(changed, { batchSize: 10, seed: 1 });
    resumed.setState(state);
    expect(resumed.getState()).toMatchObject({ epoch: 0, position: 20 });
    expect(resumed.next().value!.indices.length).toBe(10);
    // A plain source's state does not resume a mix, nor the reverse.
    const plain = new DataLoader(source(0, 100), { batchSize: 10, seed: 1 });
    expect(() => plain.setState(state)).toThrow(IncompatibleStateError);
    expect(() => new DataLoader(mix([1, 1], [50, 50]), { batchSize: 10, seed: 1 }).setState(plain.getState())).toThrow(IncompatibleStateError);
  });

  it('refuses sources whose columns disagree, naming the source and the column', () => {
    const a = source(0, 10);
    const floats = new ArraySource({ x: { data: new Float32Array(10), shape: [10] }, t: { values: new Int32Array(0), offsets: new Int32Array(11) } });
    const fixedT = new ArraySource({ x: { data: new Float64Array(10), shape: [10] }, t: { data: new Int32Array(10), shape: [10] } });
    const missing = new ArraySource({ x: { data: new Float64Array(10), shape: [10] } });
    const cases: [ArraySource, RegExp][] = [
      [floats, /entries\[1\]\.source: column "x" is fixed float32 \[\] but entries\[0\]\.source's is fixed float64 \[\]/],
      [fixedT, /entries\[1\]\.source: column "t" is fixed int32 \[\] but entries\[0\]\.source's is ragged int32/],
      [missing, /entries\[1\]\.source has no column "t"/],
    ];
    for (const [b, message] of cases) {
      expect(() => new MixedSource([{ source: a, weight: 1 }, { source: b, weight: 1 }])).toThrow(expect.objectContaining({ code: 'RP_SOURCE_INVALID', message: expect.stringMatching(message) }));
    }
    expect(() => new MixedSource([{ source: missing, weight: 1 }, { source: a, weight: 1 }])).toThrow(/entries\[1\]\.source has a column "t"/);
    expect(() => new MixedSource([{ source: a, weight: 0 }])).toThrow(expect.objectContaining({ code: 'RP_INVALID_ARGUMENT', message: expect.stringMatching(/entries\[0\]\.weight must be positive/) }));
    expect(() => new MixedSource([])).toThrow(TypeError);
    expect(() => new MixedSource([{ source: a, weight: 1 }], { exhausted: 'none' as never })).toThrow(/exhausted/);
  });
});
