// Transforms (README, "Transforms"): async maps with concurrency, module maps
// on worker threads, exact resume of the work in flight, and each failure
// with its code. The SIGKILL property test is in transforms.process.test.ts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArraySource, DataLoader, MapError, MapModuleError, WorkerFailedError, type State } from '../src/index.js';
import { tempDir } from './helpers/temp-dir.js';

const MAPS = join(__dirname, 'fixtures/maps');
const RECORDS = join(MAPS, 'records.mjs');
const n = 61;
const records = { length: n, get: (i: number) => i * 3 + 1 };

/** records.mjs, as a function on the main thread: the reference. */
function recordsMap(batch: number[] & { epoch: number }, ctx: { key: unknown; epoch: number; indices: Uint32Array }): unknown {
  const values = Float64Array.from(batch, (v) => v * 2 + ctx.epoch);
  return { indices: Uint32Array.from(ctx.indices), values, key: String(ctx.key), epoch: batch.epoch, n: batch.length };
}

const base = { batchSize: 5, seed: 11, numEpochs: 2 };

function syncRun(options: Record<string, unknown> = {}): unknown[] {
  return [...new DataLoader(records, { ...base, map: recordsMap, ...options } as never)];
}

async function drain(loader: { nextAsync(): Promise<IteratorResult<unknown, undefined>> }, limit = Infinity): Promise<unknown[]> {
  const out: unknown[] = [];
  while (out.length < limit) {
    const r = await loader.nextAsync();
    if (r.done === true) break;
    out.push(r.value);
  }
  return out;
}

const threads = (): number => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

async function until(test: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

describe('equality across workers and concurrency', () => {
  const reference = syncRun();

  it.each([
    ['an async function, concurrency 1', { map: async (b: never, c: never) => recordsMap(b, c), concurrency: 1 }],
    ['an async function with varying delays, concurrency 8', {
      map: (b: never, c: { indices: Uint32Array }) => new Promise((r) => setTimeout(() => r(recordsMap(b, c as never)), (c.indices[0]! * 7) % 5)),
      concurrency: 8,
    }],
    ['a module, workers 0', { map: RECORDS, workers: 0 }],
    ['a module, workers 1, concurrency 1', { map: RECORDS, workers: 1, concurrency: 1 }],
    ['a module, workers 2, concurrency 8', { map: RECORDS, workers: 2, concurrency: 8 }],
    ['an async module, workers 2, concurrency 8', { map: join(MAPS, 'async-delay.mjs'), workers: 2, concurrency: 8 }],
    ['a module as a file: URL, workers 2 (default concurrency)', { map: new URL(`file://${RECORDS}`), workers: 2 }],
  ])('%s gives the batches of a sync run, in order', async (_, options) => {
    const loader = new DataLoader(records, { ...base, ...options } as never);
    const got = await drain(loader);
    loader.close();
    expect(got).toEqual(reference);
  });

  it('a column source: the batch bytes reach workers intact (fixed and ragged columns)', async () => {
    const rows = 40;
    const x = Float32Array.from({ length: rows * 3 }, (_, i) => (i * 37) % 101);
    const offsets = new Int32Array(rows + 1);
    for (let i = 0; i < rows; i++) offsets[i + 1] = offsets[i]! + ((i * 5) % 7);
    const t = Uint8Array.from({ length: offsets[rows]! }, (_, i) => (i * 13) & 255);
    const source = new ArraySource({ x: { data: x, shape: [rows, 3] }, t: { values: t, offsets } });
    const runs: unknown[][] = [];
    for (const options of [{ workers: 0 }, { workers: 2, concurrency: 1 }, { workers: 2, concurrency: 8 }]) {
      const loader = new DataLoader(source, { batchSize: 6, seed: 2, map: join(MAPS, 'columns.mjs'), ...options });
      runs.push(await drain(loader));
      loader.close();
    }
    expect(runs[0]!.length).toBe(7);
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
    // Against the source itself.
    const first = runs[0]![0] as { sums: Float64Array; lengths: Int32Array; indices: Uint32Array };
    first.indices.forEach((r, j) => {
      expect(first.sums[j]).toBe(x[3 * r]! + x[3 * r + 1]! + x[3 * r + 2]!);
      expect(first.lengths[j]).toBe(offsets[r + 1]! - offsets[r]!);
    });
  });

  it('keeps at most `concurrency` maps in flight, and really runs them at once', async () => {
    let inFlight = 0;
    let most = 0;
    const loader = new DataLoader(records, {
      ...base,
      concurrency: 6,
      map: async (batch) => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        return [...batch];
      },
    });
    const got = await drain(loader);
    expect(got.length).toBe(26);
    expect(most).toBe(6);
    loader.close();
  });

  it('for await over a loader with an async map', async () => {
    const loader = new DataLoader(records, { ...base, concurrency: 4, map: async (b, c) => recordsMap(b as never, c as never) });
    const got: unknown[] = [];
    for await (const b of loader) got.push(b);
    expect(got).toEqual(reference);
  });
});

