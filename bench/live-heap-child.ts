// One process of the live-heap rows (bench/live-heap.ts): `heapMiB` of live
// JS objects (a program's own: a cache, a vocabulary, a model's bookkeeping),
// then the default path over a 1 GiB plain Float32Array, batches dropped.
// Prints {"256": GB/s, "1024": GB/s} as one JSON line.
import { ArraySource, DataLoader } from '../src/index.js';
import { median, now } from './harness.js';
import { warmUpBatches } from './loader.js';

const [heapMiB, sourceMiB, batches, repeats] = process.argv.slice(2).map(Number) as [number, number, number, number];
const BATCH_ROWS = 8192;

// Small objects held in chunks of arrays, ~64 bytes each as V8 lays them out.
const live: unknown[][] = [];
for (let left = (heapMiB << 20) / 64; left > 0; left -= 4096) {
  const chunk: unknown[] = [];
  for (let i = 0; i < Math.min(4096, left); i++) chunk.push({ id: i, score: i * 0.5, tag: 'x' });
  live.push(chunk);
}
const data = new Float32Array((sourceMiB << 20) / 4).fill(1);
// A program's heap is old news by the time it loads data: collect what
// building it left, and give the background sweeper a second to finish.
(globalThis as { gc?: () => void }).gc?.();
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
const out: Record<string, number> = {};
for (const rowBytes of [256, 1024]) {
  const source = new ArraySource({ x: { data, shape: [data.byteLength / rowBytes, rowBytes / 4] } });
  const loader = new DataLoader(source, { batchSize: BATCH_ROWS, numEpochs: Infinity });
  const drain = (count: number): number => {
    const t0 = now();
    for (let i = 0; i < count; i++) loader.next();
    return now() - t0;
  };
  drain(warmUpBatches(rowBytes)); // the pool's growth: the cold-start row's, not a steady rate's
  const ms = median(Array.from({ length: repeats }, () => drain(batches)));
  loader.close();
  out[rowBytes] = (2 * batches * BATCH_ROWS * rowBytes) / (ms * 1e6);
}
process.stdout.write(`${JSON.stringify({ ...out, liveChunks: live.length })}\n`);
