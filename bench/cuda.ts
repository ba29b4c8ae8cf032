// The CUDA figures of issue 12 (BENCHMARKS.md, "CUDA"), beside torch's where
// torch and a GPU are present (bench/cuda_torch.py, same run). Device work is
// asynchronous: each timing launches `inner` times, then synchronizes, and
// divides. GB/s of a gather or a device copy count bytes read + written, as
// the reference figures do; host-to-device counts the bytes moved.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ArraySource, cuda, DataLoader, type DeviceBatch, random } from '../src/index.js';
import { cudaAddon } from '../src/cuda/cuda-addon.js';
import { keyWords } from '../src/random/key.js';
import { median, now, randomIndices, type Row, type Section } from './harness.js';

const GB = 1e9;

/** Median ms of one call of fn, over `repeats` rounds of `inner` calls (one sync per round). */
function deviceMs(fn: () => void, repeats: number, inner = 1): number {
  const addon = cudaAddon();
  fn();
  addon.synchronize();
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = now();
    for (let i = 0; i < inner; i++) fn();
    addon.synchronize();
    times.push((now() - t0) / inner);
  }
  return median(times);
}

interface TorchFigures {
  skipped?: string;
  device?: string;
  torch?: string;
  randperm_1e8_ms?: number;
  index_select_gbps?: Record<string, number>;
  d2d_gbps?: number;
  h2d_pinned_gbps?: number;
  h2d_pageable_gbps?: number;
}

function torchFigures(repeats: number): TorchFigures {
  const r = spawnSync('python3', [join(__dirname, 'cuda_torch.py'), String(repeats)], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) return { skipped: `python3 bench/cuda_torch.py failed: ${(r.stderr || r.error?.message || '').trim().slice(-300)}` };
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchFigures;
  } catch {
    return { skipped: `unreadable output from bench/cuda_torch.py: ${r.stdout.slice(-200)}` };
  }
}

