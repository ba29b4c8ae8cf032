// Transforms across processes: SIGKILL at random points under workers,
// resumed with another worker count, equals an uninterrupted run byte for
// byte; a loader dropped without close() lets the program exit; memory stays
// bounded by concurrency over 10,000 batches.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataLoader } from '../src/index.js';
import { Child } from './helpers/child-process.js';
import { tempDir } from './helpers/temp-dir.js';
import { serializeResult } from './helpers/transform-results.js';

const root = join(__dirname, '..');
const CHILD = join(root, 'test/fixtures/transforms-kill-child.ts');
const params = { n: 97, batchSize: 6, numEpochs: 2, seed: 5 };

/** The uninterrupted run's output: records.mjs's results, computed on the main thread. */
function reference(): string {
  const loader = new DataLoader({ length: params.n, get: (i: number) => i * 3 + 1 }, {
    batchSize: params.batchSize, seed: params.seed, numEpochs: params.numEpochs,
    map: (batch, ctx) => ({
      indices: Uint32Array.from(ctx.indices), values: Float64Array.from(batch, (v) => v * 2 + ctx.epoch),
      key: String(ctx.key), epoch: batch.epoch, n: batch.length,
    }),
  });
  let text = '';
  for (const b of loader) text += `${serializeResult(b)}\n`;
  return text;
}

function run(dir: string, out: string, workers: number, concurrency: number): Child {
  const args = JSON.stringify({ dir, out, workers, concurrency, ...params });
  return new Child(process.execPath, ['--import', 'tsx', CHILD, args]);
}

describe('module maps across processes', () => {
  const expected = reference();
  const total = expected.split('\n').length - 1; // 34 batches

  it('SIGKILL at random points under workers, resumed with other worker counts, equals an uninterrupted run byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ workers: fc.constantFrom(0, 1, 2, 3), concurrency: fc.integer({ min: 1, max: 9 }), at: fc.integer({ min: 1, max: total - 2 }), delayMs: fc.integer({ min: 0, max: 20 }) }), { minLength: 1, maxLength: 2 }),
        fc.record({ workers: fc.constantFrom(0, 1, 2), concurrency: fc.integer({ min: 1, max: 9 }) }),
        async (kills, last) => {
          const dir = tempDir('rp-kill-');
          const out = join(dir, 'out.jsonl');
          let reached = 0;
          for (const k of kills) {
            const child = run(join(dir, 'steps'), out, k.workers, k.concurrency);
            const at = Math.max(k.at, reached + 1);
            if (at < total) {
              await child.waitFor((l) => l === `batch ${at}` || l === 'done');
              await new Promise((r) => setTimeout(r, k.delayMs));
              child.proc.kill('SIGKILL');
            }
            const exit = await child.exited;
            if (exit.signal !== 'SIGKILL') expect(exit.code, child.stderr).toBe(0);
            reached = at;
          }
          const child = run(join(dir, 'steps'), out, last.workers, last.concurrency);
          const exit = await child.exited;
          expect(exit.code, child.stderr).toBe(0);
          expect(child.lines.at(-1)).toBe('done');
          expect(existsSync(out)).toBe(true);
          expect(readFileSync(out, 'utf8') === expected).toBe(true);
        },
      ),
      { numRuns: 4, seed: 2126 },
    );
  }, 240_000);

  it('a program that drops a loader with workers, without close(), exits on its own', () => {
    const script = `
      const { DataLoader } = require(${JSON.stringify(join(root, 'src/index.ts'))});
      const loader = new DataLoader({ length: 50, get: (i) => i }, { batchSize: 5, map: ${JSON.stringify(join(root, 'test/fixtures/maps/records.mjs'))}, workers: 2, concurrency: 4 });
      loader.nextAsync().then((r) => console.log('got', r.value.n));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.signal, 'still running after 60 s').toBe(null);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('got 5');
  });

  it('memory stays bounded by concurrency: RSS over 10,000 batches of 64 KiB results, from an async map and from a worker map', () => {
    const script = `
      const { DataLoader } = require(${JSON.stringify(join(root, 'src/index.ts'))});
      const records = { length: 100000, get: (i) => ({ i, text: 'x'.repeat(200) }) };
      async function measure(options) {
        const loader = new DataLoader(records, { batchSize: 4, numEpochs: Infinity, ...options });
        for (let k = 0; k < 1000; k++) await loader.nextAsync();
        gc(); const start = process.memoryUsage().rss;
        let bytes = 0;
        for (let k = 0; k < 10000; k++) bytes += (await loader.nextAsync()).value.values.byteLength;
        gc(); const growth = process.memoryUsage().rss - start;
        loader.close();
        return { growth, bytes };
      }
      (async () => {
        const asyncMap = await measure({ concurrency: 64, map: async (b) => ({ values: new Float64Array(8192).fill(b.length) }) });
        const workerMap = await measure({ concurrency: 16, workers: 2, map: ${JSON.stringify(join(root, 'test/fixtures/maps/big.mjs'))} });
        console.log(JSON.stringify({ asyncMap, workerMap }));
      })();`;
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8', timeout: 180_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const { asyncMap, workerMap } = JSON.parse(r.stdout) as Record<string, { growth: number; bytes: number }>;
    console.log(`RSS growth over 10,000 batches: async map ${(asyncMap!.growth / 2 ** 20).toFixed(1)} MiB, worker map ${(workerMap!.growth / 2 ** 20).toFixed(1)} MiB`);
    // 625 MiB of results went through each; worker threads' heaps grow a while before they collect.
    expect(asyncMap!.bytes).toBe(10000 * 65536);
    expect(workerMap!.bytes).toBe(10000 * 65536);
    expect(asyncMap!.growth).toBeLessThan(96 * 2 ** 20);
    expect(workerMap!.growth).toBeLessThan(192 * 2 ** 20);
  }, 200_000);
});
