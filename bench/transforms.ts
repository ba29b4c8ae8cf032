// Transforms (README, "Transforms"): a CPU-bound module map (js-tiktoken) on
// worker threads vs the main thread, vs a bare piscina loop over the same
// batches, vs PyTorch's DataLoader(num_workers); an async map against a
// loopback HTTP server vs a bare loop of fetch calls; the async path's
// per-batch overhead.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { ArraySource, DataLoader, JsonlSource } from '../src/index.js';
import { writeCorpus } from '../examples/corpus.js';
import { alternate, coresAvailable, median, now, type BenchContext, type Row, type Section } from './harness.js';

const root = join(__dirname, '..');
const TOKENIZE = join(root, 'examples/tokenize-map.mjs');
const BATCH = 64;

interface Tokens {
  tokens: Uint32Array;
}
type RawJsonl = ReturnType<typeof rawJsonl>;
const rawJsonl = (path: string) => JsonlSource.open(path, { parse: false }); // raw line bytes: the workers parse them

/** ms for one epoch through a loader whose maps are loaded and warm (the first batch is redone). */
async function loaderEpoch(loader: DataLoader<RawJsonl, Tokens>, start: ReturnType<DataLoader['getState']>): Promise<{ ms: number; tokens: number; cores: number }> {
  loader.setState(start);
  const cpu0 = process.cpuUsage(); // every thread of the process, workers included
  const t0 = now();
  let tokens = 0;
  for (;;) {
    const r = await loader.nextAsync();
    if (r.done === true) break;
    tokens += r.value.tokens.length;
  }
  const ms = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, tokens, cores: (cpu.user + cpu.system) / 1000 / ms };
}

/** The same transform over the same batches, prebuilt, with piscina alone: `inFlight` tasks at a time, results in order. */
async function bareEpoch(pool: Piscina, batches: unknown[], inFlight: number): Promise<{ ms: number; tokens: number }> {
  const t0 = now();
  let tokens = 0;
  const pending: Promise<Tokens>[] = [];
  let next = 0;
  while (next < batches.length && pending.length < inFlight) pending.push(pool.run(batches[next++]) as Promise<Tokens>);
  while (pending.length > 0) {
    const r = await pending.shift()!;
    tokens += r.tokens.length;
    if (next < batches.length) pending.push(pool.run(batches[next++]) as Promise<Tokens>);
  }
  return { ms: now() - t0, tokens };
}

async function tokenizerRows(ctx: BenchContext, dir: string): Promise<Row[]> {
  const records = ctx.quick ? 1500 : 4000;
  const corpus = join(dir, 'corpus.jsonl');
  writeCorpus(corpus, records);
  const source = rawJsonl(corpus);
  const make = (workers: number): DataLoader<RawJsonl, Tokens> =>
    new DataLoader<RawJsonl, Tokens>(source, { batchSize: BATCH, seed: 7, map: TOKENIZE, workers });
  const w0 = make(0);
  const w2 = make(2);
  const start = w0.getState();
  await w0.nextAsync(); // loads the module (and the ranks) on the main thread
  await w2.nextAsync(); // and in the workers
  // The bare loop's batches: the loader's own, unmapped, copied out once.
  const plain = new DataLoader(source, { batchSize: BATCH, seed: 7 });
  const batches = [...plain].map((b) => ({ line: { values: b.line.values.slice(), offsets: b.line.offsets.slice() }, indices: b.indices.slice(), epoch: b.epoch }));
  plain.close();
  const pool = new Piscina({ filename: TOKENIZE, minThreads: 2, maxThreads: 2, idleTimeout: Infinity });
  await bareEpoch(pool, batches.slice(0, 8), 4); // warm
  const rounds = Math.max(3, Math.min(ctx.repeats, 5));
  const t = { w0: [] as number[], w2: [] as number[], bare: [] as number[] };
  const cores = { w0: [] as number[], w2: [] as number[] };
  let tokens = 0;
  for (let round = 0; round < rounds; round++) {
    const [a, b] = await alternate(
      round,
      () => loaderEpoch(w2, start).then((r) => ((tokens = r.tokens), cores.w2.push(r.cores), r.ms)),
      () => bareEpoch(pool, batches, 4).then((r) => r.ms),
    );
    t.w2.push(a);
    t.bare.push(b);
    const r0 = await loaderEpoch(w0, start);
    t.w0.push(r0.ms);
    cores.w0.push(r0.cores);
  }
  const free = await coresAvailable(2);
  w0.close();
  w2.close();
  await pool.destroy();
  const ms = { w0: median(t.w0), w2: median(t.w2), bare: median(t.bare) };
  const perSec = (m: number): number => tokens / (m / 1000);
  const rows: Row[] = [
    {
      figure: `tokenizer module map (js-tiktoken), workers: 2 vs workers: 0, ${records} records, batch ${BATCH}`,
      value: perSec(ms.w2) / 1e6,
      unit: 'M tokens/s',
      ratio: ms.w0 / ms.w2,
      baseline: `workers: 0 (${(perSec(ms.w0) / 1e6).toFixed(2)} M tokens/s; speed-up)`,
      target: '≥ 1.7× on 2 cores',
      met: ms.w0 / ms.w2 >= 1.7,
      note: `concurrency 4 (default); cores this process got (CPU time / wall time): workers 2: ${median(cores.w2).toFixed(2)}, workers 0: ${median(cores.w0).toFixed(2)}; cores free at the end: ${free.toFixed(2)}`,
    },
    {
      figure: 'same, workers: 2, vs a bare piscina loop (2 threads, 4 in flight) over the same prebuilt batches',
      value: perSec(ms.w2) / 1e6,
      unit: 'M tokens/s',
      ratio: ms.bare / ms.w2,
      baseline: `bare piscina (${(perSec(ms.bare) / 1e6).toFixed(2)} M tokens/s)`,
      target: '≥ 0.9×',
      met: ms.bare / ms.w2 >= 0.9,
      note: 'the loader assembles, copies each batch once and moves results back; the bare loop clones both ways',
    },
  ];
  rows.push(torchRow(corpus, dir, ms.w0 / ms.w2, perSec(ms.w2), ctx));
  return rows;
}

