// Batch memory on the default path (no recycle()): fresh batches come from the
// loader's arena and return to it once collected, so memory stays bounded in
// a loop that never yields, and a batch the caller holds is never reused.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

function child(script: string): Record<string, number | boolean> {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Record<string, number | boolean>;
}

const prelude = `
  const { DataLoader, ArraySource } = require(${JSON.stringify(join(root, 'src/index.ts'))});
  const n = 8192, rowBytes = 2048, data = new Uint8Array(n * rowBytes).map((_, i) => (i * 7 + (i >> 11)) & 255);
  const source = new ArraySource({ x: { data, shape: [n, rowBytes] } });
  const arenaBlocks = (loader) => loader.queue.arenaBlocks;
  const matches = (batch) => batch.indices.every((row, j) =>
    Buffer.compare(batch.x.subarray(j * rowBytes, (j + 1) * rowBytes), data.subarray(row * rowBytes, (row + 1) * rowBytes)) === 0);
`;

describe('DataLoader batch memory (default path)', () => {
  it('10,000 fresh 2 MiB batches in a sync loop grow RSS by at most 256 MiB', () => {
    const r = child(`${prelude}
      const loader = new DataLoader(source, { batchSize: 1024, seed: 1, numEpochs: Infinity });
      for (let k = 0; k < 20; k++) loader.next();
      gc(); const start = process.memoryUsage().rss;
      let ok = true;
      for (let k = 0; k < 10000; k++) {
        const batch = loader.next().value;
        if (k % 1000 === 0) ok = ok && matches(batch);
      }
      const growth = process.memoryUsage().rss - start;
      process.stdout.write(JSON.stringify({ growth, blocks: arenaBlocks(loader), ok }));
      loader.close();`);
    console.log(`10,000 fresh 2 MiB batches: RSS +${(Number(r.growth) / 2 ** 20).toFixed(0)} MiB, ${r.blocks} arena blocks`);
    expect(r.ok).toBe(true);
    expect(r.growth).toBeLessThan(256 * 2 ** 20);
    // Reuse, not one block per batch: the prefetch depth plus what the
    // garbage collector lets pile up between scavenges.
    expect(r.blocks).toBeLessThan(128);
  });

  it('a batch held across garbage collections keeps its bytes while later batches reuse memory', () => {
    const r = child(`${prelude}
      const loader = new DataLoader(source, { batchSize: 1024, seed: 2, numEpochs: Infinity });
      const held = loader.next().value;
      const copy = Buffer.from(held.x);
      let ok = matches(held);
      for (let k = 0; k < 600; k++) {
        loader.next();
        if (k % 50 === 0) { gc(); ok = ok && Buffer.compare(held.x, copy) === 0; }
      }
      const heldIntact = Buffer.compare(held.x, copy) === 0 && matches(held);
      process.stdout.write(JSON.stringify({ ok, heldIntact, blocks: arenaBlocks(loader) }));
      loader.close();`);
    expect(r).toMatchObject({ ok: true, heldIntact: true });
    expect(r.blocks).toBeLessThan(128);
  });

  it('batches kept by the caller are never reused, and each stays correct', () => {
    const r = child(`${prelude}
      const loader = new DataLoader(source, { batchSize: 256, seed: 3, numEpochs: Infinity });
      const kept = [];
      for (let k = 0; k < 300; k++) { kept.push(loader.next().value); if (k % 40 === 0) gc(); }
      gc();
      process.stdout.write(JSON.stringify({ ok: kept.every(matches), blocks: arenaBlocks(loader) }));
      loader.close();`);
    expect(r.ok).toBe(true);
    expect(r.blocks).toBeGreaterThanOrEqual(300);
  });
});
