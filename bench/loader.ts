// DataLoader end to end, in two tables:
//  - the default path, what a new user gets: a plain Float32Array (or a .npy
//    file in the page cache) wrapped in a source, shuffled batches of 8192
//    rows, default options, every batch kept by the loop until the next one
//    (no recycle()); against a memcpy between two plain arrays in the same run;
//  - the lab setup: a hugePageBuffer source and recycle(), the fastest a
//    benchmark can arrange, labelled as such.
// Plus the per-batch cost of tiny batches (32 rows of 16 B), where the copy is
// nothing and crossing the binding is everything.
import { mkdtempSync, openSync, closeSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArraySource, DataLoader, hugePageBuffer, NpySource } from '../src/index.js';
import { childSection, runChildSection } from './child-section.js';
import { type BenchContext, median, now, type Row, type Section } from './harness.js';

type Loader = { next(): IteratorResult<unknown>; recycle(batch: { indices: Uint32Array }): void; close(): void };

export const BATCH_ROWS = 8192;

function drain(loader: Loader, batches: number, recycle = false): number {
  const t0 = now();
  for (let i = 0; i < batches; i++) {
    const next = loader.next();
    if (next.done) throw new Error('loader ran out of batches');
    if (recycle) loader.recycle(next.value as { indices: Uint32Array });
  }
  return now() - t0;
}

/**
 * Untimed batches before a steady rate is timed: the threads' start, and the
 * batch pool's growth to its steady size. A loop that drops its batches has
 * about 32 MiB of them out between two scavenges (V8 scavenges once young
 * ArrayBuffers hold that much); while V8 runs an incremental major GC, the
 * batches alive at each scavenge are kept to the end of that cycle, so the
 * pool grows further (18 to 36 blocks of 2 MiB in this bench's process) and
 * then settles (bench/steady-rate.ts shows it). Each new block costs a page
 * fault on first touch: 1-2 ms per 2 MiB on this VM, 5-10 ms when the
 * hypervisor has not backed the page yet (the cold-start row prints it).
 * That cost is the cold-start row's, not a steady rate's: 512 MiB of batches
 * covers the growth seen here.
 */
export function warmUpBatches(rowBytes: number): number {
  return Math.max(16, Math.ceil((512 << 20) / (BATCH_ROWS * rowBytes)));
}

/** Median ms of `repeats` drains of `batches` batches, after warmUpBatches(rowBytes) untimed ones. */
export function timeLoader(loader: Loader, rowBytes: number, batches: number, repeats: number, recycle = false): number {
  drain(loader, warmUpBatches(rowBytes), recycle);
  const ms = median(Array.from({ length: repeats }, () => drain(loader, batches, recycle)));
  loader.close();
  return ms;
}

/** memcpy between two arrays already faulted in: read + write bytes per second. */
export function memcpyFloor(a: Uint8Array, b: Uint8Array, repeats: number): number {
  b.set(a); // touch both
  const ms = median(Array.from({ length: repeats }, () => {
    const t0 = now();
    b.set(a);
    return now() - t0;
  }));
  return (2 * a.byteLength) / (ms * 1e6);
}