/** PyTorch DataLoader(num_workers 0 vs 2) with Python's tiktoken, when both import. */
function torchRow(corpus: string, dir: string, ourScaling: number, ourTokensPerSec: number, ctx: BenchContext): Row {
  const python = process.env.RP_BENCH_PYTHON ?? 'python3';
  const probe = spawnSync(python, ['-c', 'import torch, tiktoken'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return { figure: 'PyTorch DataLoader num_workers 2 vs 0 (Python tiktoken)', value: NaN, unit: '', note: `skipped: ${python} cannot import torch and tiktoken (set RP_BENCH_PYTHON to a Python that can)` };
  }
  const ranks = join(dir, 'cl100k_ranks.json');
  writeFileSync(ranks, JSON.stringify(require('js-tiktoken/ranks/cl100k_base') as object));
  const r = spawnSync(python, [join(__dirname, 'transforms_torch.py'), corpus, ranks, String(ctx.quick ? 3 : 3)], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return { figure: 'PyTorch DataLoader num_workers 2 vs 0', value: NaN, unit: '', note: `failed: ${r.stderr.slice(-300)}` };
  const py = JSON.parse(r.stdout.trim().split('\n').pop()!) as { w0: number; w2: number; tokens: number; encoding: string; torch: string };
  const torchScaling = py.w0 / py.w2;
  return {
    figure: `PyTorch ${py.torch} DataLoader(num_workers=2) vs num_workers=0, Python tiktoken, same JSONL`,
    value: py.tokens / py.w2 / 1e6,
    unit: 'M tokens/s',
    ratio: torchScaling,
    baseline: `num_workers=0 (${(py.tokens / py.w0 / 1e6).toFixed(2)} M tokens/s; speed-up)`,
    target: `scaling ≤ ours (${ourScaling.toFixed(2)}×)`,
    met: ourScaling >= torchScaling,
    note: `ours, workers: 2: ${(ourTokensPerSec / 1e6).toFixed(2)} M tokens/s; ${py.encoding}`,
  };
}

/** A loopback HTTP server in a child process: answers each request after `delayMs`. */
async function startServer(delayMs: number): Promise<{ url: string; stop: () => void }> {
  const code = `
    const http = require('node:http');
    const server = http.createServer((req, res) => setTimeout(() => res.end(req.url), ${delayMs}));
    server.keepAliveTimeout = 60000;
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill() };
}

async function httpRows(ctx: BenchContext): Promise<Row[]> {
  const server = await startServer(5);
  const count = ctx.quick ? 800 : 2000;
  const IN_FLIGHT = 16;
  const call = async (i: number): Promise<string> => (await fetch(`${server.url}${i}`)).text();
  const records = { length: count, get: (i: number) => i };
  const loader = new DataLoader(records, { batchSize: 1, seed: 1, concurrency: IN_FLIGHT, map: (b) => call(b[0]!) });
  const start = loader.getState();
  const viaLoader = async (): Promise<number> => {
    loader.setState(start);
    const t0 = now();
    let n = 0;
    for (;;) {
      const r = await loader.nextAsync();
      if (r.done === true) break;
      n += r.value.length;
    }
    if (n === 0) throw new Error('no responses');
    return now() - t0;
  };
  const bare = async (): Promise<number> => {
    const t0 = now();
    const pending: Promise<string>[] = [];
    let next = 0;
    while (next < count && pending.length < IN_FLIGHT) pending.push(call(next++));
    while (pending.length > 0) {
      await pending.shift()!;
      if (next < count) pending.push(call(next++));
    }
    return now() - t0;
  };
  await bare();
  await viaLoader();
  const t = { loader: [] as number[], bare: [] as number[] };
  for (let round = 0; round < Math.max(3, Math.min(ctx.repeats, 7)); round++) {
    const [a, b] = await alternate(round, viaLoader, bare);
    t.loader.push(a);
    t.bare.push(b);
  }
  loader.close();
  server.stop();
  const ms = { loader: median(t.loader), bare: median(t.bare) };
  return [
    {
      figure: `async map, one fetch per batch (batch of 1) to a loopback server with a 5 ms delay, concurrency: ${IN_FLIGHT}`,
      value: count / (ms.loader / 1000),
      unit: 'batches/s',
      ratio: ms.bare / ms.loader,
      baseline: `a bare loop keeping ${IN_FLIGHT} fetch calls in flight (${(count / (ms.bare / 1000)).toFixed(0)}/s)`,
      target: '≥ 0.9×',
      met: ms.bare / ms.loader >= 0.9,
      note: `${count} requests a round; the server is another process`,
    },
  ];
}

async function overheadRows(ctx: BenchContext): Promise<Row[]> {
  const n = 1 << 16;
  const source = new ArraySource({ x: { data: new Float32Array(n * 4), shape: [n, 4] } });
  const count = ctx.quick ? 50_000 : 200_000;
  const run = async (options: Record<string, unknown>, asyncPath: boolean): Promise<number> => {
    const loader = new DataLoader(source, { batchSize: 32, numEpochs: Infinity, ...options } as never);
    for (let i = 0; i < 1000; i++) await loader.nextAsync();
    const t0 = now();
    if (asyncPath) for (let i = 0; i < count; i++) await loader.nextAsync();
    else for (let i = 0; i < count; i++) loader.next();
    const us = ((now() - t0) * 1e3) / count;
    loader.close();
    return us;
  };
  const samples = { asyncMap: [] as number[], asyncMap8: [] as number[], syncMap: [] as number[], asyncNoMap: [] as number[] };
  for (let round = 0; round < Math.max(3, Math.min(ctx.repeats, 5)); round++) {
    samples.asyncMap.push(await run({ map: async (b: unknown) => b }, true));
    samples.asyncMap8.push(await run({ map: async (b: unknown) => b, concurrency: 8 }, true));
    samples.syncMap.push(await run({ map: (b: unknown) => b }, false));
    samples.asyncNoMap.push(await run({}, true));
  }
  const us = { asyncMap: median(samples.asyncMap), asyncMap8: median(samples.asyncMap8), syncMap: median(samples.syncMap), asyncNoMap: median(samples.asyncNoMap) };
  return [
    {
      figure: 'per batch, async path: nextAsync() with a trivial async map (32 rows × 16 B)',
      value: us.asyncMap,
      unit: 'µs',
      target: '≤ 10',
      met: us.asyncMap <= 10,
      note: `concurrency 8: ${us.asyncMap8.toFixed(2)} µs; nextAsync() without a map: ${us.asyncNoMap.toFixed(2)} µs; next() with a sync map: ${us.syncMap.toFixed(2)} µs`,
    },
  ];
}

export const transformsSection: Section = {
  id: 'transforms',
  title: 'Transforms: module maps on worker threads, async maps with concurrency',
  run: async (ctx): Promise<Row[]> => {
    const dir = mkdtempSync(join(tmpdir(), 'rp-bench-transforms-'));
    try {
      return [...(await tokenizerRows(ctx, dir)), ...(await httpRows(ctx)), ...(await overheadRows(ctx))];
    } finally {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    }
  },
};
