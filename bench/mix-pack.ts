// Issue 23's figures, in two sections:
//  - mix: a MixedSource of three in-memory sources (1 KiB rows, weights
//    0.5/0.3/0.2) on the default path (shuffled batches of 8192, default
//    options, no recycle()) against one ArraySource of the same bytes, timed
//    round by round in the same run; and the state size of a packed, mixed
//    loader (msgpack, as a step file holds it).
//  - pack: concat packing of ragged Int32 token rows (long-tailed lengths,
//    mean 300, sequences of 2048) against the memcpy floor of the same token
//    bytes, and firstFit's packing efficiency (non-pad fraction) on them.
import { ArraySource, DataLoader, encodeState, MixedSource, packSequences, type Ragged } from '../src/index.js';
import { type BenchContext, interleave, median, now, type Row, type Section } from './harness.js';

const BATCH_ROWS = 8192;

/** Drains `batches` fresh batches (the default path: each dropped after use). */
function drain(loader: { next(): IteratorResult<unknown> }, batches: number): void {
  for (let i = 0; i < batches; i++) if (loader.next().done === true) throw new Error('loader ran out of batches');
}

/** Row lengths from a log-normal (sigma 1) with the given mean: a long tail, as real documents have. */
function longTailed(rows: number, mean: number, seed: number): Int32Array {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const mu = Math.log(mean) - 0.5;
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const z = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    out[i] = Math.max(1, Math.floor(Math.exp(mu + z)));
  }
  return out;
}

function tokenSource(rows: number, seed: number): ArraySource<{ tokens: Ragged<Int32Array> }> {
  const lengths = longTailed(rows, 300, seed);
  const offsets = new Int32Array(rows + 1);
  for (let i = 0; i < rows; i++) offsets[i + 1] = offsets[i]! + lengths[i]!;
  const values = new Int32Array(offsets[rows]!);
  for (let i = 0; i < values.length; i++) values[i] = i & 0xffff;
  return new ArraySource({ tokens: { values, offsets } }) as unknown as ArraySource<{ tokens: Ragged<Int32Array> }>;
}

async function runMix(ctx: BenchContext): Promise<Row[]> {
  const totalBytes = ctx.quick ? 128 << 20 : 512 << 20;
  const rowFloats = 256; // 1 KiB rows
  const weights = [0.5, 0.3, 0.2];
  const totalRows = totalBytes / 1024;
  const parts = weights.map((w) => new Float32Array(Math.floor(totalRows * w) * rowFloats).fill(1));
  const sources = parts.map((data) => new ArraySource({ x: { data, shape: [data.length / rowFloats, rowFloats] } }));
  const mixed = new MixedSource(sources.map((source, k) => ({ source, weight: weights[k]! })));
  const whole = new ArraySource({ x: { data: new Float32Array(totalRows * rowFloats).fill(1), shape: [totalRows, rowFloats] } });
  const batches = ctx.quick ? 12 : 32;
  const options = { batchSize: BATCH_ROWS, numEpochs: Infinity };
  const mixLoader = new DataLoader(mixed, options);
  const oneLoader = new DataLoader(whole, options);
  drain(mixLoader, 4);
  drain(oneLoader, 4);
  const t = interleave({ mix: () => drain(mixLoader, batches), one: () => drain(oneLoader, batches) }, ctx.repeats);
  mixLoader.close();
  oneLoader.close();
  const gbps = (ms: number) => (2 * batches * BATCH_ROWS * 1024) / (ms * 1e6);
  const ratio = median(t.one) / median(t.mix);
  const rows: Row[] = [
    {
      figure: `MixedSource of 3 ArraySources (weights 0.5/0.3/0.2, ${totalBytes >> 20} MiB), 1 KiB rows × ${BATCH_ROWS}, fresh batches`,
      value: gbps(median(t.mix)),
      unit: 'GB/s',
      ratio,
      baseline: `one ArraySource of the same bytes: ${gbps(median(t.one)).toFixed(2)} GB/s`,
      target: '≥ 0.9×',
      met: ratio >= 0.9,
      note: 'read + write bytes',
    },
  ];
  // A packed, mixed loader's state: 3 token sources, mixed, packed both ways.
  const tokenMix = new MixedSource([0, 1, 2].map((k) => ({ source: tokenSource(2000, k + 1), weight: [0.7, 0.2, 0.1][k]! })), { seed: 1 });
  for (const strategy of ['concat', 'firstFit'] as const) {
    const packer = packSequences(new DataLoader(tokenMix, { batchSize: 64, seed: 5, numEpochs: Infinity }), { column: 'tokens', length: 2048, strategy, batchSize: 8 });
    for (let i = 0; i < 50; i++) packer.next();
    const bytes = encodeState(packer.getState()).length;
    rows.push({ figure: `state of packSequences(${strategy}) over a DataLoader of a 3-source MixedSource, msgpack`, value: bytes, unit: 'B', target: '< 1024', met: bytes < 1024 });
  }
  return rows;
}

