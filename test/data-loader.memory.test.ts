// Batch memory on the default path (no recycle()): fresh batches come from the
// loader's arena and return to it once collected, so memory stays bounded in
// a loop that never yields, and a batch the caller holds is never reused.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

function child(script: string): Record<string, number | boolean> {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env },
  });
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

  // A closed loader leaves its pool (and its batches still out) to the next
  // loader with blocks of the same size, so that one starts on memory already
  // mapped in; a batch the closed loader returned stays intact, and is not
  // the new loader's to recycle.
  it('a new loader takes over a closed loader\'s pool; batches still held stay intact', () => {
    const r = child(`${prelude}
      const a = new DataLoader(source, { batchSize: 1024, seed: 5, numEpochs: Infinity });
      for (let k = 0; k < 60; k++) a.next();
      const held = a.next().value;
      const copy = Buffer.from(held.x);
      a.close();
      const b = new DataLoader(source, { batchSize: 1024, seed: 6, numEpochs: Infinity });
      const start = arenaBlocks(b);
      let ok = true;
      for (let k = 0; k < 200; k++) {
        const batch = b.next().value;
        if (k % 20 === 0) { gc(); ok = ok && matches(batch); }
      }
      let code = '';
      try { b.recycle(held); } catch (e) { code = e.code; }
      const heldIntact = Buffer.compare(held.x, copy) === 0 && matches(held);
      process.stdout.write(JSON.stringify({ ok, heldIntact, start, end: arenaBlocks(b), code }));
      b.close();`);
    expect(r).toMatchObject({ ok: true, heldIntact: true, code: 'RP_INVALID_ARGUMENT' });
    expect(r.start).toBeGreaterThan(0); // the closed loader's blocks
    expect(Number(r.end) - Number(r.start)).toBeLessThan(16); // reused, not made anew
  });

  // V8 starts a full Mark-Compact once its external-memory count grows 64 MiB
  // past the last one's; each batch buffer used to add its bytes to that
  // count, so a loop of fresh batches paid one every few dozen batches (about
  // a second each in a program with a 1 GB heap). The performance 'gc' entries
  // mark such collections with NODE_PERFORMANCE_GC_FLAGS_ALL_EXTERNAL_MEMORY.
  it('a loop of fresh batches never starts a full collection through external memory pressure', () => {
    const r = child(`
      const { DataLoader, ArraySource } = require(${JSON.stringify(join(root, 'src/index.ts'))});
      const { PerformanceObserver, constants } = require('node:perf_hooks');
      const live = []; // a program's own heap, ~64 MiB of small objects
      for (let i = 0; i < (64 << 20) / 64; i++) live.push({ a: i, b: i * 2, c: 'x' });
      const rowBytes = 1024, data = new Float32Array((64 << 20) / 4).fill(1);
      const source = new ArraySource({ x: { data, shape: [data.byteLength / rowBytes, rowBytes / 4] } });
      const loader = new DataLoader(source, { batchSize: 8192, seed: 4, numEpochs: Infinity });
      for (let k = 0; k < 30; k++) loader.next(); // the pool fills
      gc();
      const entries = [];
      const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
      observer.observe({ entryTypes: ['gc'] });
      const start = performance.now();
      // 3.2 GB of 8 MiB batches; the loop holds its last three (a batch in
      // use, one being sent on, one kept for logging), so some of them
      // outlive two scavenges and wait in the old generation.
      const held = [];
      for (let k = 0; k < 400; k++) {
        held.push(loader.next().value);
        if (held.length > 3) held.shift();
      }
      const end = performance.now();
      loader.close();
      setTimeout(() => {
        observer.disconnect();
        const inLoop = entries.filter((e) => e.startTime >= start && e.startTime <= end);
        const major = inLoop.filter((e) => e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
        const pressure = major.filter((e) => (e.detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_ALL_EXTERNAL_MEMORY) !== 0);
        process.stdout.write(JSON.stringify({ gcs: inLoop.length, major: major.length, pressure: pressure.length, live: live.length > 0 }));
      }, 50);`);
    console.log(`400 fresh 8 MiB batches, the last 3 held: ${r.gcs} collections, ${r.major} full, ${r.pressure} from external memory pressure`);
    expect(r.gcs).toBeGreaterThan(0); // the observer saw the loop's scavenges
    expect(r.pressure).toBe(0);
  });

  // A dropped batch's block comes back after a scavenge, which the loader
  // asks for once enough batches are out (rp::ScavengePacing). With a large
  // heap a scavenge costs milliseconds, and the loader then lets more batches
  // out between two; with a small one it keeps the minimum. Which case a
  // machine is in is read from the scavenges' own durations.
  it('paces its scavenge requests by what scavenges cost in this heap', () => {
    const run = (heapMiB: number): { pokeBytes: number; scavengeMs: number; scavenges: number } => {
      const r = child(`
        const { DataLoader, ArraySource } = require(${JSON.stringify(join(root, 'src/index.ts'))});
        const { PerformanceObserver, constants } = require('node:perf_hooks');
        const live = [];
        for (let left = (${heapMiB} << 20) / 64; left > 0; left -= 4096) {
          const chunk = [];
          for (let i = 0; i < Math.min(4096, left); i++) chunk.push({ id: i, score: i * 0.5, tag: 'x' });
          live.push(chunk);
        }
        gc();
        const rowBytes = 1024, data = new Float32Array((64 << 20) / 4).fill(1);
        const source = new ArraySource({ x: { data, shape: [data.byteLength / rowBytes, rowBytes / 4] } });
        const loader = new DataLoader(source, { batchSize: 8192, seed: 4, numEpochs: Infinity });
        const durations = [];
        const observer = new PerformanceObserver((list) => {
          for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) durations.push(e.duration);
        });
        observer.observe({ entryTypes: ['gc'] });
        for (let k = 0; k < 300; k++) loader.next();
        const pokeBytes = loader.queue.pokeBytes;
        loader.close();
        setTimeout(() => {
          observer.disconnect();
          durations.sort((a, b) => a - b);
          const scavengeMs = durations.length ? durations[durations.length >> 1] : 0;
          process.stdout.write(JSON.stringify({ pokeBytes, scavengeMs, scavenges: durations.length, live: live.length }));
        }, 50);`);
      return r as unknown as { pokeBytes: number; scavengeMs: number; scavenges: number };
    };
    const MiB = 1 << 20;
    for (const heapMiB of [0, 768]) {
      const r = run(heapMiB);
      console.log(`${heapMiB} MiB live heap: ${r.scavenges} scavenges, median ${r.scavengeMs.toFixed(2)} ms; ${r.pokeBytes / MiB} MiB between pokes`);
      expect(r.pokeBytes).toBeGreaterThanOrEqual(32 * MiB);
      expect(r.pokeBytes).toBeLessThanOrEqual(256 * MiB); // half the 512 MiB hidden budget
      if (r.scavengeMs < 0.3) expect(r.pokeBytes).toBe(32 * MiB); // cheap: the smallest pool
      if (r.scavengeMs > 2) expect(r.pokeBytes).toBeGreaterThan(32 * MiB); // costly: fewer scavenges
    }
  });

  // Below the full-collection threshold, V8 starts incremental marking once
  // its external count is 64 MiB past its last full collection's. Repaying
  // hidden bytes must leave room for the next hand-out, which V8 counts
  // before it is hidden: with 32 MiB batches a fixed 48 MiB band reached the
  // limit at each hand-out (12 markings in 64 batches).
  it('32 MiB batches start no incremental marking through external memory pressure, and keep a small pool', () => {
    const script = `
      const { DataLoader, ArraySource } = require(${JSON.stringify(join(root, 'src/index.ts'))});
      const rowBytes = 4096, data = new Float32Array((128 << 20) / 4).fill(1);
      const source = new ArraySource({ x: { data, shape: [data.byteLength / rowBytes, rowBytes / 4] } });
      const loader = new DataLoader(source, { batchSize: 8192, seed: 4, numEpochs: Infinity });
      for (let k = 0; k < 8; k++) loader.next(); // the pool fills
      const start = performance.now();
      let kept;
      for (let k = 0; k < 100; k++) kept = loader.next().value;
      console.error(JSON.stringify({ start, length: kept.x.length, pokeBytes: loader.queue.pokeBytes, blocks: loader.queue.arenaBlocks }));
      loader.close();`;
    const r = spawnSync(process.execPath, ['--trace-incremental-marking', '--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    const { start, length, pokeBytes, blocks } = JSON.parse(r.stderr.trim().split('\n').pop()!) as { start: number; length: number; pokeBytes: number; blocks: number };
    expect(length).toBe(8192 * 1024);
    // V8's trace lines carry ms since the isolate started, as performance.now() counts them (to a few ms).
    const starts = r.stdout
      .split('\n')
      .filter((l) => l.includes('Start (external memory pressure)'))
      .map((l) => Number(/\s(\d+) ms:/.exec(l)?.[1]))
      .filter((ms) => ms > start).length;
    console.log(`100 batches of 32 MiB: ${starts} incremental markings started by external memory pressure; ${pokeBytes >> 20} MiB between pokes, ${blocks} blocks`);
    expect(starts).toBe(0);
    // A small heap's scavenges cost its thread little CPU, though their wall
    // time waits for a core the gather holds: the pool stays small (paced by
    // wall time, it grew to 11 blocks and 256 MiB between pokes).
    expect(pokeBytes).toBeLessThanOrEqual(64 << 20);
    expect(blocks).toBeLessThanOrEqual(8);
  });
});
