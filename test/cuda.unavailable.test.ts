// Where CUDA cannot run (this machine and CI: nvcc, no driver, no GPU), the
// package says so and why: cuda.available() is false, and every GPU call throws
// CudaUnavailableError (RP_CUDA_UNAVAILABLE) with the reason; the CPU API is
// unchanged. With the CUDA addon missing, the reason is 'not built'.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { ArraySource, type ColumnBatch, cuda, type DeviceArray, type DeviceBatch, type Padded, type Ragged, CudaUnavailableError, DataLoader, random } from '../src/index.js';

const BUILT = existsSync(join(__dirname, '..', 'build', 'Release', 'cuda', 'resumable_pipeline_cuda.node'));
// A machine with an NVIDIA driver has its device nodes; here there are none.
const DRIVER = existsSync('/dev/nvidiactl') || existsSync('/proc/driver/nvidia/version');

function sourceOf(Source: typeof ArraySource = ArraySource) {
  return new Source({ x: { data: Float32Array.from({ length: 40 }, (_, i) => i), shape: [20, 2] } });
}

/** Every GPU entry point, each expected to throw RP_CUDA_UNAVAILABLE. */
function gpuCalls(api: { cuda: typeof cuda; random: typeof random; DataLoader: typeof DataLoader; ArraySource: typeof ArraySource }): [string, () => unknown][] {
  const source = () => sourceOf(api.ArraySource);
  return [
    ['cuda.devices()', () => api.cuda.devices()],
    ['cuda.pinnedBuffer(1024)', () => api.cuda.pinnedBuffer(1024)],
    ['cuda.synchronize()', () => api.cuda.synchronize()],
    ["random.permutation(key, 10, { device: 'cuda' })", () => api.random.permutation(api.random.key(1), 10, { device: 'cuda' })],
    ["new DataLoader(source, { device: 'cuda' })", () => new api.DataLoader(source(), { batchSize: 4, device: 'cuda' })],
    ['... cacheOnDevice: true', () => new api.DataLoader(source(), { batchSize: 4, device: 'cuda', cacheOnDevice: true })],
    ['... cacheOnDevice: false', () => new api.DataLoader(source(), { batchSize: 4, device: 'cuda', cacheOnDevice: false })],
  ];
}

function expectUnavailable(fn: () => unknown, reason: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(Error);
  expect((error as { code?: string }).code).toBe('RP_CUDA_UNAVAILABLE');
  expect((error as { reason?: string }).reason).toBe(reason);
  expect((error as Error).message).toContain(`CUDA is unavailable (${reason})`);
}

const source = () => sourceOf();

describe('CUDA unavailable', () => {
  const status = cuda.status();

  it('cuda.available() is false and status() says why: no driver here (not built without nvcc)', () => {
    if (status.available) return console.log(`skipped: CUDA runs here (${status.detail}); npm run test:cuda tests the device`);
    expect(cuda.available()).toBe(false);
    expect(['not built', 'no driver', 'no device']).toContain(status.reason);
    if (BUILT && !DRIVER) {
      expect(status.reason).toBe('no driver');
      expect(status.detail).toMatch(/insufficient|driver/i);
    }
    if (!BUILT) expect(status.reason).toBe('not built');
  });

  it.each(gpuCalls({ cuda, random, DataLoader, ArraySource }))('%s throws RP_CUDA_UNAVAILABLE with the reason', (_, fn) => {
    if (status.available) return;
    expectUnavailable(fn, status.reason!);
  });

  it('the error is a CudaUnavailableError', () => {
    if (status.available) return;
    expect(() => cuda.devices()).toThrow(CudaUnavailableError);
  });

  it('bad options are argument errors before CUDA is asked', () => {
    expect(() => new DataLoader(source(), { batchSize: 4, device: 'gpu' as never })).toThrow(
      expect.objectContaining({ code: 'RP_INVALID_ARGUMENT', name: 'TypeError', message: expect.stringContaining('options.device') }),
    );
    expect(() => new DataLoader(source(), { batchSize: 4, cacheOnDevice: true })).toThrow(
      expect.objectContaining({ code: 'RP_INVALID_ARGUMENT', name: 'RangeError', message: expect.stringContaining("needs options.device 'cuda'") }),
    );
    expect(() => new DataLoader(source(), { batchSize: 4, device: 'cuda', cacheOnDevice: 'yes' as never })).toThrow(
      expect.objectContaining({ code: 'RP_INVALID_ARGUMENT', message: expect.stringContaining('options.cacheOnDevice') }),
    );
    expect(() => random.permutation(random.key(1), 10, { device: 'tpu' as never })).toThrow(
      expect.objectContaining({ code: 'RP_INVALID_ARGUMENT', message: expect.stringContaining('options.device') }),
    );
    expect(() => random.permutation(random.key(1), 10, { device: 'cuda', out: 1 } as never)).toThrow(
      expect.objectContaining({ code: 'RP_INVALID_ARGUMENT', message: expect.stringContaining('options.out is not an option') }),
    );
    expect(() => cuda.pinnedBuffer(0)).toThrow(expect.objectContaining({ code: 'RP_INVALID_ARGUMENT' }));
    // Device batches cannot cross to worker threads: a module map is refused with device 'cuda'.
    const moduleMap = join(__dirname, 'fixtures', 'maps', 'columns.mjs');
    expect(existsSync(moduleMap)).toBe(true);
    expect(() => new DataLoader(source(), { batchSize: 4, device: 'cuda', map: moduleMap, workers: 0 })).toThrow(
      expect.objectContaining({ code: 'RP_INVALID_ARGUMENT', message: expect.stringContaining('not a module map') }),
    );
  });

  it("the CPU API is unchanged: device 'cpu' is the default", () => {
    const key = random.key(9);
    expect(random.permutation(key, 1000, { device: 'cpu' })).toEqual(random.permutation(key, 1000));
    const a = new DataLoader(source(), { batchSize: 4, seed: 3 });
    const b = new DataLoader(source(), { batchSize: 4, seed: 3, device: 'cpu' });
    for (;;) {
      const x = a.next();
      const y = b.next();
      expect(y.done).toBe(x.done);
      if (x.done || y.done) break;
      expect(y.value.x).toEqual(x.value.x);
      expect(y.value.indices).toEqual(x.value.indices);
    }
    expect(b.getState()).toEqual(a.getState());
  });
});

