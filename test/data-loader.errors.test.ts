// Bad sources, bad options and bad states get clear errors that name the
// argument, and leave a loader exactly as it was; plus the iteration
// protocol's edge cases (retry after a throwing map/get, close, async).
import { describe, expect, it } from 'vitest';
import { ArraySource, DataLoader, IncompatibleStateError, type State } from '../src/index.js';
import { native } from '../src/native.js';

const records = { length: 20, get: (i: number) => i };

function loaderOf(options: Record<string, unknown>, ...source: unknown[]): DataLoader {
  return new DataLoader((source.length > 0 ? source[0] : records) as typeof records, options as { batchSize: number });
}

describe('DataLoader arguments', () => {
  it.each([
    [undefined, TypeError, /source must be an ArraySource, an NpySource or an object with length and get\(i\), got undefined/],
    [null, TypeError, /source must be .* got null/],
    [42, TypeError, /source must be .* got number 42/],
    [[1, 2, 3], TypeError, /wrap an array as \{ length: a.length, get: \(i\) => a\[i\] \}/],
    [{ length: 5 }, TypeError, /source must be/],
    [{ length: 0, get: (): number => 0 }, RangeError, /source.length must be an integer in \[1, 2\^32\], got number 0 \(the source is empty\)/],
    [{ length: 1.5, get: (): number => 0 }, RangeError, /source.length/],
    [{ length: -3, get: (): number => 0 }, RangeError, /source.length/],
    [{ length: 2 ** 32 + 1, get: (): number => 0 }, RangeError, /source.length/],
    [{ length: '7', get: (): number => 0 }, RangeError, /source.length must be an integer .* got string "7"/],
  ])('rejects source %o', (source, type, message) => {
    expect(() => loaderOf({ batchSize: 2 }, source)).toThrow(type);
    expect(() => loaderOf({ batchSize: 2 }, source)).toThrow(message);
  });

  it.each([
    [undefined, TypeError, /options must be an object with at least batchSize, got undefined/],
    [{}, TypeError, /options.batchSize is required/],
    [{ batchSize: 0 }, RangeError, /options.batchSize must be an integer in \[1, 4294967296\], got 0/],
    [{ batchSize: 1.5 }, RangeError, /options.batchSize/],
    [{ batchSize: '4' }, TypeError, /options.batchSize must be a number, got string "4"/],
    [{ batchSize: 2 ** 32 + 1 }, RangeError, /options.batchSize/],
    [{ batchSize: 2, shuffle: 'yes' }, TypeError, /options.shuffle must be a boolean, got string "yes"/],
    [{ batchSize: 2, seed: -1 }, RangeError, /options.seed must be a non-negative safe integer or a bigint, got -1/],
    [{ batchSize: 2, seed: 0.5 }, RangeError, /options.seed/],
    [{ batchSize: 2, seed: 2 ** 53 }, RangeError, /options.seed/],
    [{ batchSize: 2, seed: 2n ** 64n }, RangeError, /options.seed must be in \[0, 2\^64\)/],
    [{ batchSize: 2, seed: -1n }, RangeError, /options.seed/],
    [{ batchSize: 2, seed: '1' }, TypeError, /options.seed must be a number or a bigint, got string "1"/],
    [{ batchSize: 2, numEpochs: 0 }, RangeError, /options.numEpochs must be a positive integer or Infinity, got 0/],
    [{ batchSize: 2, numEpochs: -Infinity }, RangeError, /options.numEpochs/],
    [{ batchSize: 2, numEpochs: NaN }, RangeError, /options.numEpochs/],
    [{ batchSize: 2, numEpochs: '2' }, TypeError, /options.numEpochs must be a number/],
    [{ batchSize: 2, dropRemainder: 1 }, TypeError, /options.dropRemainder must be a boolean, got number 1/],
    [{ batchSize: 2, shardCount: 0 }, RangeError, /options.shardCount must be an integer in \[1, 1048576\], got 0/],
    [{ batchSize: 2, shardCount: 3, shardIndex: 3 }, RangeError, /options.shardIndex must be an integer in \[0, 2\], got 3/],
    [{ batchSize: 2, shardIndex: -1 }, RangeError, /options.shardIndex/],
    [{ batchSize: 2, shardIndex: 1 }, RangeError, /options.shardIndex must be an integer in \[0, 0\], got 1/],
    [{ batchSize: 2, prefetch: -1 }, RangeError, /options.prefetch must be an integer in \[0, 1024\], got -1/],
    [{ batchSize: 2, prefetch: 1025 }, RangeError, /options.prefetch/],
    [{ batchSize: 2, map: 5 }, TypeError, /options.map must be a function, a module path or a URL, got number 5/],
    [{ batchsize: 2 }, TypeError, /options.batchsize is not a DataLoader option \(known: batchSize, /],
    [{ batchSize: 7, shardCount: 3, dropRemainder: true }, RangeError, /options.batchSize × options.shardCount = 21 exceeds the source's 20 records: with dropRemainder no batch/],
  ])('rejects options %o', (options, type, message) => {
    expect(() => loaderOf(options as Record<string, unknown>)).toThrow(type);
    expect(() => loaderOf(options as Record<string, unknown>)).toThrow(message);
  });

  it('accepts the boundary values', () => {
    expect(() => loaderOf({ batchSize: 20, shardCount: 1, dropRemainder: true }).close()).not.toThrow();
    expect(() => loaderOf({ batchSize: 1, seed: Number.MAX_SAFE_INTEGER, numEpochs: Infinity, prefetch: 0 }).close()).not.toThrow();
    expect(() => loaderOf({ batchSize: 2 ** 20 }).close()).not.toThrow();
    expect(() => loaderOf({ batchSize: 1, prefetch: 1024 }).close()).not.toThrow();
  });

  it('rejects bad ArraySource columns with the column named', () => {
    const f = new Float32Array(12);
    const cases: Array<[unknown, ErrorConstructor, RegExp]> = [
      [undefined, TypeError, /columns must be an object of \{ data, shape \} or \{ values, offsets \} specs, got undefined/],
      [{}, RangeError, /columns must name at least one column/],
      [{ x: 5 }, TypeError, /columns.x must be \{ data, shape \} or \{ values, offsets \}, got number 5/],
      [{ x: { data: [1, 2], shape: [2] } }, TypeError, /columns.x.data must be a TypedArray, got an array/],
      [{ x: { data: new DataView(f.buffer), shape: [2] } }, TypeError, /columns.x.data must be a TypedArray/],
      [{ x: { data: f } }, TypeError, /columns.x.shape must be a non-empty array \[records, ...rowShape\], got undefined/],
      [{ x: { data: f, shape: [] } }, TypeError, /columns.x.shape must be a non-empty array/],
      [{ x: { data: f, shape: [4, -3] } }, RangeError, /columns.x.shape\[1\] must be a non-negative integer, got number -3/],
      [{ x: { data: f, shape: [4, 1.5] } }, RangeError, /columns.x.shape\[1\]/],
      [{ x: { data: f, shape: [0, 3] } }, RangeError, /columns.x.shape: the source is empty \(0 records\)/],
      [{ x: { data: new Float32Array(0), shape: [4, 0] } }, RangeError, /columns.x.shape\[1\] is 0: rows must not be empty/],
      [{ x: { data: f, shape: [5, 3] } }, RangeError, /columns.x: shape \[5, 3\] needs 15 elements, data has 12/],
      [
        { x: { data: f, shape: [4, 3] }, y: { data: new Uint8Array(5), shape: [5] } },
        RangeError,
        /columns.y has 5 records but columns.x has 4; every column needs the same count/,
      ],
      [{ epoch: { data: f, shape: [12] } }, TypeError, /"epoch" cannot be a column name/],
      [{ indices: { data: f, shape: [12] } }, TypeError, /"indices" cannot be a column name/],
      [
        { x: { data: new Float32Array(new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(48, { maxByteLength: 96 })), shape: [12] } },
        TypeError,
        /columns.x.data must not use a resizable or growable buffer/,
      ],
    ];
    for (const [columns, type, message] of cases) {
      expect(() => new ArraySource(columns as never)).toThrow(type);
      expect(() => new ArraySource(columns as never)).toThrow(message);
    }
  });

  it('the native queue checks its own arguments too (no crash on misuse)', () => {
    const { PrefetchQueue } = native();
    const base = {
      n: 10, batchSize: 2, shardCount: 1, shardIndex: 0, dropRemainder: false, numEpochs: 1,
      seed: 0n, shuffle: true, prefetch: 2, columns: [], epoch: 0, position: 0,
    };
    expect(() => new PrefetchQueue(undefined as never)).toThrow(/options must be an object/);
    expect(() => new PrefetchQueue({ ...base, seed: 1 as never })).toThrow(/options.seed must be a bigint/);
    expect(() => new PrefetchQueue({ ...base, position: 10 })).toThrow(/options.position must be an integer in \[0, 9\]/);
    expect(() => new PrefetchQueue({ ...base, columns: [{ kind: 'fixed', name: 'x', data: { data: new Uint8Array(9) }, rowBytes: 1, rows: 9 }] })).toThrow(
      /options.columns\[0\] has 9 rows, fewer than n = 10/,
    );
    expect(() => new PrefetchQueue({ ...base, columns: [{ rowBytes: 1 } as never] })).toThrow(/options.columns\[0\].kind must be 'fixed', 'ragged' or 'chunked'/);
    expect(() => new PrefetchQueue({ ...base, columns: [{ kind: 'fixed', name: 'x', data: { file: {} as never, offset: 0, bytes: 10 }, rows: 10, rowBytes: 1 }] })).toThrow(
      /options.columns\[0\].data must have a TypedArray `data` or a MappedFile `file`/,
    );
    expect(() => new PrefetchQueue({ ...base, columns: [{ kind: 'fixed', name: 'x', data: { data: new Uint8Array(10) }, rows: 11, rowBytes: 1 }] })).toThrow(
      /options.columns\[0\]: 11 rows of 1 bytes do not fit in its 10 bytes/,
    );
    // Blocks are sized by the rows a batch can hold: min(batchSize, n).
    expect(() => new PrefetchQueue({ ...base, n: 2 ** 31, batchSize: 2 ** 31 })).toThrow(/over the 4 GiB limit; lower batchSize/);
    expect(new PrefetchQueue({ ...base, batchSize: 2 ** 31, columns: [{ kind: 'fixed', name: 'x', data: { data: new Float64Array(10) }, rowBytes: 8, rows: 10 }] }).blockBytes).toBeLessThan(4096);
    const q = new PrefetchQueue(base);
    expect(() => q.take(new Float32Array(8) as never, new ArrayBuffer(q.blockBytes), 0)).toThrow(new RegExp(`info must be a Float64Array of at least ${native().infoLayout.columns} elements`));
    expect(() => q.take(new Float64Array(8), new ArrayBuffer(1), 0)).toThrow(/slab must be an attached ArrayBuffer of at least/);
    expect(() => q.take(new Float64Array(8), 5 as never, 0)).toThrow(/slab must be an ArrayBuffer, got number 5/);
    expect(() => q.reset(0, 10)).toThrow(/position must be in \[0, 9\], got 10/);
    expect(() => q.wait(5 as never)).toThrow(/callback must be a function/);
    q.close();
    expect(() => q.take(new Float64Array(8), new ArrayBuffer(q.blockBytes), 0)).toThrow(/the prefetch queue is closed/);
    const { MappedFile } = native();
    expect(() => new MappedFile(5 as never)).toThrow(/path must be a string/);
  });
});

describe('DataLoader.setState', () => {
  const options = { batchSize: 3, seed: 5, numEpochs: 3, prefetch: 3 };
  const reference = [...loaderOf(options)].map((b) => Array.from(b.indices));

  function expectUnchanged(loader: DataLoader, before: State, next: number): void {
    expect(loader.getState()).toEqual(before);
    const b = loader.next();
    expect(Array.from((b.value as { indices: Uint32Array }).indices)).toEqual(reference[next]);
  }

  const good = (): Record<string, unknown> => ({
    version: 1,
    epoch: 1,
    position: 6,
    fingerprint: { n: 20, seed: 5, shuffle: true, dropRemainder: false },
  });

  it.each([
    ['null', null, TypeError, /state must be a DataLoader state object, got null/],
    ['a number', 7, TypeError, /state must be a DataLoader state object/],
    ['an array', [1], TypeError, /state must be a DataLoader state object, got an array/],
    ['a typed array', new Uint8Array(3), TypeError, /state must be a DataLoader state object/],
    ['another version', { ...good(), version: 2 }, IncompatibleStateError, /state.version is number 2; this DataLoader reads version 1/],
    ['no fingerprint', { ...good(), fingerprint: undefined }, TypeError, /state.fingerprint must be an object, got undefined/],
    ['a bad fingerprint.n', { ...good(), fingerprint: { ...(good().fingerprint as object), n: '20' } }, TypeError, /state.fingerprint.n must be a number/],
    ['a bad fingerprint.shuffle', { ...good(), fingerprint: { ...(good().fingerprint as object), shuffle: 1 } }, TypeError, /state.fingerprint.shuffle must be a boolean/],
    ['a bad fingerprint.batchSize (old states carry one)', { ...good(), fingerprint: { ...(good().fingerprint as object), batchSize: 1.5 } }, RangeError, /state.fingerprint.batchSize must be an integer >= 1/],
    ['a bad fingerprint.seed', { ...good(), fingerprint: { ...(good().fingerprint as object), seed: -2 } }, RangeError, /state.fingerprint.seed/],
    ['epoch -1', { ...good(), epoch: -1 }, RangeError, /state.epoch must be an integer >= 0, got -1/],
    ['epoch 1.5', { ...good(), epoch: 1.5 }, RangeError, /state.epoch/],
    ['epoch "1"', { ...good(), epoch: '1' }, TypeError, /state.epoch must be a number/],
    ['no position', { ...good(), position: undefined }, TypeError, /state.position must be a number, got undefined/],
    ['position n', { ...good(), position: 20 }, RangeError, /state.position must be below n = 20, got 20/],
    ['position -1', { ...good(), position: -1 }, RangeError, /state.position/],
  ])('rejects %s and leaves the loader unchanged', (_label, state, type, message) => {
    const loader = loaderOf(options);
    loader.next();
    loader.next();
    const before = loader.getState();
    expect(() => loader.setState(state as State)).toThrow(type as ErrorConstructor);
    expect(() => loader.setState(state as State)).toThrow(message);
    expectUnchanged(loader, before, 2);
    loader.close();
  });

  it('lists every differing fingerprint field in an IncompatibleStateError', () => {
    const loader = loaderOf(options);
    loader.next();
    const before = loader.getState();
    const state = { ...good(), fingerprint: { n: 21, seed: 6n, shuffle: false, dropRemainder: true } };
    let error: unknown;
    try {
      loader.setState(state);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(IncompatibleStateError);
    const e = error as IncompatibleStateError;
    expect(e.code).toBe('RP_INCOMPATIBLE_STATE');
    expect(e.fields).toEqual(['n', 'seed', 'shuffle', 'dropRemainder']);
    expect(e.message).toMatch(/n \(saved 21, this loader 20\), seed \(saved 6, this loader 5\), shuffle \(saved false, this loader true\), dropRemainder \(saved true, this loader false\)/);
    expectUnchanged(loader, before, 1);
    loader.close();
  });

  it('treats a seed saved as a bigint like the same number', () => {
    const loader = loaderOf(options);
    const state = good();
    (state.fingerprint as Record<string, unknown>).seed = 5n;
    loader.setState(state as State);
    expect(loader.getState()).toEqual(good());
    expect(Array.from((loader.next().value as { indices: Uint32Array }).indices)).toEqual(reference[9]);
  });
});

describe('DataLoader iteration protocol', () => {
  it('keeps the batch when map() throws, and retries it on the next call', () => {
    let fail = false;
    const seen: number[][] = [];
    const loader = new DataLoader(records, {
      batchSize: 4,
      seed: 1,
      map: (batch) => {
        seen.push([...batch]);
        if (fail) throw new Error('augmentation failed');
        return batch;
      },
    });
    const first = loader.next().value!;
    const state = loader.getState();
    fail = true;
    expect(() => loader.next()).toThrow('augmentation failed');
    expect(loader.getState()).toEqual(state); // the failed batch was not returned
    fail = false;
    const second = loader.next().value!;
    expect([...second]).toEqual(seen[seen.length - 2]); // the same batch, retried
    expect(new Set([...first, ...second]).size).toBe(8);
  });

  it('keeps the batch when get() throws', () => {
    let broken = true;
    const source = {
      length: 9,
      get: (i: number): number => {
        if (broken && i === 4) throw new Error('bad record');
        return i;
      },
    };
    const loader = new DataLoader(source, { batchSize: 9, shuffle: false });
    expect(() => loader.next()).toThrow('bad record');
    expect(loader.getState()).toMatchObject({ epoch: 0, position: 0 });
    broken = false;
    expect([...loader.next().value!]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(loader.next().done).toBe(true);
  });

  it('continues after a break in for...of, since the loader is its own iterator', () => {
    const loader = new DataLoader(records, { batchSize: 3, seed: 2 });
    const all = [...new DataLoader(records, { batchSize: 3, seed: 2 })].map((b) => [...b]);
    const got: number[][] = [];
    for (const b of loader) {
      got.push([...b]);
      if (got.length === 2) break;
    }
    for (const b of loader) got.push([...b]);
    expect(got).toEqual(all);
  });

  it('iterates with for await, in order, also with overlapping nextAsync calls', async () => {
    const sync = [...new DataLoader(records, { batchSize: 3, seed: 4, numEpochs: 2 })].map((b) => [...b]);
    for (const prefetch of [0, 1, 3]) {
      const loader = new DataLoader(records, { batchSize: 3, seed: 4, numEpochs: 2, prefetch });
      const got: number[][] = [];
      for await (const b of loader) got.push([...b]);
      expect(got).toEqual(sync);
      const again = new DataLoader(records, { batchSize: 3, seed: 4, numEpochs: 2, prefetch });
      const results = await Promise.all(Array.from({ length: sync.length + 2 }, () => again.nextAsync()));
      expect(results.slice(0, sync.length).map((r) => [...(r.value as number[])])).toEqual(sync);
      expect(results.slice(sync.length).every((r) => r.done)).toBe(true);
    }
  });

  it('refuses next() and setState() while a nextAsync() is pending', async () => {
    const loader = new DataLoader(records, { batchSize: 3, prefetch: 0 });
    const pending = loader.nextAsync();
    expect(() => loader.next()).toThrow(/next\(\) called while a nextAsync\(\) is pending/);
    expect(() => loader.setState(loader.getState())).toThrow(/setState\(\) called while a nextAsync\(\) is pending/);
    await pending;
    expect(loader.next().done).toBe(false);
    loader.close();
  });

  it('close() stops the loader and rejects a pending nextAsync()', async () => {
    const big = new ArraySource({ x: { data: new Float64Array(1 << 20), shape: [1 << 14, 64] } });
    const loader = new DataLoader(big, { batchSize: 1 << 14, prefetch: 0, numEpochs: Infinity });
    const pending = loader.nextAsync();
    loader.close();
    await expect(pending).rejects.toThrow(/closed/);
    expect(() => loader.next()).toThrow(/the DataLoader is closed/);
    await expect(loader.nextAsync()).rejects.toThrow(/the DataLoader is closed/);
    loader.close(); // idempotent
    expect(loader.getState()).toMatchObject({ epoch: 0, position: 0 });
  });

  it('a source buffer cannot be detached while a loader reads it', () => {
    const data = new Float32Array(40);
    const loader = new DataLoader(new ArraySource({ x: { data, shape: [20, 2] } }), { batchSize: 4 });
    loader.next();
    // Marked untransferable: a transfer copies instead of detaching.
    const copy = structuredClone(data.buffer, { transfer: [data.buffer] });
    expect(copy.byteLength).toBe(160);
    expect(data.buffer.byteLength).toBe(160);
    expect(loader.next().done).toBe(false);
    loader.close();
  });

  it('the raw queue pins its sources itself: a transfer copies them', () => {
    const data = new Float32Array(40);
    const { PrefetchQueue } = native();
    const q = new PrefetchQueue({
      n: 20, batchSize: 4, shardCount: 1, shardIndex: 0, dropRemainder: false, numEpochs: 1,
      seed: 0n, shuffle: true, prefetch: 0, columns: [{ kind: 'fixed', name: 'x', data: { data }, rowBytes: 8, rows: 20 }], epoch: 0, position: 0,
    });
    const info = new Float64Array(native().infoLayout.columns + native().infoLayout.perColumn);
    q.take(info, new ArrayBuffer(q.blockBytes), 0);
    const copy = structuredClone(data.buffer, { transfer: [data.buffer] });
    expect(copy.byteLength).toBe(160);
    expect(data.buffer.byteLength).toBe(160); // still attached
    expect(q.take(info, new ArrayBuffer(q.blockBytes), 0)).not.toBeNull();
    q.close();
  });
});
