// Batch assembly: rows at given indices, copied from the source's own memory
// into one contiguous buffer by the core (on C++ threads for large batches).
import { native } from '../native.js';
import { pinResult } from './pinned-buffers.js';

import type { TypedArray } from '../typed-arrays.js';

export type { TypedArray };

/**
 * Copies rows indices[0], indices[1], ... of source (rows of rowLength
 * elements) into out, or into a new array of source's kind (memory reused
 * from earlier results once they are garbage, from 2 MiB up). An index past
 * the last row throws a RangeError before anything is written.
 */
export function gather<T extends TypedArray>(source: T, rowLength: number, indices: Uint32Array, out?: T): T {
  if (out !== undefined) return native().gather(source, rowLength, indices, out);
  return pinResult(native().gather(source, rowLength, indices));
}
