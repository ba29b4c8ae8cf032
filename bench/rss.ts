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

function run(ctx: BenchContext): Row[] {
  const batches = ctx.quick ? 2_000 : 20_000;
  const out = execFileSync(process.execPath, ['-e', CHILD, String(batches)], { encoding: 'utf8' });
  const { before, after, peak } = JSON.parse(out) as { before: number; after: number; peak: number };
  const mb = (b: number) => b / 1e6;
  return [
    { figure: `loader over 10^9 records, peak RSS (${batches} batches of 256)`, value: mb(peak), unit: 'MB', target: '< 100', met: mb(peak) < 100 },
    { figure: 'RSS growth while iterating', value: mb(after - before), unit: 'MB' },
  ];
}

export const memorySection: Section = { id: 'memory', title: 'Memory', run };
