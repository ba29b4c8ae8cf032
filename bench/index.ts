// `npm run bench [-- --quick] [-- --json FILE]`: every figure of BENCHMARKS.md,
// printed as tables and written as JSON.
import { writeFileSync } from 'node:fs';
import { gatherBench } from './gather.js';
import { machine, printTable, type Row } from './harness.js';
import { permutationBench } from './permutation.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonAt = args.indexOf('--json');
const jsonPath = jsonAt >= 0 ? args[jsonAt + 1]! : 'bench-results.json';

const sections: [string, () => Row[] | Promise<Row[]>][] = [
  ['Gather', () => gatherBench({ sourceBytes: quick ? 256 << 20 : 1 << 30, batchRows: 65536, repeats: quick ? 3 : 7 })],
  ['Permutation', () => permutationBench({ n: 16 << 20, lookups: quick ? 1 << 20 : 1 << 22, repeats: quick ? 3 : 7 })],
];

async function main(): Promise<void> {
  const info = machine();
  console.log(`# resumable-pipeline benchmarks${quick ? ' (quick)' : ''}`);
  console.log(`${info.cpu}, ${info.nproc} cores, Node ${info.node}`);
  const results: Record<string, Row[]> = {};
  for (const [title, run] of sections) {
    results[title] = await run();
    printTable(title, results[title]);
  }
  writeFileSync(jsonPath, `${JSON.stringify({ machine: info, quick, date: new Date().toISOString(), results }, null, 2)}\n`);
  console.log(`\nJSON: ${jsonPath}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
