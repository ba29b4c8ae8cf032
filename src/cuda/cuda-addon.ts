// Loads the CUDA addon (resumable_pipeline_cuda.node) on first use, never at
// import: a program that never asks for CUDA never loads it, and the main
// addon never depends on it. Where it is missing or does not load, CUDA is
// "not built"; where it loads, it says whether a driver and a device exist.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../native.js';
import { CudaUnavailableError, type CudaUnavailableReason } from '../errors.js';

/** Device memory owned by a JavaScript object (binding/cuda/device_buffer.cpp). */
export interface NativeDeviceBuffer {
  /** The device address (0n for an empty buffer). */
  readonly pointer: bigint;
  /** 0 once freed. */
  readonly byteLength: number;
  readonly freed: boolean;
  free(): void;
  /** Copies out.byteLength bytes from byte `offset` of the buffer into out. */
  toHost(out: ArrayBufferView, offset: number): void;
  /** Copies data's bytes into the buffer from byte `offset`. */
  fromHost(data: ArrayBufferView, offset: number): void;
  /** Device-to-device: bytes from src at srcOffset to this buffer at dstOffset (asynchronous, stream-ordered). */
  copyFrom(src: NativeDeviceBuffer, srcOffset: number, dstOffset: number, bytes: number): void;
}

/** What the CUDA addon exports (binding/cuda/). */
export interface NativeCudaBinding {
  DeviceBuffer: new (byteLength: number) => NativeDeviceBuffer;
  /** reason '' when CUDA runs here. */
  status(): { reason: '' | 'no driver' | 'no device'; detail: string; devices: number; driverVersion: number; runtimeVersion: number };
  devices(): { index: number; name: string; totalMemory: number; computeCapability: string }[];
  permutation(key: Uint32Array, n: number, out?: NativeDeviceBuffer): NativeDeviceBuffer;
  uploadIndices(indices: Uint32Array, rows: number): NativeDeviceBuffer;
  gatherFixed(src: NativeDeviceBuffer, srcRows: number, rowBytes: number, indices: Uint32Array | NativeDeviceBuffer, dst: NativeDeviceBuffer, dstOffset: number): void;
  gatherRagged(
    values: NativeDeviceBuffer,
    valueCount: number,
    elementBytes: number,
    starts: Int32Array | BigInt64Array,
    ends: Int32Array | BigInt64Array | undefined,
    rows: number,
    indices: Uint32Array,
    outOffsets: Int32Array,
  ): NativeDeviceBuffer;
  synchronize(): void;
  pinnedBuffer(bytes: number): ArrayBuffer;
}

/** Whether CUDA runs here and, if not, why. */
export interface CudaStatus {
  readonly available: boolean;
  /** Undefined when available. */
  readonly reason: CudaUnavailableReason | undefined;
  /** The CUDA addon's path and versions, or why CUDA cannot run, in words. */
  readonly detail: string;
}

const FILE = 'resumable_pipeline_cuda.node';

/**
 * Where the CUDA addon may be: RP_CUDA_ADDON_PATH alone when set (tests point
 * it at a missing file to see "not built"), else the local build's cuda/
 * folder, then the prebuild's.
 */
export function cudaAddonCandidates(root: string): string[] {
  const override = process.env['RP_CUDA_ADDON_PATH'];
  if (override !== undefined && override !== '') return [resolve(override)];
  return [
    join(root, 'build', 'Release', 'cuda', FILE),
    join(root, 'build', 'Debug', 'cuda', FILE),
    join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'cuda', FILE),
  ];
}

let loaded: { binding: NativeCudaBinding | undefined; status: CudaStatus } | undefined;

function load(): { binding: NativeCudaBinding | undefined; status: CudaStatus } {
  const candidates = cudaAddonCandidates(packageRoot());
  const path = candidates.find((p) => existsSync(p));
  if (path === undefined) {
    return {
      binding: undefined,
      status: {
        available: false,
        reason: 'not built',
        detail:
          `no CUDA addon (tried ${candidates.join(', ')}). It is built with the package where nvcc is found; ` +
          'to build it, run "RP_CUDA=1 npm rebuild resumable-pipeline" (README, "CUDA")',
      },
    };
  }
  let binding: NativeCudaBinding;
  try {
    binding = require(path) as NativeCudaBinding;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return { binding: undefined, status: { available: false, reason: 'not built', detail: `the CUDA addon ${path} does not load: ${reason}` } };
  }
  const s = binding.status();
  const versions = `CUDA runtime ${s.runtimeVersion}, driver ${s.driverVersion}`;
  if (s.reason === '') {
    return { binding, status: { available: true, reason: undefined, detail: `${path} (${versions}, ${s.devices} device(s))` } };
  }
  return { binding, status: { available: false, reason: s.reason, detail: `${s.detail} (${path}, ${versions})` } };
}

/** Whether CUDA runs here, and why not (asked once per process). */
export function cudaStatus(): CudaStatus {
  loaded ??= load();
  return loaded.status;
}

/** The CUDA addon, or CudaUnavailableError (RP_CUDA_UNAVAILABLE) saying why CUDA cannot run. */
export function cudaAddon(): NativeCudaBinding {
  loaded ??= load();
  if (loaded.binding === undefined || !loaded.status.available) {
    throw new CudaUnavailableError(loaded.status.reason ?? 'not built', loaded.status.detail);
  }
  return loaded.binding;
}
