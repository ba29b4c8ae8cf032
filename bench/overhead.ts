// What one small call across the binding costs: the per-batch overhead a
// loader pays however little it copies.
import { gather, random } from '../src/index.js';
import { jsLoopGather } from './gather.js';
import { interleave, median, randomIndices, type Row, type Section } from './harness.js';

const ROWS = 32;
const ROW_BYTES = 16;

export const overheadSection: Section = {
  id: 'overhead',
  title: 'Per-call overhead (small batches)',
  run: ({ quick, repeats }): Row[] => {
    const source = new Uint8Array(1 << 20);
    const indices = randomIndices(ROWS, source.length / ROW_BYTES, 42);
    const out = new Uint8Array(ROWS * ROW_BYTES);
    const key = random.key(1);
    const calls = quick ? 20_000 : 100_000;
    const ms = interleave(
      {
        gather: () => {
          for (let i = 0; i < calls; i++) gather(source, ROW_BYTES, indices, out);
        },
        jsLoop: () => {
          for (let i = 0; i < calls; i++) jsLoopGather(source, ROW_BYTES, indices, out);
        },
        permutationIndex: () => {
          for (let i = 0; i < calls; i++) random.permutationIndex(key, 1_000_000_007, i);
        },
      },
      repeats,
    );
    const us = (k: keyof typeof ms): number => (median(ms[k]) * 1e3) / calls;
    return [
      {
        figure: `gather ${ROWS} rows × ${ROW_BYTES} B, per call`,
        value: us('gather'),
        unit: 'µs',
        target: '≤ 5',
        met: us('gather') <= 5,
        note: 'what crossing the binding costs; the DataLoader per-batch figure is in the Loader section',
      },
      {
        figure: `JS loop ${ROWS} rows × ${ROW_BYTES} B, per call`,
        value: us('jsLoop'),
        unit: 'µs',
        ratio: us('jsLoop') / us('gather'),
        baseline: 'gather (speed-up)',
      },
      { figure: 'permutationIndex(), per call', value: us('permutationIndex') * 1e3, unit: 'ns', note: 'one index per binding call' },
    ];
  },
};
