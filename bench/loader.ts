// DataLoader end to end: shuffled 4 MiB batches from a 1 GiB in-memory source
// at prefetch 0, 2 and 4, against a memcpy of that source in the same run; and
// the per-batch cost of tiny batches (32 rows of 16 B), where the copy is
// nothing and crossing the binding is everything.
import { ArraySource, DataLoader, hugePageBuffer } from '../src/index.js';
import { type BenchContext, median, now, type Row, type Section } from './harness.js';

type Loader = { next(): IteratorResult<unknown>; recycle(batch: { indices: Uint32Array }): void };

function drain(loader: Loader, batches: number, recycle = false): number {
  const t0 = now();
  for (let i = 0; i < batches; i++) {
    const next = loader.next();
    if (next.done) throw new Error('loader ran out of batches');
    if (recycle) loader.recycle(next.value as { indices: Uint32Array });
  }
  return now() - t0;
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const sourceBytes = ctx.quick ? 256 << 20 : 1 << 30;
  const rowBytes = 1024;
  const batchRows = 4096;
  const batches = ctx.quick ? 16 : 48;
  const n = sourceBytes / rowBytes;
  const data = new Uint8Array(hugePageBuffer(sourceBytes)).fill(1);
  const copy = new Uint8Array(hugePageBuffer(sourceBytes)).fill(2);
  const floorMs = median(Array.from({ length: ctx.repeats }, () => {
    const t0 = now();
    copy.set(data);
    return now() - t0;
  }));
  const floor = (2 * sourceBytes) / (floorMs * 1e6);
  const rows: Row[] = [{ figure: `memcpy floor, ${sourceBytes >> 20} MiB`, value: floor, unit: 'GB/s' }];
  const source = new ArraySource({ x: { data, shape: [n, rowBytes] } });
  // Fresh batches (the default) pay the kernel's page faults on new memory;
  // recycle(batch) hands each batch's memory back for a later one.
  for (const [prefetch, recycle] of [[0, false], [2, false], [4, false], [0, true], [2, true], [4, true]] as const) {
    const loader = new DataLoader(source, { batchSize: batchRows, seed: 1, numEpochs: Infinity, prefetch });
    drain(loader, 4, recycle); // warm-up: thread start, first page faults of the batch buffers
    const ms = median(Array.from({ length: ctx.repeats }, () => drain(loader, batches, recycle)));
    loader.close();
    const gbps = (2 * batches * batchRows * rowBytes) / (ms * 1e6);
    const how = `prefetch ${prefetch}${recycle ? ', recycle' : ''}`;
    rows.push({ figure: `loader, 1 KiB rows × ${batchRows}, ${how}`, value: gbps, unit: 'GB/s', ratio: gbps / floor, baseline: 'memcpy floor' });
    rows.push({ figure: `loader samples/s, ${how}`, value: (batches * batchRows) / (ms / 1000), unit: 'samples/s' });
  }
  const tinyRows = 1 << 20;
  const tiny = new ArraySource({ x: { data: new Uint8Array(tinyRows * 16), shape: [tinyRows, 16] } });
  const count = ctx.quick ? 5_000 : 20_000;
  for (const prefetch of [0, 2, 8]) {
    const loader = new DataLoader(tiny, { batchSize: 32, seed: 1, numEpochs: Infinity, prefetch });
    drain(loader, 1000);
    const us = (median(Array.from({ length: ctx.repeats }, () => drain(loader, count))) * 1000) / count;
    loader.close();
    rows.push({ figure: `per-batch overhead, 32 × 16 B, prefetch ${prefetch}`, value: us, unit: 'µs/batch', target: '≤ 5', met: us <= 5 });
  }
  return rows;
}

export const loaderSection: Section = { id: 'loader', title: 'Loader, end to end', run };