export const cudaSection: Section = {
  id: 'cuda',
  title: 'CUDA (device figures; targets from issue 12)',
  run: ({ quick, repeats }): Row[] => {
    const status = cuda.status();
    if (!status.available) {
      return [{ figure: 'CUDA', value: 0, unit: '', note: `not measured: CUDA unavailable (${status.reason}): ${status.detail}` }];
    }
    const addon = cudaAddon();
    const device = cuda.devices()[0]!;
    const torch = torchFigures(repeats);
    const torchNote = torch.skipped ?? `torch ${torch.torch} on ${torch.device}`;
    const rows: Row[] = [];

    // Permutation of 10^8: into a reused buffer (the kernel), and through the public API (with its allocation).
    const n = 100_000_000;
    const key = random.key(1);
    const out = new addon.DeviceBuffer(n * 4);
    const permMs = deviceMs(() => addon.permutation(keyWords(key), n, out), repeats);
    const apiMs = deviceMs(() => random.permutation(key, n, { device: 'cuda' }).free(), repeats);
    out.free();
    rows.push({
      figure: 'device permutation of 10^8',
      value: permMs,
      unit: 'ms',
      ratio: torch.randperm_1e8_ms === undefined ? undefined : torch.randperm_1e8_ms / permMs,
      baseline: torch.randperm_1e8_ms === undefined ? undefined : `torch.randperm ${torch.randperm_1e8_ms.toFixed(2)} ms (× faster)`,
      target: '≤ 2 ms, ~6× torch',
      met: permMs <= 2,
      note: `${device.name}; kernel into a reused buffer. random.permutation(key, 1e8, { device: 'cuda' }) with its cudaMalloc: ${apiMs.toFixed(2)} ms. ${torchNote}`,
    });

    // Gather: batch 65536 from a source of >= 256 MiB, indices already on the device.
    const batch = 65536;
    for (const rowBytes of [64, 256, 1024, 4096]) {
      const srcRows = Math.max(batch * 4, Math.floor((quick ? 1 << 28 : 1 << 30) / rowBytes / 4));
      const src = new addon.DeviceBuffer(srcRows * rowBytes);
      const dst = new addon.DeviceBuffer(batch * rowBytes);
      const idx = addon.uploadIndices(randomIndices(batch, srcRows, rowBytes), srcRows);
      const ms = deviceMs(() => addon.gatherFixed(src, srcRows, rowBytes, idx, dst, 0), repeats, 20);
      const gbps = (2 * batch * rowBytes) / (ms / 1e3) / GB;
      const t = torch.index_select_gbps?.[String(rowBytes)];
      rows.push({
        figure: `device gather, batch 65536, ${rowBytes} B rows`,
        value: gbps,
        unit: 'GB/s',
        ratio: t === undefined ? undefined : gbps / t,
        baseline: t === undefined ? undefined : `torch.index_select ${t.toFixed(0)} GB/s`,
        target: rowBytes >= 256 ? '≥ 0.9× index_select' : '',
        met: rowBytes >= 256 && t !== undefined ? gbps >= 0.9 * t : undefined,
        note: `source ${srcRows} rows`,
      });
      src.free();
      dst.free();
      idx.free();
    }

    // Device-to-device copy of 1 GiB (read + write).
    const copyBytes = quick ? 1 << 28 : 1 << 30;
    const a = new addon.DeviceBuffer(copyBytes);
    const b = new addon.DeviceBuffer(copyBytes);
    const d2dMs = deviceMs(() => b.copyFrom(a, 0, 0, copyBytes), repeats, 5);
    const d2d = (2 * copyBytes) / (d2dMs / 1e3) / GB;
    rows.push({
      figure: 'device-to-device copy',
      value: d2d,
      unit: 'GB/s',
      ratio: torch.d2d_gbps === undefined ? undefined : d2d / torch.d2d_gbps,
      baseline: torch.d2d_gbps === undefined ? undefined : `torch copy_ ${torch.d2d_gbps.toFixed(0)} GB/s`,
      note: `${copyBytes >> 20} MiB, read + write`,
    });
    a.free();
    b.free();

    // Host to device, 256 MiB: from cuda.pinnedBuffer, and from ordinary (pageable) memory.
    const h = 256 << 20;
    const pinned = new Uint8Array(cuda.pinnedBuffer(h));
    const pageable = new Uint8Array(h);
    const d = new addon.DeviceBuffer(h);
    const pinnedGbps = h / (deviceMs(() => d.fromHost(pinned, 0), repeats) / 1e3) / GB;
    const pageableGbps = h / (deviceMs(() => d.fromHost(pageable, 0), repeats) / 1e3) / GB;
    d.free();
    rows.push({
      figure: 'host-to-device copy, pinned memory',
      value: pinnedGbps,
      unit: 'GB/s',
      ratio: pinnedGbps / 55,
      baseline: 'the H100 reference 55 GB/s',
      target: '≥ 0.9× 55 GB/s',
      met: pinnedGbps >= 0.9 * 55,
      note: torch.h2d_pinned_gbps === undefined ? torchNote : `torch: ${torch.h2d_pinned_gbps.toFixed(1)} GB/s`,
    });
    rows.push({
      figure: 'host-to-device copy, pageable memory',
      value: pageableGbps,
      unit: 'GB/s',
      note: torch.h2d_pageable_gbps === undefined ? torchNote : `torch: ${torch.h2d_pageable_gbps.toFixed(1)} GB/s`,
    });

    // The loader end to end, 1 KiB rows, batches of 65536: both device paths.
    const rowLength = 256; // float32: 1 KiB rows
    const records = quick ? 1 << 17 : 1 << 19;
    const data = new Float32Array(records * rowLength);
    for (let i = 0; i < data.length; i += 1024) data[i] = i;
    for (const cacheOnDevice of [false, true]) {
      const loader = new DataLoader(new ArraySource({ x: { data, shape: [records, rowLength] } }), {
        batchSize: 8192,
        device: 'cuda',
        cacheOnDevice,
        numEpochs: Infinity,
      });
      const take = () => {
        const r = loader.next();
        if (r.done) throw new Error('the loader ended');
        (r.value as unknown as DeviceBatch<typeof r.value>).x.free();
      };
      const batches = quick ? 16 : 64;
      const ms = deviceMs(take, repeats, batches);
      const gbps = (8192 * 1024) / (ms / 1e3) / GB;
      loader.close();
      rows.push({
        figure: `device: 'cuda' loader, 1 KiB rows, batch 8192, cacheOnDevice ${cacheOnDevice}`,
        value: gbps,
        unit: 'GB/s',
        ratio: gbps / pinnedGbps,
        baseline: 'the pinned copy rate above',
        target: '≥ 0.8× pinned copy',
        met: gbps >= 0.8 * pinnedGbps,
        note: `${records} records of 1 KiB`,
      });
    }
    return rows;
  },
};
