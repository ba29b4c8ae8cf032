// Checkpoint latency against the floor of the same I/O, measured in the same run.
//   save:    PipelineCheckpoint.save (keep: 3) of a small state, vs the floor:
//            open(O_EXCL) + write + fsync + close + rename + fsync(dir) of the
//            same bytes with synchronous fs calls (the fewest syscalls possible);
//   restore: PipelineCheckpoint.restore of that step, vs readFileSync of the file;
//   restoreLatest of that directory (keep: 3, as a training loop leaves it), vs
//            readFileSync of the newest file, and vs readdirSync + readFileSync
//            (the fewest calls that find and read the newest step);
//   restoreLatest with 1000 step files present, vs readdirSync + readFileSync.
// Floor and package calls alternate (and swap order every round), so drift in
// the disk hits both alike; each timed save starts with an idle queue, as in a
// training loop.
//
// CLI:    npm run bench:checkpoint [-- --iterations N --files N --dir DIR --json]
// Module: import { benchCheckpoint } from './bench/checkpoint'; await benchCheckpoint({ iterations: 200 })
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PipelineCheckpoint, type State } from '../src/index.js';
import type { CheckpointTarget } from '../src/checkpoint/parts.js';
import { encodeStepFile } from '../src/checkpoint/step-file.js';
import { alternate, type BenchContext, floorWrite, machine, now, percentile, type Row, type Section } from './harness.js';

export interface Latency {
  p50: number;
  p99: number;
  mean: number;
}

export interface CheckpointBenchResult {
  machine: { cpu: string; nproc: number; node: string; kernel: string; filesystem: string; directory: string; loadAverage: number };
  iterations: number;
  stateBytes: number;
  /** Milliseconds. */
  saveFloor: Latency;
  save: Latency;
  readFloor: Latency;
  restore: Latency;
  /** restoreLatest of the save directory (3 step files). */
  restoreLatestKept: Latency;
  /** readdirSync + readFileSync of the newest file in the save directory. */
  listReadFloor: Latency;
  restoreLatestFiles: number;
  restoreLatest: Latency;
  /** readdirSync + readFileSync of the newest file with restoreLatestFiles step files. */
  listReadFloorMany: Latency;
  /** save p50 / saveFloor p50 (target <= 1.3, issue 20). */
  saveRatio: number;
  /** restoreLatest p50 with restoreLatestFiles step files (target <= 5 ms). */
  restoreLatestP50: number;
  /** restoreLatest p50 of the save directory / readFileSync p50 (issue 20's target <= 3). */
  restoreLatestRatio: number;
}

export interface CheckpointBenchOptions {
  /** Timed iterations of each measurement (default 300). */
  iterations?: number;
  /** Step files present for the restoreLatest measurement (default 1000). */
  files?: number;
  /** Where to write (default: a fresh folder in os.tmpdir()); use a real disk, not tmpfs. */
  dir?: string;
}

/** The small state: what a data pipeline typically saves (positions, RNG key, a few counters). */
function smallState(step: number): State {
  return {
    epoch: 3,
    position: step * 64,
    key: new Uint32Array([0x2a, 0x9e3779b9]),
    rngCounter: 123_456_789_012n + BigInt(step),
    shard: { index: 0, count: 8 },
    fingerprint: 'records=1000000;batch=64;seed=42;shards=8',
  };
}

