// SVG charts of BENCHMARKS.md, drawn from the rows a run of `npm run bench`
// just measured: vega-lite specs compiled to vega and rendered by vega's Node
// API (no browser, no canvas). A chart is written only when its section ran in
// this run (and not with --quick, whose smaller sources are not the figures
// BENCHMARKS.md shows); otherwise the committed SVG stays as it is.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };
import type { Row } from './harness.js';
import { ROW_SIZES, SERIES } from './peers.js';

export const CHARTS_DIR = join(__dirname, 'charts');

export type Results = Record<string, { title: string; rows: Row[] }>;

/** Where the figures came from, printed under each chart's title. */
export interface RunInfo {
  date: string;
  loadAtStart: number;
  loadAtEnd: number;
  cpu: string;
}

async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vegaLite = await import('vega-lite');
  const vega = await import('vega');
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const subtitle = (run: RunInfo): string =>
  `${run.date.slice(0, 16).replace('T', ' ')} UTC, ${run.cpu}, load average ${run.loadAtStart.toFixed(1)} at start, ${run.loadAtEnd.toFixed(1)} at end`;

/** Throughput against row size: every row of the peers section with a chart position. */
export function throughputSpec(rows: Row[], run: RunInfo): TopLevelSpec | undefined {
  const points = rows.filter((r) => r.chart?.x !== undefined && Number.isFinite(r.value)).map((r) => ({ series: r.chart!.series, x: r.chart!.x!, value: r.value }));
  const levels = rows.filter((r) => r.chart !== undefined && r.chart.x === undefined && Number.isFinite(r.value)).map((r) => ({ series: r.chart!.series, value: r.value }));
  if (!points.some((p) => p.series === SERIES.ours)) return undefined;
  const order = Object.values(SERIES) as string[];
  const color = { field: 'series', type: 'nominal', title: null, scale: { domain: order.filter((s) => points.some((p) => p.series === s) || levels.some((l) => l.series === s)) } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Shuffled batches of 8192 rows from a 1 GiB source (medians of 3)', subtitle: subtitle(run) },
    width: 520,
    height: 300,
    background: 'white',
    layer: [
      {
        data: { values: points },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: 'row size (bytes)', scale: { type: 'log', base: 2 }, axis: { values: [...ROW_SIZES] } },
          y: { field: 'value', type: 'quantitative', title: 'GB/s (read + write bytes)' },
          color,
        },
      },
      {
        data: { values: levels },
        mark: { type: 'rule', strokeDash: [6, 4] },
        encoding: { y: { field: 'value', type: 'quantitative' }, color },
      },
    ],
  };
}

/**
 * Save and restore latencies against their floors: every p50 row of the
 * checkpoint section but the floors themselves (their targets are p50 ratios;
 * p99s would crush the scale), and its floor where the row gives a ratio to
 * one (floor = value / ratio).
 */
export function checkpointSpec(rows: Row[], run: RunInfo): TopLevelSpec | undefined {
  const values: { group: string; operation: string; kind: string; ms: number }[] = [];
  for (const r of rows) {
    if (r.unit !== 'ms' || !r.figure.endsWith('p50') || r.figure.startsWith('floor') || !Number.isFinite(r.value)) continue;
    const hasFloor = r.ratio !== undefined && r.baseline !== undefined && r.ratio > 0;
    const operation = hasFloor ? `${r.figure} vs ${r.baseline}` : r.figure;
    const group = r.figure.startsWith('save') ? 'save' : 'restore'; // a panel each: their scales are 10× apart
    values.push({ group, operation, kind: 'measured', ms: r.value });
    if (hasFloor) values.push({ group, operation, kind: 'floor', ms: r.value / r.ratio! });
  }
  if (values.length === 0) return undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Checkpoint save and restore latencies against their floors', subtitle: subtitle(run) },
    background: 'white',
    data: { values },
    facet: { row: { field: 'group', type: 'nominal', title: null, sort: ['save', 'restore'] } },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: 420,
      mark: 'bar',
      encoding: {
        y: { field: 'operation', type: 'nominal', title: null, sort: null, axis: { labelLimit: 320 } },
        yOffset: { field: 'kind', type: 'nominal', sort: ['measured', 'floor'] },
        x: { field: 'ms', type: 'quantitative', title: 'ms' },
        color: { field: 'kind', type: 'nominal', title: null, sort: ['measured', 'floor'] },
      },
    },
  };
}

/** The charts and the sections they are drawn from. */
const CHARTS: { file: string; section: string; spec: (rows: Row[], run: RunInfo) => TopLevelSpec | undefined }[] = [
  { file: 'throughput.svg', section: 'peers', spec: throughputSpec },
  { file: 'checkpoint.svg', section: 'checkpoint', spec: checkpointSpec },
];

/** Writes the charts whose sections are in `results`; returns the paths written. */
export async function writeCharts(results: Results, run: RunInfo, dir = CHARTS_DIR): Promise<string[]> {
  const written: string[] = [];
  for (const chart of CHARTS) {
    const rows = results[chart.section]?.rows;
    const spec = rows === undefined ? undefined : chart.spec(rows, run);
    if (spec === undefined) continue;
    mkdirSync(dir, { recursive: true });
    const path = join(dir, chart.file);
    writeFileSync(path, `${await renderSvg(spec)}\n`);
    written.push(path);
  }
  return written;
}
