// A CPU stand-in for the CUDA addon (binding/cuda/), for machines without a
// GPU: the same exports, with "device memory" in host memory and the jobs done
// by the main addon (gather, permutation) or plain loops. Loaded through
// RP_CUDA_ADDON_PATH, it lets the device suite (test/device/cuda-device.ts)
// exercise everything above the addon (DeviceArray, the DataLoader's device
// batches, the options) here. It proves nothing about the kernels: the host
// grid runner (native/tests/test_grid_runner.cpp) and a GPU run do that.
'use strict';
const { join } = require('node:path');

const main = require(join(__dirname, '..', '..', 'build', 'Release', 'resumable_pipeline.node'));

let nextAddress = 0x7f0000000000n;

class DeviceBuffer {
  #mem;
  #freed = false;
  constructor(byteLength) {
    if (!Number.isSafeInteger(byteLength) || byteLength < 0) throw new TypeError('byteLength must be a non-negative integer');
    this.#mem = new Uint8Array(byteLength);
    this.address = byteLength === 0 ? 0n : nextAddress;
    nextAddress += BigInt(byteLength + 256);
    this.indexBound = 0;
  }
  get pointer() { return this.#freed ? 0n : this.address; }
  get byteLength() { return this.#freed ? 0 : this.#mem.byteLength; }
  get freed() { return this.#freed; }
  free() { this.#freed = true; }
  mem() {
    if (this.#freed) throw new TypeError('the device array has been freed');
    return this.#mem;
  }
  toHost(out, offset) {
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    bytes.set(this.mem().subarray(offset, offset + bytes.byteLength));
  }
  fromHost(data, offset) {
    this.mem().set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
  }
  copyFrom(src, srcOffset, dstOffset, bytes) {
    this.mem().set(src.mem().subarray(srcOffset, srcOffset + bytes), dstOffset);
  }
}

function hostIndices(indices, rows) {
  if (indices instanceof DeviceBuffer) {
    if (indices.indexBound === 0 || indices.indexBound > rows) throw new RangeError('indices out of range');
    const m = indices.mem();
    return new Uint32Array(m.buffer, m.byteOffset, m.byteLength / 4);
  }
  for (let j = 0; j < indices.length; j++) {
    if (indices[j] >= rows) throw new RangeError(`indices[${j}] = ${indices[j]} is out of range for a source of ${rows} rows`);
  }
  return indices;
}

module.exports = {
  DeviceBuffer,
  status: () => ({ reason: '', detail: 'CPU stand-in', devices: 1, driverVersion: 0, runtimeVersion: 0 }),
  devices: () => [{ index: 0, name: 'CPU stand-in', totalMemory: 8 * 2 ** 30, computeCapability: '0.0' }],
  permutation(key, n, out) {
    const buffer = out ?? new DeviceBuffer(n * 4);
    buffer.fromHost(main.permutation(key, n, new Uint32Array(n)), 0);
    buffer.indexBound = n;
    return buffer;
  },
  uploadIndices(indices, rows) {
    hostIndices(indices, rows);
    const buffer = new DeviceBuffer(indices.byteLength);
    buffer.fromHost(indices, 0);
    buffer.indexBound = rows;
    return buffer;
  },
  gatherFixed(src, srcRows, rowBytes, indices, dst, dstOffset) {
    const idx = hostIndices(indices, srcRows);
    const s = src.mem().subarray(0, srcRows * rowBytes);
    const d = dst.mem().subarray(dstOffset, dstOffset + idx.length * rowBytes);
    if (idx.length > 0) main.gather(s, rowBytes, idx, d);
  },
  gatherRagged(values, valueCount, elementBytes, starts, ends, rows, indices, outOffsets) {
    const v = values.mem();
    const spans = [];
    let total = 0;
    for (let j = 0; j < indices.length; j++) {
      const i = indices[j];
      if (i >= rows) throw new RangeError(`indices[${j}] is out of range`);
      const s = Number(starts[i]);
      const e = Number(ends === undefined ? starts[i + 1] : ends[i]);
      if (s < 0 || e < s || e > valueCount) throw new RangeError(`row ${i} is out of bounds`);
      outOffsets[j] = total;
      spans.push([s, e]);
      total += e - s;
    }
    outOffsets[indices.length] = total;
    const out = new DeviceBuffer(total * elementBytes);
    const o = out.mem();
    for (let j = 0; j < spans.length; j++) {
      const [s, e] = spans[j];
      o.set(v.subarray(s * elementBytes, e * elementBytes), outOffsets[j] * elementBytes);
    }
    return out;
  },
  synchronize() {},
  pinnedBuffer: (bytes) => new ArrayBuffer(bytes),
};