describe('exact resume of the work in flight', () => {
  const reference = syncRun();
  const configs = [
    { map: async (b: never, c: never) => recordsMap(b, c), concurrency: 8 },
    { map: RECORDS, workers: 2, concurrency: 8 },
    { map: RECORDS, workers: 0 },
    { map: RECORDS, workers: 1, concurrency: 3 },
  ];
  const loaders: DataLoader[] = [];
  afterEach(() => {
    for (const l of loaders.splice(0)) l.close();
  });
  const make = (i: number): DataLoader => {
    const l = new DataLoader(records, { ...base, ...configs[i % configs.length] } as never);
    loaders.push(l);
    return l;
  };

  it('a state taken right after a restore is the restored state, and resumes the same', async () => {
    const a = make(1);
    await drain(a, 7); // with 8 more maps in flight
    const state = a.getState();
    const b = make(0);
    b.setState(state);
    const again = b.getState();
    expect(again).toEqual(state);
    const c = make(2);
    c.setState(again);
    expect(await drain(c)).toEqual(reference.slice(7));
  });

  it('repeated restores within one epoch, each with other workers and concurrency, drop the work in flight', async () => {
    const states: State[] = [];
    const a = make(1);
    for (let k = 0; k < 9; k++) {
      states.push(a.getState());
      await a.nextAsync();
    }
    const b = make(3);
    for (const [k, i] of [[6, 0], [2, 1], [8, 2], [0, 3], [5, 0]] as const) {
      const target = i === 0 ? b : make(i);
      await drain(target, 2); // fills its window with maps of other batches
      target.setState(states[k]!);
      expect(await drain(target, 3)).toEqual(reference.slice(k, k + 3));
    }
  });

  it('restores at the epoch boundary', async () => {
    const perEpoch = Math.ceil(n / base.batchSize); // 13
    const a = make(0);
    await drain(a, perEpoch);
    const end = a.getState() as { epoch: number; position: number };
    for (const i of [1, 2, 3]) {
      const b = make(i);
      await drain(b, 20);
      b.setState(end);
      expect(b.getState()).toEqual(end);
      expect(await drain(b)).toEqual(reference.slice(perEpoch));
    }
    // And the state one batch before the end.
    const c = make(1);
    await drain(c, perEpoch - 1);
    const before = c.getState();
    const d = make(2);
    d.setState(before);
    expect(await drain(d, 3)).toEqual(reference.slice(perEpoch - 1, perEpoch + 2));
  });

  it('getState counts delivered batches only, however many maps are in flight', async () => {
    const a = make(1);
    const sync = new DataLoader(records, { ...base, map: recordsMap } as never);
    for (let k = 0; k < 5; k++) {
      await a.nextAsync();
      sync.next();
      expect(a.getState()).toEqual(sync.getState());
    }
    sync.close();
  });
});

