// The default path by row size (issue 20 items 2 and 4): shuffled batches of
// 8192 rows of 16 B to 4 KiB from one 1 GiB plain Float32Array, fresh batches
// (dropped after use), default options; plus 256 B with recycle(). Row sizes
// are interleaved round by round, each round on a new loader after a warm-up,
// so a noisy stretch of a shared machine hits every size alike.
import { ArraySource, DataLoader } from '../src/index.js';
import { type BenchContext, median, now, type Row, type Section } from './harness.js';

const BATCH_ROWS = 8192;
const ROW_BYTES = [16, 64, 256, 1024, 4096] as const;

type Batch = { indices: Uint32Array };

/** ms for `batches` batches of a new loader, after `warm` untimed ones. */
function timeNew(source: ArraySource, batches: number, recycle: boolean, seed: number): number {
  const loader = new DataLoader(source, { batchSize: BATCH_ROWS, seed, numEpochs: Infinity });
  const step = (): void => {
    const next = loader.next();
    if (next.done) throw new Error('loader ran out of batches');
    if (recycle) loader.recycle(next.value as Batch);
  };
  for (let i = 0; i < 8; i++) step(); // thread start, the first blocks
  const t0 = now();
  for (let i = 0; i < batches; i++) step();
  const ms = now() - t0;
  loader.close();
  return ms;
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const sourceBytes = ctx.quick ? 256 << 20 : 1 << 30;
  const data = new Float32Array(sourceBytes / 4).fill(1);
  // About 128 MiB of rows a timing (at least 24 batches), 512 MiB in full runs.
  const moved = ctx.quick ? 128 << 20 : 512 << 20;
  const cases = [...ROW_BYTES.map((rowBytes) => ({ rowBytes, recycle: false })), { rowBytes: 256, recycle: true }];
  const sources = new Map(ROW_BYTES.map((rb) => [rb, new ArraySource({ x: { data, shape: [sourceBytes / rb, rb / 4] } })]));
  const times = cases.map(() => [] as number[]);
  const batchesOf = (rb: number): number => Math.max(24, Math.ceil(moved / (BATCH_ROWS * rb)));
  const rounds = ctx.quick ? 3 : 5;
  for (let round = 0; round < rounds; round++) {
    cases.forEach((c, i) => times[i]!.push(timeNew(sources.get(c.rowBytes as (typeof ROW_BYTES)[number])!, batchesOf(c.rowBytes), c.recycle, 7 + round)));
  }
  const gbps = cases.map((c, i) => (2 * batchesOf(c.rowBytes) * BATCH_ROWS * c.rowBytes) / (median(times[i]!) * 1e6));
  const at = (rb: number, recycle = false): number => gbps[cases.findIndex((c) => c.rowBytes === rb && c.recycle === recycle)]!;
  const rows: Row[] = cases.map((c, i) => ({
    figure: `plain Float32Array, ${c.rowBytes} B rows × ${BATCH_ROWS}, ${c.recycle ? 'recycle()' : 'fresh batches'}`,
    value: gbps[i]!,
    unit: 'GB/s',
    note: `medians of ${rounds} new loaders, ${batchesOf(c.rowBytes)} batches each`,
  }));
  const r256 = at(256) / at(256, true);
  rows.push({ figure: '256 B rows, fresh batches / recycle()', value: r256, unit: '×', target: '≥ 0.9×', met: r256 >= 0.9 });
  const r4k = at(4096) / at(1024);
  rows.push({ figure: '4 KiB rows / 1 KiB rows (GB/s)', value: r4k, unit: '×', target: '≥ 1×', met: r4k >= 1 });
  return rows;
}

export const loaderRowsSection: Section = { id: 'loader-rows', title: 'Loader, the default path by row size (16 B – 4 KiB)', run };
