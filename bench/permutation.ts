// The lazy bijection per index, and materialising a whole order, against a
// JS Fisher–Yates shuffle of the same size.
import { random } from '../src/index.js';
import { median, type Row, timeRuns } from './harness.js';

function fisherYates(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

export function permutationBench({ n, lookups, repeats }: { n: number; lookups: number; repeats: number }): Row[] {
  const key = random.key(1);
  // Lazy lookups in blocks through permutationIndices (one binding call per block; the core runs
  // the bijection per index on this thread), and one call per index to show the binding cost.
  const block = new Uint32Array(lookups);
  const blockMs = median(timeRuns(() => random.permutationIndices(key, 1_000_000_007, 0, block), repeats));
  const single = 100_000;
  const singleMs = median(timeRuns(() => {
    for (let i = 0; i < single; i++) random.permutationIndex(key, 1_000_000_007, i);
  }, repeats));
  const materialise = median(timeRuns(() => random.permutation(key, n), repeats));
  const fy = median(timeRuns(() => fisherYates(n), repeats));
  return [
    { figure: 'permutation lookup (core, one thread)', value: (blockMs * 1e6) / lookups, unit: 'ns/index', target: '≤ 10', met: (blockMs * 1e6) / lookups <= 10 },
    { figure: 'permutationIndex() from JS, per call', value: (singleMs * 1e6) / single, unit: 'ns/call' },
    { figure: `materialise ${n >> 20}M permutation`, value: materialise, unit: 'ms', ratio: fy / materialise, baseline: 'JS Fisher–Yates (speed-up)', target: '≥ 10×', met: fy / materialise >= 10 },
    { figure: `JS Fisher–Yates ${n >> 20}M`, value: fy, unit: 'ms' },
  ];
}
