// Timing helpers for the benchmarks: repeat, take medians and percentiles,
// and print one table per section. Figures are compared as ratios within one
// run, since absolute times on shared machines drift.
import { cpus } from 'node:os';

export interface Row {
  figure: string;
  value: number;
  unit: string;
  /** value / baseline, when the figure has a baseline in the same run. */
  ratio?: number;
  baseline?: string;
  target?: string;
  met?: boolean;
}

export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6; // ms
}

/** Runs fn `repeats` times after `warmup` runs; returns each run's ms. */
export function timeRuns(fn: () => void, repeats: number, warmup = 1): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = now();
    fn();
    times.push(now() - t0);
  }
  return times;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (values: number[]): number => percentile(values, 50);

export function machine(): { cpu: string; nproc: number; node: string } {
  return { cpu: cpus()[0]?.model ?? 'unknown', nproc: cpus().length, node: process.version };
}

const fmt = (x: number | undefined, digits = 3): string =>
  x === undefined ? '' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(digits);

export function printTable(title: string, rows: Row[]): void {
  console.log(`\n## ${title}\n`);
  console.log('| figure | value | unit | ratio | vs | target | met |');
  console.log('|---|---:|---|---:|---|---|---|');
  for (const r of rows) {
    const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**';
    console.log(`| ${r.figure} | ${fmt(r.value)} | ${r.unit} | ${fmt(r.ratio)} | ${r.baseline ?? ''} | ${r.target ?? ''} | ${met} |`);
  }
}