describe('failures, each with a code', () => {
  const loaders: DataLoader[] = [];
  afterEach(() => {
    for (const l of loaders.splice(0)) l.close();
    delete process.env.RP_TEST_FAULT;
    delete process.env.RP_TEST_RECORD;
    delete process.env.RP_TEST_MARKER;
  });
  const track = <L extends { close(): void }>(l: L): L => (loaders.push(l as never), l);
  const reference = syncRun();
  /** The batch index (in the reference) holding record r, and r itself. */
  const recordAt = (k: number): number => (reference[k] as { indices: Uint32Array }).indices[0]!;

  /** Sets up faults.mjs: the fault, on the batch at place k; returns the marker file. */
  function fault(kind: string, k: number): string {
    const marker = join(tempDir('rp-fault-'), 'marker');
    writeFileSync(marker, '');
    Object.assign(process.env, { RP_TEST_FAULT: kind, RP_TEST_RECORD: String(recordAt(k)), RP_TEST_MARKER: marker });
    return marker;
  }

  async function failsAt(loader: DataLoader, k: number): Promise<unknown> {
    const got = await drain(loader, k);
    expect(got).toEqual(reference.slice(0, k));
    const error = await loader.nextAsync().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(loader.getState()).toEqual(stateAfter(k));
    return error;
  }

  function stateAfter(k: number): State {
    const l = new DataLoader(records, base);
    for (let i = 0; i < k; i++) l.next();
    const s = l.getState();
    l.close();
    return s;
  }

  it.each([
    ['a function that throws', (k: number) => ({ map: mapFailingOnce(k, false), concurrency: 1 })],
    ['an async function that rejects, concurrency 8', (k: number) => ({ map: mapFailingOnce(k, true), concurrency: 8 })],
  ])('%s: MapError RP_MAP_FAILED at that batch, with cause, epoch, indices; the next call retries', async (_, options) => {
    const k = 4;
    const loader = track(new DataLoader(records, { ...base, ...options(k) } as never));
    const error = (await failsAt(loader, k)) as MapError;
    expect(error).toBeInstanceOf(MapError);
    expect(error.code).toBe('RP_MAP_FAILED');
    expect((error.cause as Error).message).toBe('augmentation failed');
    expect(error.epoch).toBe(0);
    expect(Array.from(error.indices)).toEqual(Array.from((reference[k] as { indices: Uint32Array }).indices));
    expect(error.message).toMatch(/map failed on the batch of epoch 0 with records \[\d+, .*augmentation failed/);
    expect(await drain(loader)).toEqual(reference.slice(k));
  });

  function mapFailingOnce(k: number, async: boolean): (b: never, c: never) => unknown {
    let failed = false;
    const first = recordAt(k);
    return (b, c) => {
      if (!failed && (c as { indices: Uint32Array }).indices[0] === first) {
        failed = true;
        if (async) return Promise.reject(new Error('augmentation failed'));
        throw new Error('augmentation failed');
      }
      return async ? Promise.resolve(recordsMap(b, c)) : recordsMap(b, c);
    };
  }

  it('a module map that throws in a worker: MapError with a copy of the cause (name, message, code); the retry succeeds', async () => {
    fault('throw', 6);
    const loader = track(new DataLoader(records, { ...base, map: join(MAPS, 'faults.mjs'), workers: 2, concurrency: 4 }));
    const error = (await failsAt(loader, 6)) as MapError;
    expect(error).toBeInstanceOf(MapError);
    expect(error.code).toBe('RP_MAP_FAILED');
    const cause = error.cause as Error & { code: string };
    expect([cause.name, cause.message, cause.code]).toEqual(['RangeError', `record ${recordAt(6)} is bad`, 'E_BAD_RECORD']);
    expect(await drain(loader)).toEqual(reference.slice(6));
  });

  it.each([
    ['process.exit() in the map', 'exit-once'],
    ['an error thrown outside the map (a timer)', 'uncaught-once'],
  ])('a worker that dies (%s) is replaced and its batch retried once', async (_, kind) => {
    const marker = fault(kind, 5);
    const loader = track(new DataLoader(records, { ...base, map: join(MAPS, 'faults.mjs'), workers: 2, concurrency: 4 }));
    expect(await drain(loader)).toEqual(reference);
    expect(existsSync(marker)).toBe(false); // the fault did happen
  });

  it('a worker past its resourceLimits is replaced and its batch retried once; a batch that does it twice gives RP_WORKER_FAILED', async () => {
    const resourceLimits = { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 };
    const marker = fault('oom-once', 2);
    const once = track(new DataLoader(records, { ...base, map: join(MAPS, 'faults.mjs'), workers: 2, concurrency: 4, resourceLimits }));
    expect(await drain(once)).toEqual(reference);
    expect(existsSync(marker)).toBe(false);
    fault('oom', 2);
    const always = track(new DataLoader(records, { ...base, map: join(MAPS, 'faults.mjs'), workers: 1, resourceLimits }));
    const error = (await failsAt(always, 2)) as WorkerFailedError;
    expect(error).toBeInstanceOf(WorkerFailedError);
    expect(error.code).toBe('RP_WORKER_FAILED');
    expect(error.message).toMatch(/killed two map workers: .*memory limit/);
  });

  it('a batch that kills two workers: WorkerFailedError RP_WORKER_FAILED naming the batch; the loader goes on after it is fixed', async () => {
    fault('exit', 3);
    const loader = track(new DataLoader(records, { ...base, map: join(MAPS, 'faults.mjs'), workers: 2, concurrency: 2 }));
    const error = (await failsAt(loader, 3)) as WorkerFailedError;
    expect(error).toBeInstanceOf(WorkerFailedError);
    expect(error.code).toBe('RP_WORKER_FAILED');
    expect(error.message).toMatch(new RegExp(`the batch of epoch 0 with records \\[${recordAt(3)}, .*killed two map workers: worker exited with code: 4`));
    expect(Array.from(error.indices)).toEqual(Array.from((reference[3] as { indices: Uint32Array }).indices));
  });

  it.each([
    ['a missing module, at construction', join(MAPS, 'missing.mjs'), true, /the map module .*missing\.mjs cannot be loaded: ENOENT/],
    ['a directory, at construction', MAPS, true, /the map module .*maps is not a file/],
    ['a module with no default export, at the first batch', join(MAPS, 'no-default.mjs'), false, /no-default\.mjs has no default export function \(it exports map\)/],
    ['a module that throws while loading, at the first batch', join(MAPS, 'throws-at-load.mjs'), false, /throws-at-load\.mjs cannot be loaded: this module cannot start/],
  ])('%s: MapModuleError RP_MAP_INVALID naming the module', async (_, module, atConstruction, message) => {
    for (const workers of [0, 2]) {
      let error: unknown;
      try {
        const loader = track(new DataLoader(records, { ...base, map: module, workers }));
        expect(atConstruction).toBe(false);
        error = await loader.nextAsync().then(() => undefined, (e: unknown) => e);
        expect(loader.getState()).toMatchObject({ epoch: 0, position: 0 });
      } catch (e) {
        expect(atConstruction).toBe(true);
        error = e;
      }
      expect(error).toBeInstanceOf(MapModuleError);
      expect((error as MapModuleError).code).toBe('RP_MAP_INVALID');
      expect((error as MapModuleError).message).toMatch(message);
      expect((error as MapModuleError).module).toContain(module.split('/').pop()!);
    }
  });

  it('next() on a map that returned a Promise: RP_MAP_ASYNC naming nextAsync(); nextAsync() then takes that batch without running its map again', async () => {
    let calls = 0;
    const loader = track(new DataLoader(records, { ...base, map: async (b, c) => (calls++, recordsMap(b as never, c as never)) }));
    expect(() => loader.next()).toThrow(expect.objectContaining({ code: 'RP_MAP_ASYNC', message: expect.stringMatching(/its map returned a Promise; use nextAsync\(\)/) }));
    expect(loader.getState()).toMatchObject({ position: 0 });
    expect(await drain(loader)).toEqual(reference);
    expect(calls).toBe(reference.length);
  });

  it('next() on a module map: RP_MAP_ASYNC', () => {
    const loader = track(new DataLoader(records, { ...base, map: RECORDS, workers: 0 }));
    expect(() => loader.next()).toThrow(expect.objectContaining({ code: 'RP_MAP_ASYNC', message: expect.stringMatching(/its map is a module.*nextAsync\(\)/) }));
  });

  it.each([
    [{ map: recordsMap, workers: 2 }, TypeError, /options.workers needs options.map to be a module/],
    [{ map: RECORDS, workers: -1 }, RangeError, /options.workers must be an integer in \[0, 1024\], got -1/],
    [{ map: recordsMap, concurrency: 0 }, RangeError, /options.concurrency must be an integer in \[1, 4096\], got 0/],
    [{ map: recordsMap, resourceLimits: {} }, TypeError, /options.resourceLimits needs options.map to be a module/],
    [{ map: RECORDS, resourceLimits: { maxOldGenerationSizeMb: -1 } }, RangeError, /options.resourceLimits.maxOldGenerationSizeMb must be a positive number of MiB, got -1/],
    [{ map: RECORDS, resourceLimits: { heap: 1 } }, TypeError, /options.resourceLimits.heap is not a worker resource limit/],
    [{ map: recordsMap, concurrency: '4' }, TypeError, /options.concurrency must be a number, got string "4"/],
    [{ map: new URL('https://example.com/map.mjs') }, RangeError, /options.map must be a file: or data: URL/],
  ])('rejects options %o (RP_INVALID_ARGUMENT)', (options, type, message) => {
    expect(() => new DataLoader(records, { ...base, ...options } as never)).toThrow(type);
    expect(() => new DataLoader(records, { ...base, ...options } as never)).toThrow(expect.objectContaining({ code: 'RP_INVALID_ARGUMENT', message: expect.stringMatching(message) }));
  });

  it('close() while a batch is awaited rejects it with RP_LOADER_CLOSED, for a never-settling map', async () => {
    const loader = track(new DataLoader(records, { ...base, map: () => new Promise(() => {}) }));
    const pending = loader.nextAsync();
    setTimeout(() => loader.close(), 10);
    await expect(pending).rejects.toMatchObject({ code: 'RP_LOADER_CLOSED' });
  });
});

describe('threads', () => {
  it('close() ends every worker thread', async () => {
    const before = threads();
    const loader = new DataLoader(records, { ...base, map: RECORDS, workers: 3 });
    await drain(loader, 10);
    expect(threads()).toBeGreaterThanOrEqual(before + 3);
    loader.close();
    expect(await until(() => threads() <= before)).toBe(true);
  });

  it('close() with maps in flight ends every worker thread', async () => {
    const before = threads();
    const loader = new DataLoader(records, { ...base, map: join(MAPS, 'async-delay.mjs'), workers: 2, concurrency: 16 });
    await drain(loader, 1);
    loader.close();
    expect(await until(() => threads() <= before)).toBe(true);
    await expect(loader.nextAsync()).rejects.toMatchObject({ code: 'RP_LOADER_CLOSED' });
  });
});
