import { describe, expect, it } from 'vitest';
import { gather, hugePageBuffer } from '../src/index.js';

describe('hugePageBuffer', () => {
  it.each([0, 1, 4095, 4096, 5000, 3 * 2 ** 21 + 17])('gives a zeroed, writable ArrayBuffer of %i bytes', (n) => {
    const buffer = hugePageBuffer(n);
    expect(buffer).toBeInstanceOf(ArrayBuffer);
    expect(buffer.byteLength).toBe(n);
    const bytes = new Uint8Array(buffer);
    expect(bytes.every((b) => b === 0)).toBe(true);
    bytes.fill(0xab);
    expect(bytes[n - 1]).toBe(n === 0 ? undefined : 0xab);
  });

  it('serves as a gather source and destination like any other buffer', () => {
    const rowLength = 64;
    const rows = 4096;
    const source = new Float32Array(hugePageBuffer(rows * rowLength * 4));
    source.forEach((_, i) => (source[i] = i));
    const indices = Uint32Array.from({ length: 1000 }, (_, j) => (j * 2654435761) % rows);
    const out = new Float32Array(hugePageBuffer(indices.length * rowLength * 4));
    gather(source, rowLength, indices, out);
    indices.forEach((r, j) => {
      expect(out[j * rowLength]).toBe(r * rowLength);
      expect(out[j * rowLength + rowLength - 1]).toBe(r * rowLength + rowLength - 1);
    });
  });

  it('can be structured-cloned', () => {
    const buffer = hugePageBuffer(16);
    new Uint8Array(buffer).set([1, 2, 3]);
    const copy = structuredClone(buffer);
    expect(Array.from(new Uint8Array(copy, 0, 4))).toEqual([1, 2, 3, 0]);
  });
});
