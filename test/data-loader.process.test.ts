// Whole-process checks: one child per shard (exact coverage, identical saved
// state), and flat memory over a virtual source of 10^9 records.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataLoader, NpySource, PipelineCheckpoint, type State } from '../src/index.js';
import { writeNpy } from './helpers/npy.js';

const root = join(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'rp-loader-proc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runChild(script: string, args: string[], extra: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...extra, '--import', 'tsx', join(root, script), ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function savedState(checkpoints: string): Promise<State> {
  let captured: State | undefined;
  const reader = new PipelineCheckpoint(checkpoints);
  await reader.restoreLatest({ getState: () => null, setState: (s: State) => void (captured = s) });
  await reader.close();
  return captured!;
}

describe('DataLoader across processes', () => {
  it('one process per shard: exact coverage, and the same saved state on every shard', async () => {
    const n = 103;
    const x = Float32Array.from({ length: n * 2 }, (_, i) => i);
    const y = Int32Array.from({ length: n }, (_, i) => 1000 + i);
    const paths = { x: writeNpy(join(dir, 'x.npy'), x, { descr: '<f4', shape: [n, 2] }), y: writeNpy(join(dir, 'y.npy'), y, { descr: '<i4', shape: [n] }) };
    const shardCount = 3;
    const common = { paths, shardCount, batchSize: 4, seed: 2024, numEpochs: 2, stopAfter: 9 }; // 9 steps = one epoch: stop at its end
    const results = await Promise.all(
      Array.from({ length: shardCount }, (_, k) => {
        const args = { ...common, shardIndex: k, checkpoints: join(dir, `ckpt-${k}`), out: join(dir, `out-${k}.json`) };
        return runChild('test/fixtures/loader-shard-child.ts', [JSON.stringify(args)]);
      }),
    );
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const outputs = Array.from({ length: shardCount }, (_, k) =>
      JSON.parse(readFileSync(join(dir, `out-${k}.json`), 'utf8')) as Array<{ epoch: number; indices: number[]; y: number[] }>,
    );
    // Every shard takes part in every round: the same batch count; each record once per epoch.
    for (const out of outputs) expect(out.length).toBe(outputs[0]!.length);
    for (let e = 0; e < 2; e++) {
      const seen = outputs.flatMap((out) => out.filter((b) => b.epoch === e).flatMap((b) => b.indices));
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    for (const out of outputs) for (const b of out) expect(b.y).toEqual(b.indices.map((i) => 1000 + i));

    // The saved states are identical, so one step file serves every shard.
    const states = await Promise.all(Array.from({ length: shardCount }, (_, k) => savedState(join(dir, `ckpt-${k}`))));
    for (const s of states) expect(s).toEqual(states[0]);
    expect(states[0]).toMatchObject({ epoch: 1, position: 0 });
    for (let k = 0; k < shardCount; k++) {
      const loader = new DataLoader(NpySource.open(paths), { batchSize: 4, seed: 2024, numEpochs: 2, shardIndex: k, shardCount });
      const checkpoint = new PipelineCheckpoint(join(dir, 'ckpt-0')); // shard 0's file, for every shard
      await checkpoint.restoreLatest(loader);
      await checkpoint.close();
      expect([...loader].map((b) => Array.from(b.indices))).toEqual(outputs[k]!.slice(9).map((b) => b.indices));
    }
  });

  it('survives worker threads that are terminated mid-run', async () => {
    const r = await runChild('test/fixtures/loader-workers.ts', []);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('ok');
  });

  it('keeps RSS flat over a virtual source of 10^9 records, with a state of a few dozen bytes', async () => {
    const r = await runChild('test/fixtures/loader-memory.ts', ['30000'], ['--expose-gc']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout) as { rssStart: number; rssEnd: number; stateBytes: number; position: number };
    // An N-sized index would be 4 GB; 30000 batches of 512 records run through 15 million records.
    expect(m.rssEnd - m.rssStart).toBeLessThan(50 * 2 ** 20);
    expect(m.position).toBe(512 * 30500);
    expect(m.stateBytes).toBeLessThan(128);
  });

  it('the sync loop does not outgrow memory either when batches are large', () => {
    // Batch memory returns to the loader's arena once collected, even in a loop that never yields.
    const script = `
      const { DataLoader, ArraySource } = require(${JSON.stringify(join(root, 'src/index.ts'))});
      const n = 4096, data = new Float32Array(n * 256);
      const loader = new DataLoader(new ArraySource({ x: { data, shape: [n, 256] } }), { batchSize: 1024, numEpochs: Infinity });
      for (let k = 0; k < 200; k++) loader.next();
      gc(); const start = process.memoryUsage().rss;
      for (let k = 0; k < 3000; k++) loader.next(); // 3 GB of batches in all
      gc(); process.stdout.write(String(process.memoryUsage().rss - start));`;
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^-?\d+$/);
    expect(Number(r.stdout)).toBeLessThan(100 * 2 ** 20);
  });
});
