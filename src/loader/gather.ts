// Batch assembly: rows at given indices, copied from the source's own memory
// into one contiguous buffer by the core (on C++ threads for large batches).
import { native } from '../native.js';
import { argumentTypeError } from '../error-codes.js';

import type { TypedArray } from '../typed-arrays.js';

export type { TypedArray };

type TypedArrayConstructor<T extends TypedArray> = { new (length: number): T };

/**
 * Copies rows indices[0], indices[1], ... of source (rows of rowLength
 * elements) into out, or into a new array of source's kind. An index past the
 * last row throws a RangeError before anything is written.
 */
export function gather<T extends TypedArray>(source: T, rowLength: number, indices: Uint32Array, out?: T): T {
  if (out === undefined) {
    if (!ArrayBuffer.isView(source) || source instanceof DataView) {
      throw argumentTypeError('source must be a TypedArray');
    }
    // Size checks on rowLength and indices happen in the core call below.
    const rows = indices instanceof Uint32Array ? indices.length : 0;
    const len = Number.isSafeInteger(rowLength) && rowLength > 0 ? rows * rowLength : 0;
    out = new (source.constructor as TypedArrayConstructor<T>)(len);
  }
  return native().gather(source, rowLength, indices, out);
}
