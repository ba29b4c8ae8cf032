// File sources (issue 11): ArrowSource against NpySource over the same
// fixed-width rows, JsonlSource against JSON.parse in file order, the JSONL
// index against a memchr scan of the same file, and the RSS of a loader over
// a 4 GiB Arrow file. Files are written to a temp folder (removed at the end)
// and read once before timing, so they are in the page cache.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArrowSource, Column, ColumnSource, DataLoader, JsonlSource, MappedFile, NpySource } from '../src/index.js';
import { type BenchContext, interleave, type Row, type Section } from './harness.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** An Arrow IPC file of `batches` record batches, each `batchRows` rows of FixedSizeList<float32>[rowFloats], written by apache-arrow. */
async function writeArrow(path: string, rowFloats: number, batchRows: number, batches: number): Promise<void> {
  // Loaded here, not at the top: importing apache-arrow into `npm run bench` grew the heap enough to
  // change when V8 collects dropped batches, and the default-path loader rows (which run first) fell
  // from 1.1x to 0.5x the floor in that process.
  const { Field, FixedSizeList, Float32, makeData, RecordBatch, RecordBatchFileWriter, Schema, Struct } = await import('apache-arrow');
  const floats = new Float32Array(batchRows * rowFloats).map((_, i) => (i * 7) % 1000);
  const type = new FixedSizeList(rowFloats, new Field('item', new Float32(), false));
  const column = makeData({ type, length: batchRows, nullCount: 0, child: makeData({ type: new Float32(), length: floats.length, data: floats }) });
  const schema = new Schema([new Field('x', type, false)]);
  const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: batchRows, nullCount: 0, children: [column] }));
  const writer = new RecordBatchFileWriter();
  const fd = openSync(path, 'w');
  const drain = (async () => {
    for await (const chunk of writer) writeSync(fd, chunk);
  })();
  for (let k = 0; k < batches; k++) {
    writer.write(batch);
    await new Promise<void>((resolve) => setImmediate(resolve)); // let the drain write it out
  }
  writer.finish();
  await drain;
  closeSync(fd);
}

