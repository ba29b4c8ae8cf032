// Checks that a batch's ragged (or padded) column holds exactly the rows of
// its indices.
import { expect } from 'vitest';
import type { Padded, Ragged } from '../../src/index.js';

export { raggedData, type RaggedData } from './ragged-data.js';

/** The batch column holds rows indices[j] of data, byte for byte, with offsets from 0. */
export function expectRows(column: Ragged<Uint8Array>, indices: ArrayLike<number>, row: (i: number) => Uint8Array): void {
  const { values, offsets } = column;
  expect(offsets).toBeInstanceOf(Int32Array);
  expect(offsets.length).toBe(indices.length + 1);
  expect(offsets[0]).toBe(0);
  const want: Uint8Array[] = [];
  for (let j = 0; j < indices.length; j++) {
    const r = row(indices[j]!);
    expect(offsets[j + 1]! - offsets[j]!).toBe(r.length);
    want.push(r);
  }
  const all = Buffer.concat(want);
  expect(values.length).toBe(all.length);
  expect(Buffer.from(values.buffer, values.byteOffset, values.length).equals(all)).toBe(true);
}

/** The padded batch column holds rows indices[j], cut or padded to `length` with `pad`. */
export function expectPadded(column: Padded<Uint8Array>, indices: ArrayLike<number>, row: (i: number) => Uint8Array, length: number, pad: number): void {
  expect(column.values.length).toBe(indices.length * length);
  expect(column.lengths.length).toBe(indices.length);
  for (let j = 0; j < indices.length; j++) {
    const r = row(indices[j]!);
    const kept = Math.min(r.length, length);
    expect(column.lengths[j]).toBe(kept);
    const got = column.values.subarray(j * length, (j + 1) * length);
    expect(Array.from(got.subarray(0, kept))).toEqual(Array.from(r.subarray(0, kept)));
    expect(got.subarray(kept).every((v) => v === pad)).toBe(true);
  }
}
