// Gather against the memory-bandwidth floor (a 1 GiB memcpy in this process,
// on the same buffers) and against a straightforward JS loop doing the same
// copy with TypedArray.set/subarray.
import { gather, hugePageBuffer } from '../src/index.js';
import { type BenchContext, coresAvailable, interleave, median, randomIndices, type Row, type Section } from './harness.js';

const SOURCE_BYTES = 2 ** 30;
const BATCH_ROWS = 65536;
const ROW_BYTES = [64, 256, 1024, 4096];

/** Floor targets from issue 6, by row size. */
function floorTarget(rowBytes: number): number | undefined {
  if (rowBytes >= 1024) return 0.7;
  if (rowBytes === 256) return 0.5;
  return undefined;
}

export function jsLoopGather(source: Uint8Array, rowBytes: number, indices: Uint32Array, out: Uint8Array): void {
  for (let j = 0; j < indices.length; j++) {
    const r = indices[j]!;
    out.set(source.subarray(r * rowBytes, r * rowBytes + rowBytes), j * rowBytes);
  }
}

const gbps = (bytes: number, ms: number): number => bytes / (ms * 1e6);

type Pages = 'huge' | 'ordinary';

async function runGather(ctx: BenchContext, pages: Pages): Promise<Row[]> {
  const allocate = (bytes: number): Uint8Array =>
    new Uint8Array(pages === 'huge' ? hugePageBuffer(bytes) : new ArrayBuffer(bytes));
  // Touch every page of both buffers before timing anything: first-touch page
  // faults are not memory bandwidth.
  const source = allocate(SOURCE_BYTES).fill(1);
  const dest = allocate(SOURCE_BYTES).fill(2);
  const rounds = ctx.repeats;

  // Fresh random rows for every timed call, so no call finds the rows the one
  // before it pulled into cache. Batches land at the start of dest.
  const inputs = ROW_BYTES.map((rowBytes) => {
    const below = SOURCE_BYTES / rowBytes;
    const sets = (salt: number) =>
      Array.from({ length: rounds + 1 }, (_, r) => randomIndices(BATCH_ROWS, below, rowBytes * 7919 + r * 31 + salt));
    return { rowBytes, native: sets(1), js: sets(2), out: dest.subarray(0, BATCH_ROWS * rowBytes) };
  });

  const cases: Record<string, (round: number) => void> = { floor: () => dest.set(source) };
  for (const { rowBytes, native, js, out } of inputs) {
    cases[`native${rowBytes}`] = (r) => gather(source, rowBytes, native[r]!, out);
    cases[`js${rowBytes}`] = (r) => jsLoopGather(source, rowBytes, js[r]!, out);
  }
  const coresBefore = await coresAvailable();
  const ms = interleave(cases, rounds);
  const coresAfter = await coresAvailable();

  const floor = gbps(2 * SOURCE_BYTES, median(ms.floor!));
  const rows: Row[] = [
    {
      figure: 'memcpy floor, 1 GiB',
      value: floor,
      unit: 'GB/s',
      note: 'TypedArray.set (memmove), one thread; read + write bytes',
    },
    {
      figure: 'cores free for this process',
      value: (coresBefore + coresAfter) / 2,
      unit: 'cores',
      note: `before ${coresBefore.toFixed(2)}, after ${coresAfter.toFixed(2)}: gather splits batches > 1 MiB over 2 threads`,
    },
  ];
  for (const { rowBytes } of inputs) {
    const bytes = 2 * BATCH_ROWS * rowBytes;
    const native = gbps(bytes, median(ms[`native${rowBytes}`]!));
    const js = gbps(bytes, median(ms[`js${rowBytes}`]!));
    const target = pages === 'huge' ? floorTarget(rowBytes) : undefined;
    rows.push({
      figure: `gather ${rowBytes} B rows × ${BATCH_ROWS}`,
      value: native,
      unit: 'GB/s',
      ratio: native / floor,
      baseline: 'memcpy floor',
      ...(target === undefined ? {} : { target: `≥ ${target}×`, met: native / floor >= target }),
    });
    // How fast the JS loop already is bounds the speed-up any copy can have:
    // at the floor, gather would be floor / js times faster.
    const jsShare = js / floor;
    rows.push({
      figure: `JS loop ${rowBytes} B rows (speed-up of gather)`,
      value: js,
      unit: 'GB/s',
      ratio: native / js,
      baseline: 'JS TypedArray.set loop',
      ...(pages === 'huge' ? { target: '≥ 5×', met: native / js >= 5 } : {}),
      note: `JS loop at ${jsShare.toFixed(2)}× floor: at most ${(1 / jsShare).toFixed(1)}× left below the floor`,
    });
  }
  return rows;
}

/** The targets' table: source and destination in hugePageBuffer memory. */
export const gatherSection: Section = {
  id: 'gather',
  title: 'Gather: 1 GiB source in hugePageBuffer memory',
  run: (ctx) => runGather(ctx, 'huge'),
};

/** The same figures from ordinary ArrayBuffers (4 KiB pages), for comparison. */
export const gatherOrdinarySection: Section = {
  id: 'gather-ordinary',
  title: 'Gather: 1 GiB source in an ordinary ArrayBuffer (for comparison)',
  run: (ctx) => runGather(ctx, 'ordinary'),
};