describe('CUDA addon missing (RP_CUDA_ADDON_PATH pointing at no file)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it("reason 'not built' everywhere; the CPU API still works", async () => {
    vi.stubEnv('RP_CUDA_ADDON_PATH', join(__dirname, 'no-such-dir', 'resumable_pipeline_cuda.node'));
    vi.resetModules();
    const api = (await import('../src/index.js')) as typeof import('../src/index.js');
    expect(api.cuda.available()).toBe(false);
    expect(api.cuda.status().reason).toBe('not built');
    expect(api.cuda.status().detail).toContain('RP_CUDA=1 npm rebuild resumable-pipeline');
    for (const [, fn] of gpuCalls(api)) expectUnavailable(fn, 'not built');
    expect(api.random.permutation(api.random.key(2), 100)).toEqual(random.permutation(random.key(2), 100));
    const batch = new api.DataLoader(new api.ArraySource({ x: { data: new Int32Array(10), shape: [10] } }), { batchSize: 5 }).next();
    expect(batch.done).toBe(false);
  });
});

describe("device 'cuda' needs column batches (with the CPU stand-in for the CUDA addon)", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('refuses a record source and a source with its own decodeBatch', async () => {
    vi.stubEnv('RP_CUDA_ADDON_PATH', join(__dirname, 'helpers', 'cuda-stand-in.cjs'));
    vi.resetModules();
    const api = (await import('../src/index.js')) as typeof import('../src/index.js');
    expect(api.cuda.available()).toBe(true);
    const records = { length: 10, get: (i: number) => ({ i }) };
    const refused = expect.objectContaining({ code: 'RP_INVALID_ARGUMENT', message: expect.stringContaining("options.device 'cuda' needs a ColumnSource") });
    expect(() => new api.DataLoader(records, { batchSize: 2, device: 'cuda' })).toThrow(refused);
    const dir = mkdtempSync(join(tmpdir(), 'rp-cuda-'));
    try {
      const file = join(dir, 'a.jsonl');
      writeFileSync(file, '{"a":1}\n{"a":2}\n');
      expect(() => new api.DataLoader(api.JsonlSource.open(file), { batchSize: 1, device: 'cuda' })).toThrow(
        expect.objectContaining({ message: expect.stringContaining('decodeBatch') }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('DeviceBatch', () => {
  it('maps each column of a CPU batch type to its DeviceArray type', () => {
    type B = ColumnBatch<{ x: Float32Array; t: Ragged<Uint8Array>; p: Padded<BigInt64Array> }>;
    expectTypeOf<DeviceBatch<B>['x']>().toEqualTypeOf<DeviceArray<'float32'>>();
    expectTypeOf<DeviceBatch<B>['t']>().toEqualTypeOf<{ readonly values: DeviceArray<'uint8'>; readonly offsets: DeviceArray<'int32'> }>();
    expectTypeOf<DeviceBatch<B>['p']['lengths']>().toEqualTypeOf<DeviceArray<'int32'>>();
    expectTypeOf<DeviceBatch<B>['p']['values']>().toEqualTypeOf<DeviceArray<'int64'>>();
    expectTypeOf<DeviceBatch<B>['indices']>().toEqualTypeOf<Uint32Array>();
  });
});