function latency(samples: number[]): Latency {
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

function filesystemOf(dir: string): string {
  // findmnt names ext4 as such; stat -f reports its magic as "ext2/ext3".
  for (const [cmd, args] of [['findmnt', ['-n', '-o', 'FSTYPE', '-T', dir]], ['stat', ['-f', '-c', '%T', dir]]] as const) {
    try {
      return execFileSync(cmd, [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      // try the next tool
    }
  }
  return 'unknown';
}

/**
 * restoreLatest of dir, whose newest step is `newest`, alternating with its
 * floor: readdirSync of dir + readFileSync of the newest file. Samples after `warmup`.
 */
async function timeRestoreLatest(
  ckpt: PipelineCheckpoint,
  pipeline: CheckpointTarget,
  dir: string,
  newest: number,
  rounds: number,
  warmup: number,
): Promise<{ latest: number[]; floor: number[] }> {
  const file = join(dir, `step_${newest}.msgpack`);
  const latest: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const listRead = () => {
      const t = now();
      readdirSync(dir);
      readFileSync(file);
      return now() - t;
    };
    const restoreLatest = async () => {
      const t = now();
      const step = await ckpt.restoreLatest(pipeline);
      const dt = now() - t;
      if (step !== newest) throw new Error(`restoreLatest gave ${step}, expected ${newest}`);
      return dt;
    };
    const [f, r] = await alternate(i, listRead, restoreLatest);
    if (i >= warmup) {
      floor.push(f);
      latest.push(r);
    }
  }
  return { latest, floor };
}

export async function benchCheckpoint(options: CheckpointBenchOptions = {}): Promise<CheckpointBenchResult> {
  const iterations = options.iterations ?? 300;
  const files = options.files ?? 1000;
  const loadAverage = loadavg()[0]!; // other work on the machine skews both sides of each ratio
  const root = mkdtempSync(join(options.dir ?? tmpdir(), 'rp-bench-checkpoint-'));
  try {
    const dir = join(root, 'steps');
    const ckpt = new PipelineCheckpoint(dir, { keep: 3 });
    let state: State = null;
    const pipeline = { getState: () => state, setState: (s: State) => void (state = s) };
    const stateBytes = encodeStepFile(0, smallState(0), {}).length;

    // Save vs floor, alternating; the first 20 rounds warm up caches and JIT.
    const saves: number[] = [];
    const floors: number[] = [];
    const warmup = 20;
    for (let i = 0; i < warmup + iterations; i++) {
      state = smallState(i + 1);
      const bytes = encodeStepFile(i + 1, state, {});
      const floor = () => {
        const t = now();
        floorWrite(dir, bytes, i);
        return now() - t;
      };
      const save = async () => {
        // Let the previous save's pruning finish first, as the training steps
        // between two saves would (a synchronous floor call blocks it).
        await ckpt.waitUntilFinished();
        const t = now();
        await ckpt.save(pipeline, { step: i + 1 });
        return now() - t;
      };
      // Alternate which goes first: an fsync right after another one can be cheaper (journal commits).
      const [f, s] = await alternate(i, floor, save);
      if (i >= warmup) {
        floors.push(f);
        saves.push(s);
      }
      rmSync(join(dir, `floor_${i - 3}.bin`), { force: true }); // keep 3, untimed
    }

    // Restore vs reading the same file.
    const last = warmup + iterations;
    const file = join(dir, `step_${last}.msgpack`);
    const restores: number[] = [];
    const reads: number[] = [];
    for (let i = 0; i < warmup + iterations; i++) {
      const read = () => {
        const t = now();
        readFileSync(file);
        return now() - t;
      };
      const restore = async () => {
        const t = now();
        await ckpt.restore(pipeline, last);
        return now() - t;
      };
      const [r, s] = await alternate(i, read, restore);
      if (i >= warmup) {
        reads.push(r);
        restores.push(s);
      }
    }
    // restoreLatest of the same directory, vs reading the file alone and vs listing + reading.
    const { latest: kept, floor: listReads } = await timeRestoreLatest(ckpt, pipeline, dir, last, warmup + iterations, warmup);
    await ckpt.close();

    // restoreLatest with many step files present (written without fsync: setup, not measured).
    const many = join(root, 'many');
    const reader = new PipelineCheckpoint(many);
    for (let step = 1; step <= files; step++) writeFileSync(join(many, `step_${step}.msgpack`), encodeStepFile(step, smallState(step), { step }));
    const { latest, floor: listReadsMany } = await timeRestoreLatest(reader, pipeline, many, files, warmup + iterations, warmup);
    await reader.close();

    const save = latency(saves);
    const saveFloor = latency(floors);
    const restoreLatest = latency(latest);
    const readFloor = latency(reads);
    const restoreLatestKept = latency(kept);
    return {
      machine: { cpu: machine().cpu, nproc: availableParallelism(), node: process.version, kernel: release(), filesystem: filesystemOf(root), directory: root, loadAverage },
      iterations,
      stateBytes,
      saveFloor,
      save,
      readFloor,
      restore: latency(restores),
      restoreLatestKept,
      listReadFloor: latency(listReads),
      restoreLatestFiles: files,
      restoreLatest,
      listReadFloorMany: latency(listReadsMany),
      saveRatio: save.p50 / saveFloor.p50,
      restoreLatestP50: restoreLatest.p50,
      restoreLatestRatio: restoreLatestKept.p50 / readFloor.p50,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function formatTable(r: CheckpointBenchResult): string {
  const ms = (v: number) => v.toFixed(3);
  const row = (name: string, l: Latency, floor?: Latency) =>
    `| ${name} | ${ms(l.p50)} | ${ms(l.p99)} | ${floor ? `${(l.p50 / floor.p50).toFixed(2)}x` : ''} |`;
  return [
    `machine: ${r.machine.cpu}, nproc ${r.machine.nproc}, Node ${r.machine.node}, Linux ${r.machine.kernel}, ${r.machine.filesystem} (${r.machine.directory}), load average ${r.machine.loadAverage.toFixed(2)}`,
    `state: ${r.stateBytes} bytes per step file; ${r.iterations} timed iterations each`,
    '',
    '| operation | p50 ms | p99 ms | p50 vs floor |',
    '|---|---|---|---|',
    row('floor: write + fsync + rename + fsync dir (sync calls)', r.saveFloor),
    row('save (keep: 3)', r.save, r.saveFloor),
    row('floor: readFileSync of the step file', r.readFloor),
    row('restore(step)', r.restore, r.readFloor),
    row('restoreLatest, 3 step files (keep: 3)', r.restoreLatestKept, r.readFloor),
    row('floor: readdirSync + readFileSync, 3 step files', r.listReadFloor),
    row('restoreLatest, 3 step files, vs readdirSync + readFileSync', r.restoreLatestKept, r.listReadFloor),
    row(`floor: readdirSync + readFileSync, ${r.restoreLatestFiles} step files`, r.listReadFloorMany),
    row(`restoreLatest, ${r.restoreLatestFiles} step files present`, r.restoreLatest, r.listReadFloorMany),
    '',
    `save p50 / floor p50 = ${r.saveRatio.toFixed(2)} (target <= 1.3): ${r.saveRatio <= 1.3 ? 'met' : 'NOT met'}`,
    `restoreLatest p50 / readFileSync p50 = ${r.restoreLatestRatio.toFixed(2)} (target <= 3): ${r.restoreLatestRatio <= 3 ? 'met' : 'NOT met'}`,
    `restoreLatest p50 with ${r.restoreLatestFiles} files = ${r.restoreLatestP50.toFixed(3)} ms (target <= 5 ms): ${r.restoreLatestP50 <= 5 ? 'met' : 'NOT met'}`,
  ].join('\n');
}

if (require.main === module) {
  const { values } = parseArgs({
    options: { iterations: { type: 'string' }, files: { type: 'string' }, dir: { type: 'string' }, json: { type: 'boolean' } },
  });
  benchCheckpoint({
    iterations: values.iterations === undefined ? undefined : Number(values.iterations),
    files: values.files === undefined ? undefined : Number(values.files),
    dir: values.dir,
  }).then(
    (result) => console.log(values.json ? JSON.stringify(result, null, 2) : formatTable(result)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}

/** The Checkpoint section of `npm run bench`. */
export const checkpointSection: Section = {
  id: 'checkpoint',
  title: 'Checkpoint',
  async run(ctx: BenchContext): Promise<Row[]> {
    const r = await benchCheckpoint({ iterations: ctx.quick ? 100 : 500 });
    return [
      { figure: 'floor: write + fsync + rename + fsync dir, p50', value: r.saveFloor.p50, unit: 'ms' },
      { figure: 'save (keep: 3), p50', value: r.save.p50, unit: 'ms', ratio: r.saveRatio, baseline: 'floor p50', target: '≤ 1.3×', met: r.saveRatio <= 1.3 },
      { figure: 'save (keep: 3), p99', value: r.save.p99, unit: 'ms', ratio: r.save.p99 / r.saveFloor.p99, baseline: 'floor p99' },
      { figure: 'restore(step), p50', value: r.restore.p50, unit: 'ms', ratio: r.restore.p50 / r.readFloor.p50, baseline: 'readFileSync p50' },
      { figure: 'restore(step), p99', value: r.restore.p99, unit: 'ms' },
      { figure: 'readFileSync of the step file, p50', value: r.readFloor.p50, unit: 'ms' },
      { figure: 'restoreLatest, 3 step files (keep: 3), p50', value: r.restoreLatestKept.p50, unit: 'ms', ratio: r.restoreLatestRatio, baseline: 'readFileSync p50', target: '≤ 3×', met: r.restoreLatestRatio <= 3 },
      { figure: 'restoreLatest, 3 step files, vs readdirSync + readFileSync', value: r.restoreLatestKept.p50, unit: 'ms', ratio: r.restoreLatestKept.p50 / r.listReadFloor.p50, baseline: 'readdirSync + readFileSync p50' },
      { figure: `restoreLatest, ${r.restoreLatestFiles} step files, p50`, value: r.restoreLatest.p50, unit: 'ms', ratio: r.restoreLatest.p50 / r.listReadFloorMany.p50, baseline: 'readdirSync + readFileSync p50', target: '≤ 5 ms', met: r.restoreLatest.p50 <= 5 },
      { figure: `restoreLatest, ${r.restoreLatestFiles} step files, p99`, value: r.restoreLatest.p99, unit: 'ms' },
    ];
  },
};
