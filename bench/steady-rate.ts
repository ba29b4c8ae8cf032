// A loader's rate over its first batches, window by window, with the size of
// its batch pool: how long the pool grows and when the rate settles.
//   npx tsx bench/steady-rate.ts [rowBytes=256] [windows=12] [batchesPerWindow=100]
// One fresh process, the default path (a plain 1 GiB Float32Array, batches
// of 8192 rows dropped); prints "blocks:GB/s" per window. BENCHMARKS.md ("The
// 256 B regression") alternates it between two builds' worktrees.
import { ArraySource, DataLoader } from '../src/index.js';
import { now } from './harness.js';

const [rowBytes = 256, windows = 12, perWindow = 100] = process.argv.slice(2).map(Number);
const BATCH_ROWS = 8192;
const sourceBytes = 1 << 30;
const data = new Float32Array(sourceBytes / 4).fill(1);
const source = new ArraySource({ x: { data, shape: [sourceBytes / rowBytes, rowBytes / 4] } });
const loader = new DataLoader(source, { batchSize: BATCH_ROWS, numEpochs: Infinity });
const out: string[] = [];
for (let w = 0; w < windows; w++) {
  const t0 = now();
  for (let i = 0; i < perWindow; i++) loader.next();
  const gbps = (2 * perWindow * BATCH_ROWS * rowBytes) / ((now() - t0) * 1e6);
  // The pool's size: an internal accessor the tests read too.
  out.push(`${(loader as unknown as { queue: { arenaBlocks: number } }).queue.arenaBlocks}:${gbps.toFixed(1)}`);
}
loader.close();
console.log(out.join(' '));
