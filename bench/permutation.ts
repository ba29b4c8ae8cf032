// The lazy bijection per index, and materialising a whole order, against a
// JS Fisher–Yates shuffle of the same size.
import { random } from '../src/index.js';
import { interleave, median, type Row, type Section } from './harness.js';

// A size just past a power of two's 93%: 7% of first passes land outside
// [0, n) and are walked again, so the figure includes cycle-walking.
const LOOKUP_N = 1_000_000_007;
const MATERIALISE_N = 16 << 20;

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

export const permutationSection: Section = {
  id: 'permutation',
  title: 'Permutation',
  run: ({ quick, repeats }): Row[] => {
    const key = random.key(1);
    // Lookups in one block through permutationIndices: one binding call, then
    // the core's Permutation::fill on this thread.
    const lookups = quick ? 1 << 20 : 1 << 22;
    const block = new Uint32Array(lookups);
    let start = 0;
    const ms = interleave(
      {
        lookup: () => {
          random.permutationIndices(key, LOOKUP_N, start, block);
          start = (start + lookups) % (LOOKUP_N - lookups);
        },
        materialise: () => random.permutation(key, MATERIALISE_N),
        fisherYates: () => fisherYates(MATERIALISE_N),
      },
      repeats,
    );
    const nsPerIndex = (median(ms.lookup) * 1e6) / lookups;
    const materialise = median(ms.materialise);
    const fy = median(ms.fisherYates);
    return [
      {
        figure: `permutation lookup, n = ${LOOKUP_N}`,
        value: nsPerIndex,
        unit: 'ns/index',
        target: '≤ 10',
        met: nsPerIndex <= 10,
        note: `permutationIndices, blocks of ${lookups >> 20}M, one thread`,
      },
      {
        figure: `materialise ${MATERIALISE_N >> 20}M permutation`,
        value: materialise,
        unit: 'ms',
        ratio: fy / materialise,
        baseline: 'JS Fisher–Yates (speed-up)',
        target: '≥ 25×',
        met: fy / materialise >= 25,
        note: 'random.permutation, fresh array each time (its allocation included), on the thread pool',
      },
      { figure: `JS Fisher–Yates ${MATERIALISE_N >> 20}M`, value: fy, unit: 'ms', note: 'Math.random, Uint32Array' },
    ];
  },
};
