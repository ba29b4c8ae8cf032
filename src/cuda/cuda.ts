// The `cuda` namespace: whether CUDA runs here, its devices, pinned host memory.
import { integer } from '../validate.js';
import { cudaAddon, cudaStatus, type CudaStatus } from './cuda-addon.js';

/** A CUDA device as the runtime reports it. */
export interface CudaDevice {
  readonly index: number;
  readonly name: string;
  /** Bytes of device memory. */
  readonly totalMemory: number;
  /** "major.minor", e.g. "9.0" for an H100. */
  readonly computeCapability: string;
}

/**
 * True when the CUDA addon is built, loads, and finds a driver and a device.
 * Never throws; status() says why not.
 */
export function available(): boolean {
  return cudaStatus().available;
}

/** available(), with the reason ('not built', 'no driver' or 'no device') and details. */
export function status(): CudaStatus {
  return cudaStatus();
}

/** The CUDA devices; CudaUnavailableError (RP_CUDA_UNAVAILABLE) where CUDA cannot run. */
export function devices(): CudaDevice[] {
  return cudaAddon().devices();
}

/**
 * `bytes` of page-locked host memory (cudaHostAlloc) as an ArrayBuffer:
 * copies between it and the device run at the bus's full rate. Freed when
 * the buffer is collected. CudaUnavailableError where CUDA cannot run.
 */
export function pinnedBuffer(bytes: number): ArrayBuffer {
  const n = integer(bytes, 'bytes', 1, 2 ** 32);
  return cudaAddon().pinnedBuffer(n);
}

/** Waits for all device work so far (kernels and copies run asynchronously); a kernel's fault is thrown here. */
export function synchronize(): void {
  cudaAddon().synchronize();
}

export { DeviceArray } from './device-array.js';
export type { CudaStatus } from './cuda-addon.js';
