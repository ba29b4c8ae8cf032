// The keyed shuffle: position i of an order over [0, n) maps to a record, with
// O(1) memory (a Feistel cipher with cycle-walking in the core).
import { native } from '../native.js';
import { Key, keyWords } from './key.js';
import { pinResult } from '../loader/pinned-buffers.js';
import { argumentTypeError } from '../error-codes.js';
import { describe, plainObject } from '../validate.js';
import type { DeviceArray } from '../cuda/device-array.js';
import { devicePermutation } from '../cuda/device-permutation.js';

/** The record at position i of the order that key gives [0, n). */
export function permutationIndex(key: Key, n: number, i: number): number {
  return native().permutationIndex(keyWords(key), n, i);
}

/** Fills out with the records at positions start, start+1, ... of that order. */
export function permutationIndices(key: Key, n: number, start: number, out: Uint32Array): Uint32Array {
  native().permutationFill(keyWords(key), n, start, out);
  return out;
}

/** Where random.permutation computes the order. */
export interface PermutationOptions {
  /** 'cuda': a DeviceArray in GPU memory, bit-identical to the CPU's order (README, "CUDA"). */
  readonly device: 'cpu' | 'cuda';
}

/**
 * The whole order as a Uint32Array (built on C++ threads): written into `out`
 * (n elements) when given, so a caller can reuse one array; otherwise new
 * memory: from 2 MiB up, huge-page blocks reused once earlier results are
 * garbage, so a fresh 16M order pays no page faults (see BENCHMARKS.md).
 * With `{ device: 'cuda' }`, the same order in GPU memory as a DeviceArray;
 * CudaUnavailableError (RP_CUDA_UNAVAILABLE) where CUDA cannot run.
 */
export function permutation(key: Key, n: number, out?: Uint32Array): Uint32Array;
export function permutation(key: Key, n: number, options: { readonly device: 'cuda' }): DeviceArray<'uint32'>;
export function permutation(key: Key, n: number, options: { readonly device: 'cpu' }): Uint32Array;
export function permutation(key: Key, n: number, outOrOptions?: Uint32Array | PermutationOptions): Uint32Array | DeviceArray<'uint32'> {
  if (outOrOptions !== undefined && !ArrayBuffer.isView(outOrOptions)) {
    const o = plainObject(outOrOptions, 'options', ['device']);
    if (o.device === 'cuda') return devicePermutation(keyWords(key), n);
    if (o.device !== 'cpu') throw argumentTypeError(`options.device must be 'cpu' or 'cuda', got ${describe(o.device)}`);
    outOrOptions = undefined;
  }
  if (outOrOptions !== undefined) return native().permutation(keyWords(key), n, outOrOptions);
  return pinResult(native().permutation(keyWords(key), n));
}
