// The default path in a program with a large heap of its own: the same rows
// in a child process holding 1 GiB of live JS objects and in one holding
// none, run alternately. Batch buffers used to count as V8 external memory,
// and a 1 GiB heap turned that into a full Mark-Compact every few dozen
// batches (binding/external_count.h).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { type BenchContext, median, type Row, type Section } from './harness.js';

const CHILD = join(__dirname, 'live-heap-child.ts');

function runChild(heapMiB: number, sourceMiB: number, batches: number, repeats: number): Record<string, number> {
  const out = execFileSync(
    process.execPath,
    ['--max-old-space-size=4096', '--expose-gc', '--import', 'tsx', CHILD, String(heapMiB), String(sourceMiB), String(batches), String(repeats)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(out) as Record<string, number>;
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const heapMiB = 1024;
  const sourceMiB = ctx.quick ? 256 : 1024;
  const batches = ctx.quick ? 48 : 96;
  const repeats = ctx.quick ? 3 : 5;
  const rounds = ctx.quick ? 1 : 3;
  const without: Record<string, number[]> = { 256: [], 1024: [] };
  const withHeap: Record<string, number[]> = { 256: [], 1024: [] };
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first, so a noisy stretch hits both alike.
    const order = round % 2 === 0 ? [0, heapMiB] : [heapMiB, 0];
    for (const heap of order) {
      const r = runChild(heap, sourceMiB, batches, repeats);
      for (const k of ['256', '1024']) (heap === 0 ? without : withHeap)[k]!.push(r[k]!);
    }
  }
  const rows: Row[] = [];
  for (const rowBytes of ['256', '1024']) {
    const base = median(without[rowBytes]!);
    const v = median(withHeap[rowBytes]!);
    rows.push({ figure: `plain Float32Array, ${rowBytes} B rows × 8192, fresh batches, no live heap`, value: base, unit: 'GB/s', note: `${sourceMiB} MiB source, child process` });
    rows.push({
      figure: `the same with a ${heapMiB} MiB live JS heap`,
      value: v,
      unit: 'GB/s',
      ratio: v / base,
      baseline: 'no live heap',
      target: '≥ 0.9×',
      met: v / base >= 0.9,
    });
  }
  return rows;
}

export const liveHeapSection: Section = { id: 'live-heap', title: 'Loader, the default path in a program with a 1 GiB live JS heap', run };
