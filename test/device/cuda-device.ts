// The device suite (`npm run test:cuda`): every device result against the CPU
// path, byte for byte. Needs a CUDA GPU: it fails, not skips, where CUDA is
// unavailable, so a device run cannot pass by accident. Plain node:test (run
// with tsx), not vitest, so the GPU machine needs only Node, tsx and the
// build (scripts/device-suite.sh carries them).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ArraySource, Column, ColumnSource, cuda, DataLoader, DeviceArray, type DeviceBatch, gather, random, type TypedArray } from '../../src/index.js';
import { cudaAddon } from '../../src/cuda/cuda-addon.js';
import { DTYPES, type Dtype } from '../../src/typed-arrays.js';

// RP_TEST_CUDA_QUICK=1 (the CPU stand-in run, test/cuda.stand-in.test.ts): no 10^8 order, no 65536-row batches.
const QUICK = process.env['RP_TEST_CUDA_QUICK'] === '1';
const status = cuda.status();
if (!status.available) {
  console.error(`test:cuda needs a CUDA device: CUDA is unavailable (${status.reason}): ${status.detail}`);
  process.exit(1);
}

function bytes(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function assertSameBytes(device: ArrayBufferView, host: ArrayBufferView, what: string): void {
  assert.equal(device.byteLength, host.byteLength, `${what}: byte length`);
  if (Buffer.compare(bytes(device), bytes(host)) !== 0) {
    const a = bytes(device);
    const b = bytes(host);
    let i = 0;
    while (a[i] === b[i]) i++;
    assert.fail(`${what}: first differing byte ${i} (device ${a[i]}, CPU ${b[i]})`);
  }
}

/** Random contents for any dtype, by bytes (so NaN payloads and -0 are compared as bytes too). */
function filled(dtype: Dtype, length: number, seed: number): TypedArray {
  const a = new DTYPES[dtype](length) as TypedArray;
  const u8 = new Uint8Array(a.buffer);
  let s = seed * 2654435761 + 1;
  for (let i = 0; i < u8.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    u8[i] = s >>> 24;
  }
  return a;
}

after(() => cuda.synchronize());

describe('cuda', () => {
  it('lists its devices', () => {
    const devices = cuda.devices();
    assert.ok(devices.length > 0);
    for (const [i, d] of devices.entries()) {
      assert.equal(d.index, i);
      assert.equal(typeof d.name, 'string');
      assert.ok(d.totalMemory > 0);
      assert.match(d.computeCapability, /^\d+\.\d+$/);
    }
    console.log(`# ${devices.map((d) => `${d.name} (sm ${d.computeCapability}, ${(d.totalMemory / 2 ** 30).toFixed(0)} GiB)`).join(', ')}`);
  });

  it('pinnedBuffer gives writable page-locked memory that round-trips through the device', () => {
    const pinned = new Uint8Array(cuda.pinnedBuffer(1 << 20));
    assert.equal(pinned.byteLength, 1 << 20);
    pinned.set(filled('uint8', 1 << 20, 5) as Uint8Array);
    const addon = cudaAddon();
    const d = new addon.DeviceBuffer(1 << 20);
    d.fromHost(pinned, 0);
    const back = new Uint8Array(1 << 20);
    d.toHost(back, 0);
    assertSameBytes(back, pinned, 'pinned round trip');
    d.free();
  });
});

describe("random.permutation(key, n, { device: 'cuda' })", () => {
  for (const n of [1, 2, 63, 64, 65, 1000, 2 ** 20 + 1, ...(QUICK ? [] : [100_000_000])]) {
    for (const seed of n === 100_000_000 ? [7] : [0, 7, 123456789]) {
      it(`equals the CPU order for n = ${n}, seed ${seed}`, () => {
        const key = random.key(seed);
        const device = random.permutation(key, n, { device: 'cuda' });
        assert.ok(device instanceof DeviceArray);
        assert.equal(device.device, 'cuda');
        assert.equal(device.dtype, 'uint32');
        assert.equal(device.length, n);
        assert.equal(device.byteLength, 4 * n);
        assertSameBytes(device.toHost(), random.permutation(key, n, new Uint32Array(n)), `n = ${n}`);
        device.free();
      });
    }
  }
});

describe('DeviceArray', () => {
  it('has a device pointer, copies into out, and frees once', () => {
    const a = random.permutation(random.key(3), 1000, { device: 'cuda' });
    assert.equal(typeof a.pointer, 'bigint');
    assert.ok(a.pointer > 0n);
    const out = new Uint32Array(1000);
    assert.equal(a.toHost(out), out);
    assertSameBytes(out, random.permutation(random.key(3), 1000), 'toHost(out)');
    assert.throws(() => a.toHost(new Int32Array(1000) as never), { code: 'RP_INVALID_ARGUMENT' });
    assert.throws(() => a.toHost(new Uint32Array(999)), { code: 'RP_INVALID_ARGUMENT' });
    a.free();
    a.free();
    assert.equal(a.freed, true);
    assert.equal(a.byteLength, 0);
    assert.equal(a.pointer, 0n);
    assert.throws(() => a.toHost(), { code: 'RP_INVALID_ARGUMENT' });
  });

  it('is freed by the garbage collector when dropped (no growth over 200 × 64 MiB)', () => {
    for (let i = 0; i < (QUICK ? 5 : 200); i++) random.permutation(random.key(i), 16 << 20, { device: 'cuda' });
    cuda.synchronize();
  });
});

describe('the gather kernel against gather()', () => {
  const addon = cudaAddon();
  for (const rowBytes of [1, 2, 3, 4, 7, 8, 12, 16, 24, 60, 64, 100, 256, 1000, 1024, 4096]) {
    it(`rows of ${rowBytes} B, batch 65536 (and 1, 777)`, () => {
      const srcRows = QUICK ? 5000 : Math.max(70_000, Math.floor((64 << 20) / rowBytes / 64));
      const src = filled('uint8', srcRows * rowBytes, rowBytes) as Uint8Array;
      const dsrc = new addon.DeviceBuffer(src.byteLength);
      dsrc.fromHost(src, 0);
      for (const batch of QUICK ? [1, 777] : [1, 777, 65536]) {
        const indices = new Uint32Array(batch);
        for (let j = 0; j < batch; j++) indices[j] = (j * 2654435761) % srcRows;
        const expected = gather(src, rowBytes, indices);
        // Host indices, then indices already on the device, into a destination at an odd offset.
        const dst = new addon.DeviceBuffer(batch * rowBytes + 3);
        addon.gatherFixed(dsrc, srcRows, rowBytes, indices, dst, 0);
        const got = new Uint8Array(batch * rowBytes);
        dst.toHost(got, 0);
        assertSameBytes(got, expected, `batch ${batch}, host indices`);
        const didx = addon.uploadIndices(indices, srcRows);
        addon.gatherFixed(dsrc, srcRows, rowBytes, didx, dst, 3);
        dst.toHost(got, 3);
        assertSameBytes(got, expected, `batch ${batch}, device indices, dst offset 3`);
        dst.free();
        didx.free();
      }
      assert.throws(() => addon.gatherFixed(dsrc, srcRows, rowBytes, Uint32Array.of(srcRows), new addon.DeviceBuffer(rowBytes), 0), RangeError);
      dsrc.free();
    });
  }
});

/** Runs a CPU loader and a device loader side by side: every batch's columns byte-equal, then the states. */
// `any`: ArraySource and ColumnSource of any columns are compared alike.
function compareLoaders(make: () => ColumnSource<any, unknown>, options: { batchSize: number; cacheOnDevice?: boolean; seed?: number }, what: string): void {
  const cpu = new DataLoader(make(), { batchSize: options.batchSize, seed: options.seed ?? 1, numEpochs: 2 });
  const dev = new DataLoader(make(), { batchSize: options.batchSize, seed: options.seed ?? 1, numEpochs: 2, device: 'cuda', cacheOnDevice: options.cacheOnDevice });
  let count = 0;
  for (;;) {
    const a = cpu.next();
    const b = dev.next();
    assert.equal(b.done, a.done, `${what}: done`);
    if (a.done || b.done) break;
    const hostBatch = a.value as Record<string, unknown>;
    const devBatch = b.value as Record<string, unknown>;
    assert.deepEqual(devBatch.indices, hostBatch.indices);
    assert.equal(devBatch.epoch, hostBatch.epoch);
    for (const [name, value] of Object.entries(hostBatch)) {
      if (name === 'indices' || name === 'epoch') continue;
      if (ArrayBuffer.isView(value)) {
        const d = devBatch[name] as DeviceArray;
        assert.ok(d instanceof DeviceArray, `${what}: column ${name} is a DeviceArray`);
        assertSameBytes(d.toHost(), value, `${what}, batch ${count}, column ${name}`);
        d.free();
      } else {
        for (const [part, host] of Object.entries(value as Record<string, TypedArray>)) {
          const d = (devBatch[name] as Record<string, DeviceArray>)[part]!;
          assertSameBytes(d.toHost(), host, `${what}, batch ${count}, column ${name}.${part}`);
          d.free();
        }
      }
    }
    count++;
  }
  assert.deepEqual(dev.getState(), cpu.getState());
  assert.ok(count > 0);
}

describe("new DataLoader(source, { device: 'cuda' })", () => {
  const dtypes = Object.keys(DTYPES) as Dtype[];
  for (const cacheOnDevice of [true, false]) {
    for (const dtype of dtypes) {
      it(`fixed ${dtype} columns, row lengths 1..1024, cacheOnDevice ${cacheOnDevice}`, () => {
        for (const rowLength of [1, 3, 16, 64, 256, 1024]) {
          const n = 300;
          const make = () => new ArraySource({ x: { data: filled(dtype, n * rowLength, rowLength), shape: [n, rowLength] } });
          compareLoaders(make, { batchSize: 64, cacheOnDevice }, `${dtype} × ${rowLength}`);
        }
      });
    }

    it(`ragged columns (Arrow offsets int32/int64, starts/ends), cacheOnDevice ${cacheOnDevice}`, () => {
      const n = 500;
      const lengths = Array.from({ length: n }, (_, i) => (i * 7919) % 97);
      const offsets = new Int32Array(n + 1);
      for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + lengths[i]!;
      const values = filled('float32', offsets[n]!, 11);
      for (const layout of ['offsets32', 'offsets64', 'startsEnds'] as const) {
        const make = () =>
          new ColumnSource([
            layout === 'startsEnds'
              ? Column.ragged('tokens', { values, starts: offsets.subarray(0, n), ends: offsets.subarray(1) })
              : Column.ragged('tokens', { values, offsets: layout === 'offsets64' ? BigInt64Array.from(offsets, BigInt) : offsets }),
            Column.fixed('label', filled('int32', n, 3)),
          ]);
        compareLoaders(make, { batchSize: 48, cacheOnDevice }, `ragged ${layout}`);
      }
    });

    it(`a chunked fixed column, cacheOnDevice ${cacheOnDevice}`, () => {
      const parts = [100, 1, 250].map((rows, k) => Column.fixed('x', filled('float64', rows * 4, k), { rowShape: [4] }));
      compareLoaders(() => new ColumnSource([Column.chunked('x', parts)]), { batchSize: 33, cacheOnDevice }, 'chunked');
    });
  }

  it('padded ragged columns: copied from the CPU batch; cacheOnDevice true is refused', () => {
    const n = 200;
    const offsets = Int32Array.from({ length: n + 1 }, (_, i) => i * 5);
    const values = filled('uint16', n * 5, 9);
    const make = () => new ColumnSource([Column.ragged('t', { values, offsets, pad: { length: 8, value: 7 } })]);
    compareLoaders(make, { batchSize: 50, cacheOnDevice: false }, 'padded');
    assert.throws(() => new DataLoader(make(), { batchSize: 50, device: 'cuda', cacheOnDevice: true }), RangeError);
  });

  it('resumes exactly: a device loader set to a CPU loader state continues with its batches', () => {
    const n = 1000;
    const data = filled('float32', n * 8, 4);
    const make = () => new ArraySource({ x: { data, shape: [n, 8] } });
    const cpu = new DataLoader(make(), { batchSize: 64, seed: 5 });
    for (let i = 0; i < 5; i++) cpu.next();
    const dev = new DataLoader(make(), { batchSize: 64, seed: 5, device: 'cuda' });
    dev.setState(cpu.getState());
    for (let i = 0; i < 5; i++) {
      const a = cpu.next();
      const b = dev.next();
      if (a.done || b.done) break;
      assertSameBytes((b.value as unknown as DeviceBatch<typeof b.value>).x.toHost(), a.value.x, `resumed batch ${i}`);
    }
  });
});
