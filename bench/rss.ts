// Peak RSS of a loader over a virtual source of 10^9 records, in a fresh
// process so nothing else in the benchmark inflates it.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { BenchContext, Row, Section } from './harness.js';

const CHILD = `
const { DataLoader } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'cjs', 'index.js'))});
const source = { length: 1e9, get: (i) => i };
const loader = new DataLoader(source, { batchSize: 256, seed: 3, numEpochs: Infinity });
const before = process.memoryUsage().rss;
for (let i = 0; i < Number(process.argv[1]); i++) loader.next();
loader.close();
// VmHWM, not resourceUsage().maxRSS: the latter keeps the parent's RSS from before exec.
const hwm = /VmHWM:\\s+(\\d+) kB/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'));
console.log(JSON.stringify({ before, after: process.memoryUsage().rss, peak: Number(hwm[1]) * 1024 }));
`;

// 10,000 fresh 2 MiB batches on the default path (no recycle()), dropped as
// they come: batch memory returns to the loader once collected.
const FRESH = `
const { ArraySource, DataLoader } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'cjs', 'index.js'))});
const n = 32768, data = new Float32Array(n * 512).fill(1);
const loader = new DataLoader(new ArraySource({ x: { data, shape: [n, 512] } }), { batchSize: 1024, numEpochs: Infinity });
for (let i = 0; i < 20; i++) loader.next();
const before = process.memoryUsage().rss;
for (let i = 0; i < Number(process.argv[1]); i++) loader.next();
console.log(JSON.stringify({ growth: process.memoryUsage().rss - before }));
loader.close();
`;

function run(ctx: BenchContext): Row[] {
  const batches = ctx.quick ? 2_000 : 20_000;
  const out = execFileSync(process.execPath, ['-e', CHILD, String(batches)], { encoding: 'utf8' });
  const { before, after, peak } = JSON.parse(out) as { before: number; after: number; peak: number };
  const mb = (b: number) => b / 1e6;
  return [
    { figure: `loader over 10^9 records, peak RSS (${batches} batches of 256)`, value: mb(peak), unit: 'MB', target: '< 100', met: mb(peak) < 100 },
    { figure: 'RSS growth while iterating', value: mb(after - before), unit: 'MB' },
    freshRow(ctx.quick ? 2_000 : 10_000),
  ];
}

function freshRow(batches: number): Row {
  const { growth } = JSON.parse(execFileSync(process.execPath, ['-e', FRESH, String(batches)], { encoding: 'utf8' })) as { growth: number };
  const mib = growth / 2 ** 20;
  return { figure: `RSS growth over ${batches} fresh 2 MiB batches (default path)`, value: mib, unit: 'MiB', target: '≤ 256', met: mib <= 256 };
}

export const memorySection: Section = { id: 'memory', title: 'Memory', run };
