// The State codec: every State kind round-trips exactly (property test), the
// bytes are canonical msgpack (the same as @msgpack/msgpack's for the same
// values), and malformed input gets typed errors.
import { runInNewContext } from 'node:vm';
import { decode, encode, ExtensionCodec } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from '../../src/index.js';
import { difference, state } from '../helpers/state-arbitrary.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

/** FORMAT.md §3's dtype codes, written out here so the test does not read them from the code under test. */
const TYPED_ARRAY_KINDS = [
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',
  'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

/** The reference: @msgpack/msgpack with the two ext types as FORMAT.md defines them. */
const reference = new ExtensionCodec();
reference.register({
  type: 1,
  encode: (v: unknown) => {
    if (!ArrayBuffer.isView(v) || v instanceof DataView) return null;
    const tag = Object.prototype.toString.call(v).slice(8, -1);
    const out = new Uint8Array(1 + v.byteLength);
    out[0] = TYPED_ARRAY_KINDS.indexOf(tag);
    out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), 1);
    return out;
  },
  decode: () => null,
});
reference.register({
  type: 2,
  encode: (v: unknown) => {
    if (typeof v !== 'bigint') return null;
    const mag = v < 0n ? -v : v;
    const h = mag === 0n ? '' : mag.toString(16);
    return new Uint8Array([v < 0n ? 1 : 0, ...Buffer.from(h.length % 2 ? `0${h}` : h, 'hex')]);
  },
  decode: () => null,
});

function hasNegativeZero(value: unknown): boolean {
  if (Object.is(value, -0)) return true;
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return false;
  return Object.values(value).some(hasNegativeZero);
}