async function runPack(ctx: BenchContext): Promise<Row[]> {
  const rowsCount = ctx.quick ? 20_000 : 100_000;
  const source = tokenSource(rowsCount, 7);
  const values = (source.columns[0] as unknown as { data: Int32Array }).data;
  const tokenBytes = values.byteLength;
  const meanRow = values.length / rowsCount;
  // memcpy floor: the same token bytes copied once between two arrays (both faulted in).
  const copy = new Int32Array(values.length);
  copy.set(values);
  const floorMs = median(Array.from({ length: ctx.repeats }, () => {
    const t0 = now();
    copy.set(values);
    return now() - t0;
  }));
  const floor = tokenBytes / (floorMs * 1e6);
  // One loader per case, over endless epochs, warmed up: each round packs one epoch's worth of tokens
  // (and the loader-only case drains one epoch's batches), so no round pays a new loader's first page faults.
  // Inner batches of 256 rows (~300 KB) stay in cache between the loader's gather and the packing copy.
  const loaderOptions = { batchSize: 256, seed: 3, numEpochs: Infinity };
  const sequences = Math.ceil(values.length / 2048 / 8);
  const packers = {
    concat: packSequences(new DataLoader(source, loaderOptions), { column: 'tokens', length: 2048, strategy: 'concat', batchSize: 8 }),
    firstFit: packSequences(new DataLoader(source, loaderOptions), { column: 'tokens', length: 2048, strategy: 'firstFit', batchSize: 8 }),
  };
  let slots = 0;
  let used = 0;
  const pack = (strategy: 'concat' | 'firstFit', count = sequences, measure = false) => {
    for (let i = 0; i < count; i++) {
      const b = packers[strategy].next().value!;
      if (measure) {
        slots += b.segmentIds.length;
        for (let k = 0; k < b.segmentIds.length; k++) used += b.segmentIds[k] === 0 ? 0 : 1;
      }
    }
  };
  const plain = new DataLoader(source, loaderOptions);
  const inner = Math.ceil(rowsCount / loaderOptions.batchSize);
  const loaderOnly = () => drain(plain, inner);
  pack('concat', sequences); // warm-up: a whole epoch
  loaderOnly();
  const t = interleave({ concat: () => pack('concat'), loader: loaderOnly }, ctx.repeats);
  const concatMs = median(t.concat);
  const loaderMs = median(t.loader);
  const concat = tokenBytes / (concatMs * 1e6);
  const alone = tokenBytes / (Math.max(1e-6, concatMs - loaderMs) * 1e6);
  pack('firstFit', sequences, true); // warm-up, and the non-pad fraction over an epoch's worth
  const firstFit = { efficiency: used / slots };
  const t0 = now();
  pack('firstFit', sequences);
  const firstFitRate = tokenBytes / ((now() - t0) * 1e6);
  return [
    { figure: `memcpy of the token bytes (${(tokenBytes / 2 ** 20).toFixed(0)} MiB of Int32 tokens)`, value: floor, unit: 'GB/s', note: 'bytes copied per second' },
    {
      figure: `packSequences concat, ${rowsCount} rows (long-tailed, mean ${meanRow.toFixed(0)} tokens), length 2048, batchSize 8, from a DataLoader (shuffled batches of 256 rows), an epoch's tokens per round`,
      value: concat,
      unit: 'GB/s',
      ratio: concat / floor,
      baseline: 'memcpy of the token bytes',
      target: '≥ 0.5×',
      met: concat / floor >= 0.5,
      note: 'token bytes per second, the loader\'s gather included',
    },
    {
      figure: 'the same, packing alone (the run minus the DataLoader epoch it reads, timed round by round)',
      value: alone,
      unit: 'GB/s',
      ratio: alone / floor,
      baseline: 'memcpy of the token bytes',
      note: `the DataLoader epoch alone: ${(tokenBytes / (loaderMs * 1e6)).toFixed(2)} GB/s of token bytes`,
    },
    {
      figure: 'packSequences firstFit (64 bins), same rows: non-pad fraction',
      value: firstFit.efficiency,
      unit: '',
      target: '≥ 0.98',
      met: firstFit.efficiency >= 0.98,
      note: `${firstFitRate.toFixed(2)} GB/s of token bytes`,
    },
  ];
}

export const mixSection: Section = { id: 'mix', title: 'MixedSource (issue 23)', run: runMix };
export const packSection: Section = { id: 'pack', title: 'packSequences (issue 23)', run: runPack };
