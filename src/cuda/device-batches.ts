// DataLoader batches on the GPU (`device: 'cuda'`). Two ways, chosen per
// loader:
// - cacheOnDevice: every column goes to device memory once, when the loader
//   is made; the CPU threads then produce only each batch's indices, and the
//   gather kernels build the batch on the device (ragged rows planned on the
//   host by rp::plan_ragged, copied on the device).
// - otherwise: the CPU threads gather the batch as for the CPU loader, and its
//   columns are copied to the device.
// Order, state, sharding and resume are the CPU loader's: only where a
// batch's bytes live changes. Each column becomes a DeviceArray ({ values,
// offsets } / { values, lengths } of DeviceArrays for ragged / padded ones).
import type { NativeColumn, NativeRegion } from '../native.js';
import type { Column } from '../sources/column.js';
import { argumentRangeError } from '../error-codes.js';
import { DTYPES, dtypeOf, type Dtype, type TypedArray } from '../typed-arrays.js';
import { cudaAddon, type NativeCudaBinding, type NativeDeviceBuffer } from './cuda-addon.js';
import { DeviceArray } from './device-array.js';

/** A column held in device memory for cacheOnDevice. */
type CachedColumn =
  | { readonly kind: 'fixed'; readonly name: string; readonly dtype: Dtype; readonly buffer: NativeDeviceBuffer; readonly rows: number; readonly rowBytes: number; readonly rowLength: number }
  | {
      readonly kind: 'ragged';
      readonly name: string;
      readonly dtype: Dtype;
      readonly values: NativeDeviceBuffer;
      readonly valueCount: number;
      readonly elementBytes: number;
      readonly starts: Int32Array | BigInt64Array;
      readonly ends: Int32Array | BigInt64Array | undefined;
      readonly rows: number;
    };

/** The host bytes of a region (a TypedArray's, or a mapped file's range). */
function regionBytes(region: NativeRegion): Uint8Array {
  if ('data' in region) return new Uint8Array(region.data.buffer, region.data.byteOffset, region.data.byteLength);
  return new Uint8Array(region.file.slice(region.offset, region.bytes));
}

function offsetsArray(region: NativeRegion, offsets64: boolean): Int32Array | BigInt64Array {
  const bytes = regionBytes(region);
  if (bytes.byteOffset % (offsets64 ? 8 : 4) !== 0) {
    const copy = bytes.slice();
    return offsets64 ? new BigInt64Array(copy.buffer) : new Int32Array(copy.buffer);
  }
  return offsets64 ? new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8) : new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** Why a column cannot be cached on the device, or undefined when it can. */
function whyNotCacheable(column: Column): string | undefined {
  const spec = column.spec;
  if (column.pad !== undefined) return 'padded ragged columns are gathered on the CPU';
  if (spec.kind === 'chunked' && spec.parts.some((p) => p.kind !== 'fixed')) return 'chunked ragged columns are gathered on the CPU';
  return undefined;
}

function upload(addon: NativeCudaBinding, parts: readonly Uint8Array[]): NativeDeviceBuffer {
  const total = parts.reduce((sum, p) => sum + p.byteLength, 0);
  const buffer = new addon.DeviceBuffer(total);
  let at = 0;
  for (const p of parts) {
    buffer.fromHost(p, at);
    at += p.byteLength;
  }
  return buffer;
}

function cacheColumn(addon: NativeCudaBinding, column: Column): CachedColumn {
  const spec = column.spec;
  const elementBytes = DTYPES[column.dtype].BYTES_PER_ELEMENT;
  if (spec.kind === 'ragged') {
    return {
      kind: 'ragged',
      name: column.name,
      dtype: column.dtype,
      values: upload(addon, [regionBytes(spec.values)]),
      valueCount: regionBytes(spec.values).byteLength / elementBytes,
      elementBytes,
      starts: offsetsArray(spec.starts, spec.offsets64),
      ends: spec.ends === undefined ? undefined : offsetsArray(spec.ends, spec.offsets64),
      rows: spec.rows,
    };
  }
  const parts: NativeColumn[] = spec.kind === 'chunked' ? [...spec.parts] : [spec];
  const fixed = parts as Extract<NativeColumn, { kind: 'fixed' }>[];
  const rowBytes = fixed[0]!.rowBytes;
  return {
    kind: 'fixed',
    name: column.name,
    dtype: column.dtype,
    buffer: upload(addon, fixed.map((p) => regionBytes(p.data).subarray(0, p.rows * p.rowBytes))),
    rows: column.rows,
    rowBytes,
    rowLength: rowBytes / elementBytes,
  };
}

function toDevice(addon: NativeCudaBinding, host: TypedArray): DeviceArray {
  const buffer = new addon.DeviceBuffer(host.byteLength);
  buffer.fromHost(host, 0);
  return new DeviceArray(buffer, dtypeOf(host)!, host.length);
}

export class DeviceBatches {
  /** True: columns live on the device and batches are gathered there. */
  readonly cached: boolean;
  readonly #addon: NativeCudaBinding;
  readonly #cache: readonly CachedColumn[];

  /**
   * cacheOnDevice undefined chooses: cache when every column can be cached
   * and all of them fit in half the device's memory.
   */
  constructor(columns: readonly Column[], cacheOnDevice: boolean | undefined) {
    this.#addon = cudaAddon();
    if (cacheOnDevice === true) {
      for (const c of columns) {
        const why = whyNotCacheable(c);
        if (why !== undefined) throw argumentRangeError(`options.cacheOnDevice: column "${c.name}" cannot be cached on the device (${why})`);
      }
    }
    const bytes = columns.reduce((sum, c) => sum + c.arrays.reduce((s, a) => s + a.byteLength, 0), 0);
    const fits = () => bytes <= (this.#addon.devices()[0]?.totalMemory ?? 0) / 2;
    this.cached = cacheOnDevice ?? (columns.every((c) => whyNotCacheable(c) === undefined) && fits());
    this.#cache = this.cached ? columns.map((c) => cacheColumn(this.#addon, c)) : [];
  }

  /**
   * The batch with its columns on the device: gathered from the cache by
   * `indices`, or copied from the CPU batch `host` (its columns, as the CPU
   * loader made them). epoch and indices stay host values.
   */
  assemble(host: Record<string, unknown>, indices: Uint32Array): Record<string, unknown> {
    const addon = this.#addon;
    const batch: Record<string, unknown> = {};
    if (this.cached) {
      for (const c of this.#cache) {
        if (c.kind === 'fixed') {
          const out = new addon.DeviceBuffer(indices.length * c.rowBytes);
          addon.gatherFixed(c.buffer, c.rows, c.rowBytes, indices, out, 0);
          batch[c.name] = new DeviceArray(out, c.dtype, indices.length * c.rowLength);
        } else {
          const offsets = new Int32Array(indices.length + 1);
          const values = addon.gatherRagged(c.values, c.valueCount, c.elementBytes, c.starts, c.ends, c.rows, indices, offsets);
          batch[c.name] = { values: new DeviceArray(values, c.dtype, offsets[indices.length]!), offsets: toDevice(addon, offsets) };
        }
      }
    } else {
      for (const [name, value] of Object.entries(host)) {
        if (name === 'epoch' || name === 'indices') continue;
        if (ArrayBuffer.isView(value)) {
          batch[name] = toDevice(addon, value as TypedArray);
        } else {
          const parts = value as Record<string, TypedArray>;
          batch[name] = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, toDevice(addon, v)]));
        }
      }
    }
    return batch;
  }
}
