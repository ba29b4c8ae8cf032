// DataLoader end to end: shuffled batches from an in-memory source, at several
// prefetch depths, against the memcpy floor of the same run; and the per-batch
// cost of crossing the binding with tiny batches.
import { ArraySource, DataLoader } from '../src/index.js';
import { memcpyFloor } from './gather.js';
import { now, type Row } from './harness.js';

function drain(loader: DataLoader, batches: number): number {
  const t0 = now();
  for (let i = 0; i < batches; i++) if (loader.next().done) throw new Error('loader ran out of batches');
  return now() - t0;
}

export function loaderBench({ sourceBytes, batches, repeats }: { sourceBytes: number; batches: number; repeats: number }): Row[] {
  const rowBytes = 1024;
  const batchRows = 4096; // 4 MiB batches
  const n = Math.floor(sourceBytes / rowBytes);
  const data = new Uint8Array(n * rowBytes);
  for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff;
  const floor = memcpyFloor(data, 3);
  const source = new ArraySource({ x: { data, shape: [n, rowBytes] } });
  const rows: Row[] = [];
  for (const prefetch of [0, 2, 4]) {
    const loader = new DataLoader(source, { batchSize: batchRows, seed: 1, numEpochs: Infinity, prefetch });
    drain(loader, 3); // warm-up: first page faults, thread start
    const ms = Math.min(...Array.from({ length: repeats }, () => drain(loader, batches)));
    loader.close();
    const gbps = (2 * batches * batchRows * rowBytes) / (ms * 1e6);
    rows.push({ figure: `loader 1 KiB rows × ${batchRows}, prefetch ${prefetch}`, value: gbps, unit: 'GB/s', ratio: gbps / floor, baseline: 'memcpy floor' });
    rows.push({ figure: `loader samples/s, prefetch ${prefetch}`, value: (batches * batchRows) / (ms / 1000), unit: 'samples/s' });
  }
  // Tiny batches: 32 rows of 16 B, so the cost is the binding and bookkeeping, not the copy.
  const tiny = new ArraySource({ x: { data: new Uint8Array(1 << 20 << 4), shape: [1 << 20, 16] } });
  for (const prefetch of [0, 2, 8]) {
    const loader = new DataLoader(tiny, { batchSize: 32, seed: 1, numEpochs: Infinity, prefetch });
    drain(loader, 1000);
    const count = 20_000;
    const us = (Math.min(...Array.from({ length: repeats }, () => drain(loader, count))) * 1000) / count;
    loader.close();
    rows.push({ figure: `per-batch overhead, 32 × 16 B, prefetch ${prefetch}`, value: us, unit: 'µs/batch', target: '≤ 5', met: us <= 5 });
  }
  return rows;
}
