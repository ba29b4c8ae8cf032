// The keyed shuffle: position i of an order over [0, n) maps to a record, with
// O(1) memory (a Feistel cipher with cycle-walking in the core).
import { native } from '../native.js';
import { Key, keyWords } from './key.js';
import { pinResult } from '../loader/pinned-buffers.js';

/** The record at position i of the order that key gives [0, n). */
export function permutationIndex(key: Key, n: number, i: number): number {
  return native().permutationIndex(keyWords(key), n, i);
}

/** Fills out with the records at positions start, start+1, ... of that order. */
export function permutationIndices(key: Key, n: number, start: number, out: Uint32Array): Uint32Array {
  native().permutationFill(keyWords(key), n, start, out);
  return out;
}

/**
 * The whole order as a Uint32Array (built on C++ threads): written into `out`
 * (n elements) when given, so a caller can reuse one array; otherwise new
 * memory: from 2 MiB up, huge-page blocks reused once earlier results are
 * garbage, so a fresh 16M order pays no page faults (see BENCHMARKS.md).
 */
export function permutation(key: Key, n: number, out?: Uint32Array): Uint32Array {
  if (out !== undefined) return native().permutation(keyWords(key), n, out);
  return pinResult(native().permutation(keyWords(key), n));
}
