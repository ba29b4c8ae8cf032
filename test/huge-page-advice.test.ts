// Sources of 64 MiB or more get huge-page advice. It must never change the
// bytes or the batches, and a loader must run the same when it is refused or
// turned off (RP_HUGE_PAGES=0).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

// Fills a 96 MiB source and a .npy file of 80 MiB, checksums them, loads 40
// shuffled batches, and reports the advice, the checksums and the batches'.
const script = `
  const { createHash } = require('node:crypto');
  const { writeFileSync, mkdtempSync, rmSync } = require('node:fs');
  const { tmpdir } = require('node:os');
  const { join } = require('node:path');
  const { ArraySource, DataLoader, NpySource } = require(${JSON.stringify(join(root, 'src/index.ts'))});
  const hash = (view) => createHash('sha256').update(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)).digest('hex');
  const rows = 96 * 1024, data = new Float32Array(rows * 256);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) % 1000003;
  const before = hash(data);
  const source = new ArraySource({ x: { data, shape: [rows, 256] } });
  const after = hash(data);
  const loader = new DataLoader(source, { batchSize: 512, seed: 9 });
  const batches = createHash('sha256');
  for (let k = 0; k < 40; k++) batches.update(loader.next().value.x);
  loader.close();
  const dir = mkdtempSync(join(tmpdir(), 'rp-thp-'));
  const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + (80 * 1024) + ", 256), }";
  const padded = header.padEnd(128 - 10 - 1, ' ') + '\\n';
  const pre = Buffer.alloc(10); pre.write('\\x93NUMPY', 0, 'latin1'); pre[6] = 1; pre[7] = 0; pre.writeUInt16LE(padded.length, 8);
  writeFileSync(join(dir, 'x.npy'), Buffer.concat([pre, Buffer.from(padded, 'latin1'), Buffer.from(data.buffer, 0, 80 * 1024 * 1024)]));
  const npy = NpySource.open(join(dir, 'x.npy'));
  const npyLoader = new DataLoader(npy, { batchSize: 512, seed: 9 });
  const npyBatches = createHash('sha256');
  for (let k = 0; k < 40; k++) npyBatches.update(npyLoader.next().value.data);
  npyLoader.close();
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ advice: source.columns[0].hugePages, npyAdvice: npy.columns[0].hugePages, same: before === after, batches: batches.digest('hex'), npyBatches: npyBatches.digest('hex') }));`;

function run(env: NodeJS.ProcessEnv): Record<string, string | boolean> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Record<string, string | boolean>;
}

describe('huge-page advice for large sources', () => {
  it('never changes the bytes or the batches, whether it takes, or is turned off', () => {
    const on = run({});
    const off = run({ RP_HUGE_PAGES: '0' });
    expect(on.same).toBe(true);
    expect(off.same).toBe(true);
    expect(off).toMatchObject({ advice: 'none', npyAdvice: 'none' });
    if (process.platform === 'linux') expect(['collapsed', 'advised']).toContain(on.advice);
    expect(['advised', 'none']).toContain(on.npyAdvice);
    expect(on.batches).toBe(off.batches);
    expect(on.npyBatches).toBe(off.npyBatches);
    // The file holds the first 80 Ki rows of the same data: same seed, other n, so only check it is stable.
    expect(on.npyBatches).toMatch(/^[0-9a-f]{64}$/);
    console.log(`huge-page advice here: array ${String(on.advice)}, .npy mapping ${String(on.npyAdvice)}`);
  });
});
