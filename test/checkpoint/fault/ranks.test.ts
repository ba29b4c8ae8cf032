// Many processes on one step file: N ranks started with a launcher's
// environment train in lockstep, rank 0 saves, all are SIGKILLed, and N' != N
// ranks (another launcher) resume from the newest step. Across the processes
// of each epoch every record is delivered exactly once (with dropRemainder:
// the documented prefix of the epoch's order), none twice.
import { afterAll, describe, expect, it } from 'vitest';
import { ArraySource, DataLoader, PipelineCheckpoint, S3StepStore, type S3StepStoreOptions, type State } from '../../../src/index.js';
import { Child } from '../../helpers/child-process.js';
import { BUCKET, S3Server } from '../../helpers/s3-server.js';
import { tempDir } from '../../helpers/temp-dir.js';

type Launcher = 'torchrun' | 'slurm' | 'openmpi' | 'kubernetes' | 'rp';

const LAUNCHER_VARS = [
  'RP_SHARD_INDEX', 'RP_SHARD_COUNT', 'RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_LOCALID',
  'OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE', 'JOB_COMPLETION_INDEX',
];

/** The environment a launcher gives rank `rank` of `size`. */
function launcherEnv(launcher: Launcher, rank: number, size: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  for (const name of LAUNCHER_VARS) delete env[name];
  const vars: Record<Launcher, Record<string, number>> = {
    torchrun: { RANK: rank, WORLD_SIZE: size, LOCAL_RANK: rank },
    slurm: { SLURM_PROCID: rank, SLURM_NTASKS: size, SLURM_LOCALID: rank },
    openmpi: { OMPI_COMM_WORLD_RANK: rank, OMPI_COMM_WORLD_SIZE: size },
    kubernetes: { JOB_COMPLETION_INDEX: rank, RP_SHARD_COUNT: size },
    rp: { RP_SHARD_INDEX: rank, RP_SHARD_COUNT: size },
  };
  for (const [k, v] of Object.entries(vars[launcher])) env[k] = String(v);
  return env;
}

interface StepLine {
  step: number;
  epoch: number;
  indices: number[];
  saved: boolean;
}

const n = 103;
const batchSize = 4;
const seed = 77;
const numEpochs = 2;
/** The S3 lock's lease in this test: short, since a killed writer holds the lock until it runs out. */
const LEASE_MS = 1000;

function start(config: object, launcher: Launcher, size: number): Child[] {
  return Array.from({ length: size }, (_, rank) => Child.node('rank.cjs', [JSON.stringify(config)], launcherEnv(launcher, rank, size)));
}

async function ready(ranks: Child[]): Promise<Array<{ shardIndex: number; shardCount: number; source: string; restored: number | null }>> {
  return Promise.all(ranks.map(async (r) => JSON.parse(await r.waitFor((l) => l.startsWith('{"ready"'))) as never));
}

/** One lockstep step on every rank: each takes a batch; null once the loaders are done. */
async function step(ranks: Child[], k: number): Promise<StepLine[] | null> {
  for (const r of ranks) r.send('next');
  const lines = await Promise.all(ranks.map((r) => r.waitFor((l) => l.startsWith(`{"step":${k},`) || l.startsWith('{"done":true'))));
  if (lines.every((l) => l.startsWith('{"done"'))) return null;
  return lines.map((l) => JSON.parse(l) as StepLine);
}

/** The order of each epoch: record ids by position (one batch of all n records per epoch). */
function epochOrders(): number[][] {
  const loader = new DataLoader(new ArraySource({ y: { data: Int32Array.from({ length: n }, (_, i) => i), shape: [n] } }), { batchSize: n, seed, numEpochs });
  return [...loader].map((b) => Array.from(b.indices));
}

const s3 = new S3Server();
let s3Started = false;
afterAll(async () => {
  if (s3Started) await s3.stop();
});