/** Writes an .npy of rows × rowBytes uint8 (C order) from data; returns its path. */
function writeNpy(dir: string, data: Uint8Array, rows: number, rowBytes: number): string {
  const header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${rows}, ${rowBytes}), }`;
  const padded = `${header}${' '.repeat(128 - 10 - 1 - header.length)}\n`;
  const pre = Buffer.from([0x93, ...Buffer.from('NUMPY', 'latin1'), 1, 0, padded.length & 0xff, padded.length >> 8]);
  const path = join(dir, 'bench.npy');
  const fd = openSync(path, 'w');
  writeSync(fd, Buffer.concat([pre, Buffer.from(padded, 'latin1')]));
  for (let off = 0; off < data.byteLength; off += 64 << 20) writeSync(fd, data.subarray(off, off + (64 << 20)));
  closeSync(fd);
  return path;
}

export function gbps(batches: number, rowBytes: number, ms: number): number {
  return (2 * batches * BATCH_ROWS * rowBytes) / (ms * 1e6);
}

/**
 * Ragged gather on the default path: Uint8 rows of random length 0-2 KiB
 * (1 KiB on average) over the same bytes, Arrow offsets, fresh batches of
 * BATCH_ROWS rows, default options; bytes moved are the rows' own.
 */
function raggedRow(bytes: Uint8Array, floor: number, batches: number, repeats: number): Row {
  const n = Math.floor((bytes.length / 1024) * 0.98);
  const offsets = new Int32Array(n + 1);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    offsets[i + 1] = Math.min(bytes.length, offsets[i]! + ((s >>> 8) % 2049));
  }
  const source = new ArraySource({ text: { values: bytes, offsets } });
  const ms = timeLoader(new DataLoader(source, { batchSize: BATCH_ROWS, numEpochs: Infinity }), 1024, batches, repeats);
  const meanRow = offsets[n]! / n;
  const v = (2 * batches * BATCH_ROWS * meanRow) / (ms * 1e6);
  return {
    figure: `ragged Uint8 rows (0-2 KiB, mean ${meanRow.toFixed(0)} B) × ${BATCH_ROWS}, fresh batches`,
    value: v,
    unit: 'GB/s',
    ratio: v / floor,
    baseline: 'memcpy floor',
    target: '≥ 0.5×',
    met: v / floor >= 0.5,
  };
}

/**
 * Cold start: a new loader's first 200 batches of 256 B rows against its next
 * 200 (medians over `loaders` new loaders on the same source).
 */
function coldStartRow(data: Float32Array, loaders: number): Row {
  const rowBytes = 256;
  const source = new ArraySource({ x: { data, shape: [data.byteLength / rowBytes, rowBytes / 4] } });
  const first: number[] = [];
  const next: number[] = [];
  for (let k = 0; k < loaders; k++) {
    const loader = new DataLoader(source, { batchSize: BATCH_ROWS, seed: 100 + k, numEpochs: Infinity });
    first.push(drain(loader, 200));
    next.push(drain(loader, 200));
    loader.close();
  }
  const ratio = median(next) / median(first);
  // What the pool's new blocks cost on first touch on this machine, against
  // the same fill once mapped: the fault cost the first batches pay.
  const fresh = new Uint8Array(64 << 20);
  const t0 = now();
  fresh.fill(1);
  const t1 = now();
  fresh.fill(2);
  const touch = (now() - t1) / (t1 - t0);
  return {
    figure: `a new loader's first 200 batches (${rowBytes} B rows × ${BATCH_ROWS})`,
    value: gbps(200, rowBytes, median(first)),
    unit: 'GB/s',
    ratio,
    baseline: 'its next 200',
    target: '≥ 0.9×',
    met: ratio >= 0.9,
    note: `medians of ${loaders} new loaders; first touch of fresh memory here: ${((t1 - t0) / 32).toFixed(2)} ms per 2 MiB, ${touch.toFixed(2)}× a fill of mapped memory`,
  };
}