/** The same rows as .npy: `batches` copies of the batch's floats. */
function writeNpy(path: string, rowFloats: number, batchRows: number, batches: number): void {
  const floats = new Float32Array(batchRows * rowFloats).map((_, i) => (i * 7) % 1000);
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${batchRows * batches}, ${rowFloats}), }`;
  dict = dict.padEnd(Math.ceil((10 + dict.length + 1) / 64) * 64 - 11, ' ') + '\n';
  const head = new Uint8Array(10 + dict.length);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(head.buffer).setUint16(8, dict.length, true);
  head.set(Buffer.from(dict, 'latin1'), 10);
  const fd = openSync(path, 'w');
  writeSync(fd, head);
  for (let k = 0; k < batches; k++) writeSync(fd, new Uint8Array(floats.buffer));
  closeSync(fd);
}

/** JSON Lines of records averaging ~200 bytes. */
function jsonl(records: number): { text: string; lines: string[] } {
  const lines: string[] = [];
  for (let i = 0; i < records; i++) {
    lines.push(JSON.stringify({ id: i, user: `user${(i * 7919) % 100003}`, score: ((i * 31) % 1000) / 10, tags: ['alpha', 'beta', 'gamma'].slice(0, 1 + (i % 3)), text: 'lorem ipsum dolor sit amet '.repeat(1 + (i % 6)), ok: i % 2 === 0 }));
  }
  return { text: lines.join('\n') + '\n', lines };
}

function warm(path: string): void {
  readFileSync(path); // into the page cache
}

type Recyclable = { next(): IteratorResult<unknown>; recycle(batch: never): void; close(): void };

/** GB/s of two loaders of 1 KiB rows in batches of 256, recycled, interleaved round by round; closes both. */
function raceLoaders(ctx: BenchContext, a: Recyclable, b: Recyclable): { a: number; b: number } {
  const steps = ctx.quick ? 200 : 1000;
  const take = (l: Recyclable) => () => {
    for (let k = 0; k < steps; k++) l.recycle(l.next().value as never);
  };
  const t = interleave({ a: take(a), b: take(b) }, ctx.repeats);
  a.close();
  b.close();
  const gbps = (ms: number) => (steps * 256 * 1024) / (ms / 1000) / 1e9;
  return { a: gbps(median(t.a)), b: gbps(median(t.b)) };
}

const BATCHES_OF_256 = { batchSize: 256, seed: 1, numEpochs: Infinity };

async function arrowVsNpy(ctx: BenchContext, dir: string): Promise<Row> {
  const rowFloats = 256; // 1 KiB rows
  const batchRows = 16384; // 16 MiB record batches
  const batches = ctx.quick ? 4 : 16;
  const arrowPath = join(dir, 'rows.arrow');
  const npyPath = join(dir, 'rows.npy');
  await writeArrow(arrowPath, rowFloats, batchRows, batches);
  writeNpy(npyPath, rowFloats, batchRows, batches);
  warm(arrowPath);
  warm(npyPath);
  const r = raceLoaders(ctx, new DataLoader(ArrowSource.open(arrowPath), BATCHES_OF_256), new DataLoader(NpySource.open({ x: npyPath }), BATCHES_OF_256));
  const ratio = r.a / r.b;
  return {
    figure: `ArrowSource, FixedSizeList<float32>[256] (1 KiB rows), ${batches} record batches, shuffled batches of 256`,
    value: r.a,
    unit: 'GB/s',
    ratio,
    baseline: `NpySource over the same rows: ${r.b.toFixed(2)} GB/s`,
    target: '≥ 0.95×',
    met: ratio >= 0.95,
  };
}

/**
 * The same .npy rows read from 8 bytes past a 64-byte line (as an Arrow
 * buffer written 8-byte aligned puts them; apache-arrow's JS writer does)
 * against the aligned ones: a misaligned 1 KiB row touches 17 lines.
 */
function misalignedRows(ctx: BenchContext, npyPath: string, rows: number): Row {
  const file = MappedFile.open(npyPath);
  const rowFloats = 256;
  const loader = (offset: number) =>
    new DataLoader(new ColumnSource([Column.fixed('x', file.region(offset, (rows - 1) * rowFloats, 'float32'), { rowShape: [rowFloats] })]), BATCHES_OF_256);
  const npyHeader = statSync(npyPath).size - rows * rowFloats * 4; // writeNpy's header: a multiple of 64
  const r = raceLoaders(ctx, loader(npyHeader + 8), loader(npyHeader));
  return {
    figure: '1 KiB rows 8 bytes off a 64-byte line (a mapped .npy region), shuffled batches of 256',
    value: r.a,
    unit: 'GB/s',
    ratio: r.a / r.b,
    baseline: 'the same rows 64-byte aligned',
    note: 'the gather prefetches every line a row touches',
  };
}

function jsonlVsParse(ctx: BenchContext, dir: string): Row {
  const records = ctx.quick ? 50_000 : 200_000;
  const { text, lines } = jsonl(records);
  const path = join(dir, 'records.jsonl');
  const fd = openSync(path, 'w');
  writeSync(fd, text);
  closeSync(fd);
  warm(path);
  const loader = new DataLoader(JsonlSource.open(path), { batchSize: 256, seed: 2, numEpochs: Infinity });
  const steps = ctx.quick ? 50 : 200;
  let cursor = 0;
  let sink = 0;
  const t = interleave(
    {
      jsonl: () => {
        for (let k = 0; k < steps; k++) sink += (loader.next().value as unknown as unknown[]).length;
      },
      // The same number of records, each line already a string, parsed in file order.
      parse: () => {
        for (let k = 0; k < steps * 256; k++) {
          sink += (JSON.parse(lines[cursor]!) as { id: number }).id & 1;
          cursor = cursor + 1 === lines.length ? 0 : cursor + 1;
        }
      },
    },
    ctx.repeats,
  );
  loader.close();
  const rate = (ms: number) => (steps * 256) / (ms / 1000) / 1e6;
  const ratio = median(t.parse) / median(t.jsonl);
  return {
    figure: `JsonlSource, ${(text.length / records).toFixed(0)} B records, shuffled batches of 256 (parsed)`,
    value: rate(median(t.jsonl)),
    unit: 'M records/s',
    ratio,
    baseline: `JSON.parse of the same lines (JS strings) in file order: ${rate(median(t.parse)).toFixed(2)} M records/s`,
    target: '≥ 0.5×',
    met: ratio >= 0.5,
    note: sink > 0 ? undefined : 'nothing parsed',
  };
}

// One open in a fresh process: the mapping's pages are touched first (a line
// count), then the index and a second count are timed, in the order given.
// A fresh process per round, since an index kept across rounds makes every
// next one land on memory the VM has not handed out yet (slower by 2-3x here).
const INDEX_CHILD = `
const { indexLines, lineNumberAt, MappedFile } = require(${JSON.stringify(join(__dirname, '..', 'src', 'index.ts'))});
const file = MappedFile.open(process.argv[1]);
lineNumberAt(file, file.byteLength);
const time = (f) => { const t = performance.now(); f(); return performance.now() - t; };
let records = 0;
const index = () => time(() => { records = indexLines(file).length; });
const memchr = () => time(() => lineNumberAt(file, file.byteLength));
const [a, b] = process.argv[2] === 'index' ? [index(), memchr()] : [memchr(), index()].reverse();
console.log(JSON.stringify({ index: a, memchr: b, records }));
`;

function indexVsMemchr(ctx: BenchContext, dir: string): Row {
  const bytes = ctx.quick ? 2 ** 27 : 2 ** 30;
  const { text } = jsonl(20_000);
  const chunk = Buffer.from(text);
  const path = join(dir, 'big.jsonl');
  const fd = openSync(path, 'w');
  for (let written = 0; written < bytes; written += chunk.length) writeSync(fd, chunk);
  closeSync(fd);
  warm(path);
  const index: number[] = [];
  const memchr: number[] = [];
  let records = 0;
  for (let round = 0; round < Math.min(ctx.repeats, 7); round++) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', INDEX_CHILD, path, round % 2 === 0 ? 'index' : 'memchr'], { encoding: 'utf8' });
    const r = JSON.parse(out) as { index: number; memchr: number; records: number };
    index.push(r.index);
    memchr.push(r.memchr);
    records = r.records;
  }
  const ratio = median(index) / median(memchr);
  return {
    figure: `JSONL index on open, ${(bytes / 2 ** 30).toFixed(2)} GiB (${(records / 1e6).toFixed(1)} M records), in page cache`,
    value: median(index),
    unit: 'ms',
    ratio,
    baseline: `a memchr scan counting its lines (lineNumberAt to the end): ${median(memchr).toFixed(0)} ms`,
    target: '≤ 2×',
    met: ratio <= 2,
    note: 'one open per process, the two timed in alternating order',
  };
}

const RSS_CHILD = `
const { ArrowSource, DataLoader } = require(${JSON.stringify(join(__dirname, '..', 'src', 'index.ts'))});
const anon = () => Number(/RssAnon:\\s+(\\d+) kB/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
const before = anon();
const loader = new DataLoader(ArrowSource.open(process.argv[1]), { batchSize: 1024, seed: 4, numEpochs: Infinity });
let peak = anon();
for (let i = 0; i < Number(process.argv[2]); i++) {
  loader.recycle(loader.next().value);
  if (i % 64 === 0) peak = Math.max(peak, anon());
}
loader.close();
console.log(JSON.stringify({ before, peak }));
`;

async function arrowRss(ctx: BenchContext, dir: string): Promise<Row> {
  const batches = ctx.quick ? 8 : 64; // of 64 MiB: 4 GiB in all
  const path = join(dir, 'big.arrow');
  await writeArrow(path, 256, 65536, batches);
  const steps = ctx.quick ? 500 : 4000; // batches of 1 MiB
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', RSS_CHILD, path, String(steps)], { encoding: 'utf8' });
  const { before, peak } = JSON.parse(out) as { before: number; peak: number };
  const mb = (peak - before) / 1e6;
  return {
    figure: `ArrowSource over a ${(batches / 16).toFixed(1)} GiB file (${batches} record batches), ${steps} shuffled batches of 1 MiB: anonymous RSS growth`,
    value: mb,
    unit: 'MB',
    target: '< 100',
    met: mb < 100,
    note: 'RssAnon (memory beyond the page cache), sampled every 64 batches, minus the process before the source was opened',
  };
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'rp-bench-sources-'));
  try {
    return [await arrowVsNpy(ctx, dir), jsonlVsParse(ctx, dir), indexVsMemchr(ctx, dir), await arrowRss(ctx, dir)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const sourcesSection: Section = { id: 'sources', title: 'File sources (Arrow, JSON Lines)', run };

// The ArrowSource row alone (it is also the first row of `sources`), without the 5.5 GB of other files.
async function runArrow(ctx: BenchContext): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'rp-bench-arrow-'));
  try {
    const arrow = await arrowVsNpy(ctx, dir);
    return [arrow, misalignedRows(ctx, join(dir, 'rows.npy'), 16384 * (ctx.quick ? 4 : 16))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const arrowSection: Section = { id: 'arrow', title: 'ArrowSource vs NpySource (the first row of sources)', run: runArrow };