describe.each([
  { before: 2, beforeBy: 'torchrun', after: 3, afterBy: 'slurm', dropRemainder: false, saveEvery: 3, killAt: 10, where: 'directory' },
  { before: 3, beforeBy: 'slurm', after: 2, afterBy: 'kubernetes', dropRemainder: true, saveEvery: 5, killAt: 12, where: 'directory' },
  { before: 4, beforeBy: 'openmpi', after: 2, afterBy: 'rp', dropRemainder: true, saveEvery: 2, killAt: 5, where: 'directory' },
  { before: 2, beforeBy: 'rp', after: 4, afterBy: 'torchrun', dropRemainder: false, saveEvery: 4, killAt: 14, where: 's3' },
] as const)('$before ranks ($beforeBy) killed, $after ranks ($afterBy) resume, dropRemainder $dropRemainder, on a $where', (c) => {
  it('delivers every record of each epoch exactly once across the processes', async () => {
    let location: string;
    let s3Options: S3StepStoreOptions | undefined;
    if (c.where === 's3') {
      if (!s3Started) await s3.start();
      s3Started = true;
      location = `s3://${BUCKET}/ranks`;
      s3Options = { bucket: BUCKET, prefix: 'ranks', clientConfig: s3.clientConfig(), leaseMs: LEASE_MS };
    } else {
      location = tempDir();
    }
    const config = { location, n, batchSize, seed, numEpochs, dropRemainder: c.dropRemainder, saveEvery: c.saveEvery, s3: s3Options };

    // Run 1: N ranks, killed with SIGKILL after killAt steps (the last save is at `saved`).
    const first = start(config, c.beforeBy, c.before);
    const delivered: StepLine[][] = [];
    try {
      const hello = await ready(first);
      expect(hello.map((h) => [h.shardIndex, h.shardCount, h.restored])).toEqual(first.map((_, k) => [k, c.before, null]));
      for (let k = 1; k <= c.killAt; k++) {
        const lines = await step(first, k);
        expect(lines).not.toBeNull();
        // Only the primary writes; every other rank's save was a no-op (no lock taken: none was refused).
        expect(lines!.map((l) => l.saved)).toEqual(lines!.map((_, rank) => rank === 0 && k % c.saveEvery === 0));
        delivered.push(lines!);
      }
    } finally {
      for (const r of first) r.proc.kill('SIGKILL');
      await Promise.all(first.map((r) => r.exited));
    }
    const saved = c.killAt - (c.killAt % c.saveEvery);
    expect(saved).toBeLessThan(c.killAt); // some batches after the save are delivered again

    // The step file, as every rank will read it.
    let state: { epoch: number; position: number } | undefined;
    const reader = new PipelineCheckpoint(location, s3Options === undefined ? {} : { store: new S3StepStore(s3Options) });
    expect(await reader.restoreLatest({ getState: () => null, setState: (s: State) => void (state = s as never) })).toBe(saved);

    // The killed primary's lock object stays until its lease runs out (a flock dies with its process).
    if (c.where === 's3') await new Promise((r) => setTimeout(r, LEASE_MS + 200));

    // Run 2: N' ranks from another launcher resume from the newest step and run to the end.
    const second = start(config, c.afterBy, c.after);
    const resumed: StepLine[][] = [];
    try {
      const hello = await ready(second);
      expect(hello.map((h) => [h.shardIndex, h.shardCount, h.restored])).toEqual(second.map((_, k) => [k, c.after, saved]));
      for (let k = saved + 1; ; k++) {
        const lines = await step(second, k);
        if (lines === null) break;
        resumed.push(lines);
      }
      for (const r of second) r.proc.stdin.end();
      for (const r of second) expect((await r.exited).code, r.stderr).toBe(0);
    } finally {
      for (const r of second) r.proc.kill('SIGKILL');
    }

    // Every record of each epoch once: run 1's batches up to the saved step, then run 2's.
    const orders = epochOrders();
    const { epoch: resumeEpoch, position: p0 } = state!;
    for (let e = 0; e < numEpochs; e++) {
      const got = [...delivered.slice(0, saved), ...resumed].flat().filter((b) => b.epoch === e).flatMap((b) => b.indices);
      let kept = n;
      if (c.dropRemainder) {
        const round = (e < resumeEpoch ? c.before : c.after) * batchSize;
        const from = e === resumeEpoch ? p0 : 0;
        kept = from + Math.floor((n - from) / round) * round;
      }
      expect(new Set(got).size, `epoch ${e}: a record twice`).toBe(got.length);
      expect([...got].sort((a, b) => a - b), `epoch ${e}`).toEqual(orders[e]!.slice(0, kept).sort((a, b) => a - b));
    }
  });
});