async function runDefault(ctx: BenchContext): Promise<Row[]> {
  const sourceBytes = ctx.quick ? 256 << 20 : 1 << 30;
  const batches = ctx.quick ? 16 : 48;
  const data = new Float32Array(sourceBytes / 4).fill(1); // a plain array, as a user has one
  const bytes = new Uint8Array(data.buffer);
  const floor = memcpyFloor(bytes, new Uint8Array(sourceBytes), ctx.repeats);
  const rows: Row[] = [{ figure: `memcpy floor, ${sourceBytes >> 20} MiB plain arrays`, value: floor, unit: 'GB/s', note: 'read + write bytes' }];
  for (const [rowBytes, target] of [[1024, 0.7], [256, 0.5]] as const) {
    const source = new ArraySource({ x: { data, shape: [sourceBytes / rowBytes, rowBytes / 4] } });
    const ms = timeLoader(new DataLoader(source, { batchSize: BATCH_ROWS, numEpochs: Infinity }), rowBytes, batches, ctx.repeats);
    const v = gbps(batches, rowBytes, ms);
    rows.push({
      figure: `plain Float32Array, ${rowBytes} B rows × ${BATCH_ROWS}, fresh batches`,
      value: v,
      unit: 'GB/s',
      ratio: v / floor,
      baseline: 'memcpy floor',
      target: `≥ ${target}×`,
      met: v / floor >= target,
      note: `hugePages: ${source.columns[0]!.hugePages}`,
    });
  }
  rows.push(coldStartRow(data, ctx.quick ? 3 : 5));
  rows.push(raggedRow(bytes, floor, batches, ctx.repeats));
  const dir = mkdtempSync(join(tmpdir(), 'rp-bench-npy-'));
  try {
    const rowBytes = 1024;
    const npy = NpySource.open(writeNpy(dir, bytes, sourceBytes / rowBytes, rowBytes)); // written just now: in the page cache
    const ms = timeLoader(new DataLoader(npy, { batchSize: BATCH_ROWS, numEpochs: Infinity }), rowBytes, batches, ctx.repeats);
    const v = gbps(batches, rowBytes, ms);
    rows.push({
      figure: `NpySource (file in page cache), ${rowBytes} B rows × ${BATCH_ROWS}, fresh batches`,
      value: v,
      unit: 'GB/s',
      ratio: v / floor,
      baseline: 'memcpy floor',
      target: '≥ 0.5×',
      met: v / floor >= 0.5,
      note: `hugePages: ${npy.columns[0]!.hugePages}`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const tinyRows = 1 << 20;
  const tiny = new ArraySource({ x: { data: new Uint8Array(tinyRows * 16), shape: [tinyRows, 16] } });
  const count = ctx.quick ? 5_000 : 20_000;
  const loader = new DataLoader(tiny, { batchSize: 32, seed: 1, numEpochs: Infinity });
  drain(loader, 1000);
  const us = (median(Array.from({ length: ctx.repeats }, () => drain(loader, count))) * 1000) / count;
  loader.close();
  rows.push({ figure: 'per-batch overhead, 32 × 16 B', value: us, unit: 'µs/batch', target: '≤ 5', met: us <= 5 });
  return rows;
}

async function runLab(ctx: BenchContext): Promise<Row[]> {
  const sourceBytes = ctx.quick ? 256 << 20 : 1 << 30;
  const batches = ctx.quick ? 16 : 48;
  const data = new Uint8Array(hugePageBuffer(sourceBytes)).fill(1);
  const floor = memcpyFloor(data, new Uint8Array(hugePageBuffer(sourceBytes)), ctx.repeats);
  const rows: Row[] = [{ figure: `memcpy floor, ${sourceBytes >> 20} MiB hugePageBuffers`, value: floor, unit: 'GB/s', note: 'read + write bytes' }];
  for (const rowBytes of [1024, 256]) {
    for (const prefetch of [0, 2, 4]) {
      const source = new ArraySource({ x: { data, shape: [sourceBytes / rowBytes, rowBytes] } });
      const loader = new DataLoader(source, { batchSize: BATCH_ROWS, seed: 1, numEpochs: Infinity, prefetch });
      const v = gbps(batches, rowBytes, timeLoader(loader, rowBytes, batches, ctx.repeats, true));
      rows.push({ figure: `hugePageBuffer, ${rowBytes} B rows × ${BATCH_ROWS}, recycle(), prefetch ${prefetch}`, value: v, unit: 'GB/s', ratio: v / floor, baseline: 'memcpy floor' });
    }
  }
  return rows;
}

export const loaderSection: Section = childSection(__filename, { id: 'loader', title: 'Loader, the default path (plain arrays, fresh batches, default options; a fresh process)' });
export const loaderLabSection: Section = { id: 'loader-lab', title: 'Loader, lab setup (hugePageBuffer source and recycle(): what a benchmark can arrange)', run: runLab };

if (require.main === module) runChildSection(runDefault);
