// `npm run bench [-- --quick] [-- --only ID[,ID]] [-- --json FILE]`: every
// figure of BENCHMARKS.md, printed as markdown tables and written as JSON
// (default bench-results.json), and the charts of the sections that ran
// (bench/charts.ts; not with --quick). A section is one line below.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { writeCharts } from './charts.js';
import { checkpointSection } from './checkpoint.js';
import { compositeSaveSection } from './composite-save.js';
import { codecSection } from './codec.js';
import { cudaSection } from './cuda.js';
import { gatherOrdinarySection, gatherSection } from './gather.js';
import { type BenchContext, machine, printTable, type Row, type Section } from './harness.js';
import { overheadSection } from './overhead.js';
import { liveHeapSection } from './live-heap.js';
import { loaderLabSection, loaderSection } from './loader.js';
import { peersSection } from './peers.js';
import { permutationSection } from './permutation.js';
import { mixSection, packSection } from './mix-pack.js';
import { memorySection } from './rss.js';
import { arrowSection, sourcesSection } from './sources.js';
import { transformsSection } from './transforms.js';
import { storeSection } from './store.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const quick = args.includes('--quick');
const jsonPath = option('--json') ?? 'bench-results.json';
const only = option('--only')?.split(',');

// Full runs only: sections too slow or memory-hungry for --quick.
const fullOnly = new Set(['gather-ordinary']);
// Run only when named in --only: the device figures (bench/cuda.ts; scripts/device-suite.sh runs them on a GPU),
// and parts of another section on their own.
const namedOnly = new Set(['cuda', 'arrow']);

// The default path first: what a new user gets without knowing any trick.
const sections: Section[] = [
  loaderSection,
  liveHeapSection,
  loaderLabSection,
  peersSection,
  permutationSection,
  checkpointSection,
  compositeSaveSection,
  codecSection,
  memorySection,
  gatherSection,
  gatherOrdinarySection,
  overheadSection,
  sourcesSection,
  transformsSection,
  cudaSection,
  arrowSection,
  mixSection,
  packSection,
  storeSection,
];

async function main(): Promise<void> {
  const unknown = only?.filter((id) => !sections.some((s) => s.id === id)) ?? [];
  if (unknown.length > 0) {
    throw new Error(`--only: no section ${unknown.join(', ')}; sections are ${sections.map((s) => s.id).join(', ')}`);
  }
  const chosen = sections.filter((s) => (only ? only.includes(s.id) : !namedOnly.has(s.id) && !(quick && fullOnly.has(s.id))));
  const ctx: BenchContext = { quick, repeats: quick ? 5 : 11 };
  const info = machine();
  console.log(`# resumable-pipeline benchmarks${quick ? ' (quick)' : ''}`);
  console.log(`${info.cpu}, ${info.nproc} cores, Node ${info.node}${info.thp ? `, THP: ${info.thp}` : ''}`);
  console.log(`Load average at start: ${info.load.toFixed(2)} (other processes share the cores).`);
  console.log(`Medians of ${ctx.repeats} interleaved rounds after one warm-up round.`);
  const results: Record<string, { title: string; rows: Row[]; seconds: number }> = {};
  for (const section of chosen) {
    const t0 = Date.now();
    const rows = await section.run(ctx);
    results[section.id] = { title: section.title, rows, seconds: (Date.now() - t0) / 1000 };
    printTable(section.title, rows);
  }
  const date = new Date().toISOString();
  const loadAtEnd = loadavg()[0]!;
  const json = { machine: info, loadAtEnd, quick, repeats: ctx.repeats, date, results };
  writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nLoad average at end: ${loadAtEnd.toFixed(2)}. JSON: ${jsonPath}`);
  if (quick) {
    console.log('Charts: not written with --quick (its smaller sources are not the figures BENCHMARKS.md shows).');
  } else {
    const charts = await writeCharts(results, { date, loadAtStart: info.load, loadAtEnd, cpu: `${info.cpu}, ${info.nproc} cores` });
    console.log(charts.length > 0 ? `Charts: ${charts.join(', ')}` : 'Charts: none of their sections ran.');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
