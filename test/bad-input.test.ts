// Every native-backed function, fed wrong types, NaN, negative or fractional
// sizes, detached or short buffers and wrong TypedArray kinds: each gets a
// TypeError or RangeError naming the argument, and the process survives.
import { describe, expect, it } from 'vitest';
import { gather, hugePageBuffer, random } from '../src/index.js';

function detached(): Uint32Array {
  const a = new Uint32Array(4);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

const key = random.key(1);
type Case = [string, () => unknown, ErrorConstructor, RegExp];

const cases: Case[] = [
  ['key: string seed', () => random.key('1' as never), TypeError, /seed/],
  ['key: NaN seed', () => random.key(NaN), RangeError, /seed/],
  ['key: negative seed', () => random.key(-1), RangeError, /seed/],
  ['key: fractional seed', () => random.key(1.5), RangeError, /seed/],
  ['key: bigint seed >= 2^64', () => random.key(2n ** 64n), RangeError, /seed/],
  ['key: negative bigint seed', () => random.key(-1n), RangeError, /seed/],
  ['split: not a key', () => random.split({} as never), TypeError, /key/],
  ['split: a Uint32Array instead of a Key', () => random.split(new Uint32Array(2) as never), TypeError, /key/],
  ['split: num 0', () => random.split(key, 0), RangeError, /num/],
  ['split: num NaN', () => random.split(key, NaN), RangeError, /num/],
  ['split: num string', () => random.split(key, '2' as never), TypeError, /num/],
  ['foldIn: negative data', () => random.foldIn(key, -1), RangeError, /data/],
  ['foldIn: data >= 2^32', () => random.foldIn(key, 2 ** 32), RangeError, /data/],
  ['foldIn: data undefined', () => random.foldIn(key, undefined as never), TypeError, /data/],
  ['bits: negative count', () => random.bits(key, -1), RangeError, /count/],
  ['bits: fractional count', () => random.bits(key, 2.5), RangeError, /count/],
  ['bits: Infinity count', () => random.bits(key, Infinity), RangeError, /count/],
  ['wrapKeyData: wrong length', () => random.wrapKeyData(new Uint32Array(3)), TypeError, /data/],
  ['wrapKeyData: wrong kind', () => random.wrapKeyData(new Int32Array(2) as never), TypeError, /data/],
  ['permutationIndex: n 0', () => random.permutationIndex(key, 0, 0), RangeError, /\bn\b/],
  ['permutationIndex: n > 2^32', () => random.permutationIndex(key, 2 ** 32 + 1, 0), RangeError, /\bn\b/],
  ['permutationIndex: i = n', () => random.permutationIndex(key, 10, 10), RangeError, /\bi\b/],
  ['permutationIndex: i NaN', () => random.permutationIndex(key, 10, NaN), RangeError, /\bi\b/],
  ['permutationIndex: n string', () => random.permutationIndex(key, '10' as never, 1), TypeError, /\bn\b/],
  ['permutationIndices: out too long', () => random.permutationIndices(key, 10, 5, new Uint32Array(6)), RangeError, /out/],
  ['permutationIndices: start > n', () => random.permutationIndices(key, 10, 11, new Uint32Array(0)), RangeError, /start/],
  ['permutationIndices: out wrong kind', () => random.permutationIndices(key, 10, 0, new Float64Array(2) as never), TypeError, /out/],
  ['permutationIndices: out detached', () => random.permutationIndices(key, 10, 0, detached()), TypeError, /out/],
  ['permutation: n negative', () => random.permutation(key, -3), RangeError, /\bn\b/],
  ['gather: source not a TypedArray', () => gather([1, 2] as never, 1, new Uint32Array(1)), TypeError, /source/],
  ['gather: source a DataView', () => gather(new DataView(new ArrayBuffer(8)) as never, 1, new Uint32Array(1)), TypeError, /source/],
  ['gather: source detached', () => gather(detached(), 1, new Uint32Array([0])), TypeError, /source/],
  ['gather: rowLength 0', () => gather(new Float32Array(4), 0, new Uint32Array(1)), RangeError, /rowLength/],
  ['gather: rowLength NaN', () => gather(new Float32Array(4), NaN, new Uint32Array(1)), RangeError, /rowLength/],
  ['gather: rowLength not dividing source', () => gather(new Float32Array(5), 2, new Uint32Array(1)), RangeError, /rowLength/],
  ['gather: indices wrong kind', () => gather(new Float32Array(4), 1, new Int32Array([0]) as never), TypeError, /indices/],
  ['gather: indices detached', () => gather(new Float32Array(4), 1, detached()), TypeError, /indices/],
  ['gather: index out of range', () => gather(new Float32Array(4), 2, new Uint32Array([2])), RangeError, /indices\[0\]/],
  ['gather: out too short', () => gather(new Float32Array(4), 2, new Uint32Array([0, 1]), new Float32Array(3)), RangeError, /out/],
  ['gather: out wrong kind', () => gather(new Float32Array(4), 2, new Uint32Array([0]), new Float64Array(2) as never), TypeError, /out/],
  ['gather: out detached', () => gather(new Uint32Array(4), 2, new Uint32Array([0]), detached()), TypeError, /out/],
  ['hugePageBuffer: byteLength missing', () => hugePageBuffer(undefined as never), TypeError, /byteLength/],
  ['hugePageBuffer: byteLength a string', () => hugePageBuffer('8' as never), TypeError, /byteLength/],
  ['hugePageBuffer: byteLength negative', () => hugePageBuffer(-1), RangeError, /byteLength/],
  ['hugePageBuffer: byteLength fractional', () => hugePageBuffer(1.5), RangeError, /byteLength/],
  ['hugePageBuffer: byteLength beyond 2^53', () => hugePageBuffer(2 ** 60), RangeError, /byteLength/],
];

describe('bad input', () => {
  it.each(cases)('%s', (_name, call, type, message) => {
    let error: unknown;
    try {
      call();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
  });
});