describe('State round-trips exactly', () => {
  it('for every State kind, nested (property)', () => {
    fc.assert(
      fc.property(state, (value) => {
        const back = decodeState(encodeState(value));
        expect(difference(value, back)).toBeUndefined();
      }),
      { numRuns: 1500 },
    );
  });

  it('in canonical msgpack, byte for byte what @msgpack/msgpack writes (property)', () => {
    fc.assert(
      fc.property(state.filter((v) => !hasNegativeZero(v)), (value) => {
        expect(hex(encodeState(value))).toBe(hex(encode(value, { extensionCodec: reference })));
      }),
      { numRuns: 1000 },
    );
  });

  it('reads what another writer (@msgpack/msgpack) wrote, exactly (property)', () => {
    fc.assert(
      fc.property(state.filter((v) => !hasNegativeZero(v)), (value) => {
        expect(difference(value, decodeState(encode(value, { extensionCodec: reference })))).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it('keeps -0 as a float64, where @msgpack/msgpack would write the integer 0', () => {
    expect(hex(encodeState(-0))).toBe('cb8000000000000000');
    expect(hex(encodeState(0))).toBe('00');
    expect(hex(encode(-0))).toBe('00'); // why we write our own encoder
    expect(Object.is(decodeState(encodeState(-0)), -0)).toBe(true);
    expect(Object.is(decode(encodeState(-0)), -0)).toBe(true); // any msgpack reader sees -0
  });

  it('encodes the documented ext bodies', () => {
    expect(hex(encodeState(new Float32Array([1])))).toBe('c7050107' + '0000803f');
    expect(hex(encodeState(new Uint8Array([])))).toBe('d40101');
    expect(hex(encodeState(0n))).toBe('d40200');
    expect(hex(encodeState(-256n))).toBe('c703020' + '10100');
    expect(hex(encodeState(255n))).toBe('d50200ff');
  });

  it('reads TypedArrays from another realm and Buffers as their base kind', () => {
    const foreign = runInNewContext('new Float32Array([1.5, 2.5])') as Float32Array;
    const back = decodeState(encodeState(foreign));
    expect(back).toBeInstanceOf(Float32Array);
    expect(Array.from(back as Float32Array)).toEqual([1.5, 2.5]);
    const fromBuffer = decodeState(encodeState(Buffer.from([1, 2, 3])));
    expect(Object.getPrototypeOf(fromBuffer)).toBe(Uint8Array.prototype);
  });

  it('gives every decoded TypedArray its own aligned buffer', () => {
    const encoded = encodeState([new Uint8Array([1]), new Float64Array([1, 2]), new BigInt64Array([-1n])]);
    const [, f64, i64] = decodeState(encoded) as [Uint8Array, Float64Array, BigInt64Array];
    expect(f64.buffer).not.toBe(encoded.buffer);
    expect(f64.byteOffset).toBe(0);
    expect(f64.buffer.byteLength).toBe(16);
    expect(i64[0]).toBe(-1n);
  });
});

describe('decodeState rejects what is not State, with RangeError', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['uint64 beyond 2^53', 'cf 0020000000000000', /^state: msgpack integer 9007199254740992 is outside the safe range; a bigint must use ext type 2 \(at byte 0\)$/],
    ['int64 at -2^53', 'd3 ffe0000000000000', /integer -9007199254740992 is outside the safe range/],
    ['int64 below -2^53', 'd3 ffc0000000000000', /outside the safe range/],
    ['an unknown ext type', 'd4 05 00', /unknown msgpack ext type 5/],
    ['a msgpack timestamp', 'd6 ff 00000001', /unknown msgpack ext type -1/],
    ['a map with an integer key', '81 01 c0', /^state: a map key is not a string \(at byte 1\)$/],
    ['a duplicate map key', '82 a1 61 01 a1 61 02', /^state: the map key "a" appears twice \(at byte 4\)$/],
    ['a "__proto__" map key', '81 a9 5f5f70726f746f5f5f c0', /the map key "__proto__" cannot be part of a State/],
    ['invalid UTF-8', 'a6 00000000 ed20', /^state: a string is not valid UTF-8 \(at byte 1\)$/],
    ['an encoded surrogate', 'a3 eda080', /not valid UTF-8/],
    ['an overlong encoding', 'a2 c0af', /not valid UTF-8/],
    ['invalid UTF-8 in a key', '81 a1 ff c0', /not valid UTF-8/],
    ['a bigint with a leading zero byte', 'd5 02 00 00', /leading zero/],
    ['a bigint "negative zero"', 'd4 02 01', /negative zero/],
    ['a bigint with a bad sign byte', 'd5 02 02 01', /sign byte/],
    ['an empty bigint ext', 'c7 00 02', /sign byte/],
    ['an unknown dtype', 'd5 01 0b 00', /unknown TypedArray dtype code 11/],
    ['a partial element', 'd6 01 05 00 00 00', /Int32Array data of 3 bytes/],
    ['an empty TypedArray ext', 'c7 00 01', /no dtype byte/],
    ['trailing bytes', 'c0 c0', /^state: 1 extra bytes after the document \(at byte 1\)$/],
    ['a truncated array', '92 01', /^state: an array of 2 items needs 2 more bytes, but only 1 are left \(at byte 1\)$/],
    ['a truncated inner array', '92 01 92', /^state\[1\]: an array of 2 items needs 2 more bytes, but only 0 are left/],
    ['a truncated string', 'a5 6162', /a string of 5 bytes needs 5 more bytes, but only 2 are left/],
    ['the never-used byte 0xc1', 'c1', /the byte 0xc1 is never used/],
    ['a huge declared array', 'dd ffffffff', /an array of 4294967295 items needs 4294967295 more bytes, but only 0 are left/],
    ['a huge declared binary', 'c6 ffffffff 00', /a binary of 4294967295 bytes/],
    ['nothing', '', /^state: a value needs 1 more bytes, but only 0 are left \(at byte 0\)$/],
    ['a deep path', '81 a1 61 92 c0 81 a1 62 c1', /^state\.a\[1\]\.b: the byte 0xc1 is never used in msgpack \(at byte 8\)$/],
  ];
  it.each(cases)('%s', (_name, h, message) => {
    expect(() => decodeState(bytes(h))).toThrow(RangeError);
    expect(() => decodeState(bytes(h))).toThrow(message);
  });

  it('nesting deeper than 512 levels', () => {
    const deep = new Uint8Array(600).fill(0x91);
    expect(() => decodeState(new Uint8Array([...deep, 0xc0]))).toThrow(/nested deeper than 512/);
  });

  it('a non-Uint8Array argument, with TypeError', () => {
    expect(() => decodeState('c0' as never)).toThrow(TypeError);
  });

  it('accepts what other writers may use: wide ints in range, float32, long headers, a plain bin', () => {
    expect(decodeState(bytes('d3 ffffffffffffffff'))).toBe(-1);
    expect(decodeState(bytes('cf 001fffffffffffff'))).toBe(2 ** 53 - 1);
    expect(decodeState(bytes('d3 ffe0000000000001'))).toBe(-(2 ** 53) + 1);
    expect(decodeState(bytes('cd 0001'))).toBe(1);
    expect(decodeState(bytes('ca 3fc00000'))).toBe(1.5);
    expect(decodeState(bytes('db 00000002 6869'))).toBe('hi');
    expect(decodeState(bytes('de 0001 a1 6b c3'))).toEqual({ k: true });
    expect(decodeState(bytes('a3 efbbbf'))).toBe('\uFEFF'); // a BOM is content, not stripped
    const input = bytes('c4 03 010203');
    const bin = decodeState(input) as Uint8Array;
    expect(bin).toBeInstanceOf(Uint8Array);
    expect(Array.from(bin)).toEqual([1, 2, 3]);
    expect(bin.buffer).not.toBe(input.buffer);
  });
});

describe('encodeState rejects what a step file cannot hold exactly, naming the path', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['undefined', { a: undefined }, /^state\.a is undefined/],
    ['an array hole', [1, , 2], /^state\[1\] is undefined/],
    ['a function', [() => 1], /^state\[0\] is function/],
    ['a Date', { d: new Date(0) }, /^state\.d is a Date/],
    ['a class instance', { c: new (class Thing {})() }, /^state\.c is a Thing/],
    ['a DataView', new DataView(new ArrayBuffer(1)), /^state is a DataView/],
    ['a lone surrogate in a key', { ['\uDC00']: 1 }, /lone surrogate/],
    ['a "__proto__" key', JSON.parse('{"a": {"__proto__": 1}}'), /^state\.a\.__proto__: the key "__proto__"/],
  ];
  it.each(cases)('%s', (_name, value, message) => {
    expect(() => encodeState(value)).toThrow(TypeError);
    expect(() => encodeState(value)).toThrow(message);
  });
});
