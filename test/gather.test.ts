import { describe, expect, it } from 'vitest';
import { gather } from '../src/index.js';

function naiveGather(source: Float64Array, rowLength: number, indices: Uint32Array): Float64Array {
  const out = new Float64Array(indices.length * rowLength);
  indices.forEach((r, j) => out.set(source.subarray(r * rowLength, (r + 1) * rowLength), j * rowLength));
  return out;
}

/** Byte equality (vitest's deep toEqual is slow on millions of elements). */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('gather', () => {
  it.each([1, 3, 8, 128, 512])('copies rows of %i elements', (rowLength) => {
    const rows = 1000;
    const source = Float64Array.from({ length: rows * rowLength }, (_, i) => i + 0.5);
    const indices = Uint32Array.from({ length: 777 }, (_, j) => (j * 7919) % rows);
    expect(sameBytes(gather(source, rowLength, indices), naiveGather(source, rowLength, indices))).toBe(true);
  });

  it('runs large batches (threaded path) correctly', () => {
    const rowLength = 256;
    const rows = 4096;
    const source = Float64Array.from({ length: rows * rowLength }, (_, i) => i);
    const indices = Uint32Array.from({ length: 8192 }, (_, j) => (j * 2654435761) % rows);
    expect(sameBytes(gather(source, rowLength, indices), naiveGather(source, rowLength, indices))).toBe(true);
  });

  it('keeps the kind of the source and writes into a given buffer', () => {
    const source = new BigInt64Array([1n, -2n, 3n, -4n]);
    const out = new BigInt64Array(4);
    expect(gather(source, 2, new Uint32Array([1, 0]), out)).toBe(out);
    expect(Array.from(out)).toEqual([3n, -4n, 1n, -2n]);
  });

  it('reads from a subarray view without copying the source', () => {
    const backing = new Uint8Array(100).map((_, i) => i);
    const view = backing.subarray(10, 30); // 10 rows of 2
    expect(Array.from(gather(view, 2, new Uint32Array([9, 0])))).toEqual([28, 29, 10, 11]);
  });

  it('rejects an out-of-range index before writing anything', () => {
    const source = new Float32Array(6);
    const out = new Float32Array(4).fill(7);
    expect(() => gather(source, 2, new Uint32Array([0, 3]), out)).toThrow(RangeError);
    expect(() => gather(source, 2, new Uint32Array([0, 3]), out)).toThrow(/indices\[1\] = 3/);
    expect(Array.from(out)).toEqual([7, 7, 7, 7]);
  });
});
