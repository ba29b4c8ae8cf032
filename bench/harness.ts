// Timing helpers and the section API for the benchmarks. Figures are compared
// as ratios within one run, since absolute times on shared machines drift;
// cases compared with each other are interleaved round by round, so a noisy
// stretch of the run hits all of them alike.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';

export interface Row {
  figure: string;
  value: number;
  unit: string;
  /** value / baseline (or a speed-up, as `baseline` says), from the same run. */
  ratio?: number;
  baseline?: string;
  target?: string;
  met?: boolean;
  /** Anything a reader needs to judge the figure (printed in the last column). */
  note?: string;
  /** Where bench/charts.ts plots the row: its line (series) and x value; without x, a level across the chart. */
  chart?: { series: string; x?: number };
}

/** What every section gets from the command line. */
export interface BenchContext {
  quick: boolean;
  /** Timed rounds per figure (after one warm-up round); medians are taken over these. */
  repeats: number;
}

/**
 * One table of BENCHMARKS.md. A new section is one object like this plus one
 * line in bench/index.ts; `id` is what `--only` selects.
 */
export interface Section {
  id: string;
  title: string;
  run(ctx: BenchContext): Row[] | Promise<Row[]>;
}

export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6; // ms
}

/**
 * Runs every case once per round, in order, for one warm-up round and then
 * `rounds` timed rounds; returns each case's ms per round. A case gets the
 * round number (0 is the warm-up), e.g. to pick fresh inputs.
 */
export function interleave<K extends string>(
  cases: Record<K, (round: number) => void>,
  rounds: number,
): Record<K, number[]> {
  const names = Object.keys(cases) as K[];
  const times = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round <= rounds; round++) {
    for (const k of names) {
      const t0 = now();
      cases[k](round);
      const ms = now() - t0;
      if (round > 0) times[k].push(ms);
    }
  }
  return times;
}

/**
 * Runs an async pair in an order that alternates with `round`, so whatever
 * the first of two calls pays (or leaves behind for the second) falls on
 * each side equally; returns their ms as [a, b].
 */
export async function alternate(round: number, a: () => Promise<number> | number, b: () => Promise<number> | number): Promise<[number, number]> {
  if (round % 2 === 0) {
    const ta = await a();
    return [ta, await b()];
  }
  const tb = await b();
  return [await a(), tb];
}

/**
 * How many cores this process gets right now: `threads` workers spin for
 * `ms` while this thread idles, and the CPU time they got is divided by the
 * wall time. On a shared machine it says whether the second core was there
 * for the thread pool (2 means both were ours).
 */
export async function coresAvailable(threads = cpus().length, ms = 300): Promise<number> {
  const code = `const end = Date.now() + ${ms}; while (Date.now() < end) {}`;
  const before = process.cpuUsage();
  const t0 = now();
  await Promise.all(
    Array.from({ length: threads }, () => {
      const worker = new Worker(code, { eval: true });
      return new Promise((resolve, reject) => worker.on('exit', resolve).on('error', reject));
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / (now() - t0);
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (values: number[]): number => percentile(values, 50);

/** A small, fast PRNG (xorshift32) for bench inputs; crypto-grade is not needed. */
export function randomIndices(count: number, below: number, seed: number): Uint32Array {
  const out = new Uint32Array(count);
  let s = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = Math.floor((s / 2 ** 32) * below);
  }
  return out;
}

export interface MachineInfo {
  cpu: string;
  nproc: number;
  node: string;
  /** Transparent huge pages mode (Linux), e.g. "always [madvise] never". */
  thp?: string;
  /** 1-minute load average when the run started: other work shares the cores. */
  load: number;
}

export function machine(): MachineInfo {
  const info: MachineInfo = {
    cpu: cpus()[0]?.model ?? 'unknown',
    nproc: cpus().length,
    node: process.version,
    load: loadavg()[0]!,
  };
  try {
    info.thp = readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8').trim();
  } catch {
    // Not Linux, or no THP: nothing to report.
  }
  return info;
}

const fmt = (x: number | undefined, digits = 3): string =>
  x === undefined ? '' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(digits);

export function printTable(title: string, rows: Row[]): void {
  console.log(`\n## ${title}\n`);
  console.log('| figure | value | unit | ratio | vs | target | met | note |');
  console.log('|---|---:|---|---:|---|---|---|---|');
  for (const r of rows) {
    const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**';
    console.log(
      `| ${r.figure} | ${fmt(r.value)} | ${r.unit} | ${fmt(r.ratio)} | ${r.baseline ?? ''} | ${r.target ?? ''} | ${met} | ${r.note ?? ''} |`,
    );
  }
}

/**
 * The floor of a durable save: the write syscalls alone, synchronous (temp,
 * write, fsync, rename, directory fsync). Like a save, it writes a new name
 * each time (older ones are removed untimed, as pruning is).
 */
export function floorWrite(dir: string, bytes: Uint8Array, i: number): void {
  const temp = join(dir, `.floor.${i}.tmp`);
  const fd = openSync(temp, 'wx', 0o644);
  writeSync(fd, bytes);
  fsyncSync(fd);
  closeSync(fd);
  renameSync(temp, join(dir, `floor_${i}.bin`));
  const dirFd = openSync(dir, 'r');
  fsyncSync(dirFd);
  closeSync(dirFd);
}
