// The step file's envelope (FORMAT.md §2): key order, CRC32C trailer over
// every byte before it, step/name agreement, and what each check reports.
import { decode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointCorruptError, FORMAT_NAME, FORMAT_VERSION } from '../../src/index.js';
import { native } from '../../src/native.js';
import { decodeStepFile, encodeStepFile } from '../../src/checkpoint/step-file.js';
import { crc32cReference, reseal } from '../helpers/crc32c-reference.js';
import { difference, state } from '../helpers/state-arbitrary.js';

function reason(bytes: Uint8Array, step?: number): string {
  try {
    decodeStepFile(bytes, '/x/step_5.msgpack', step);
  } catch (err) {
    expect(err).toBeInstanceOf(CheckpointCorruptError);
    expect((err as CheckpointCorruptError).file).toBe('/x/step_5.msgpack');
    return (err as CheckpointCorruptError).reason;
  }
  throw new Error('expected the file to be rejected');
}

describe('the envelope', () => {
  it('is one msgpack map, keys in order, crc32c last as a uint32 over every byte before it', () => {
    const file = encodeStepFile(42, { position: 300 }, { loss: 0.5 }, 1_700_000_000_000);
    const env = decode(file) as Record<string, unknown>;
    expect(Object.keys(env)).toEqual(['format', 'version', 'step', 'created', 'metadata', 'payload', 'crc32c']);
    expect(env).toMatchObject({ format: FORMAT_NAME, version: FORMAT_VERSION, step: 42, created: 1_700_000_000_000 });
    expect(decode(env.payload as Uint8Array)).toEqual({ position: 300 });
    expect(decode(env.metadata as Uint8Array)).toEqual({ loss: 0.5 });
    expect(file[file.length - 5]).toBe(0xce);
    const crc = crc32cReference(file.subarray(0, file.length - 4));
    expect(env.crc32c).toBe(crc);
    expect(native().crc32c(file.subarray(0, file.length - 4))).toBe(crc);
  });

  it('round-trips state and metadata exactly (property)', () => {
    fc.assert(
      fc.property(state, state, fc.nat({ max: Number.MAX_SAFE_INTEGER }), (s, m, step) => {
        const back = decodeStepFile(encodeStepFile(step, s, m), 'f', step);
        expect(back.step).toBe(step);
        expect(difference(s, back.state)).toBeUndefined();
        expect(difference(m, back.metadata)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('reports each kind of damage by name', () => {
    const good = encodeStepFile(5, { a: 'hello' }, {});
    expect(reason(new Uint8Array(0))).toBe('the file is empty');
    expect(reason(good.subarray(0, good.length - 1))).toMatch(/not one complete msgpack document/);
    expect(reason(new Uint8Array([...good, 0]))).toMatch(/not one complete msgpack document/);
    expect(reason(new Uint8Array([0x93, 1, 2, 3]))).toBe('the envelope is not a map');
    const flipped = good.slice();
    flipped[Buffer.from(good).indexOf('hello')]! ^= 1; // still valid msgpack: only the CRC can tell
    expect(reason(flipped)).toMatch(/^CRC32C mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)$/);
    expect(reason(good, 6)).toBe('it holds step 5, but its name says 6');
    const other = good.slice();
    other[Buffer.from(good).indexOf('resumable') + 1] = 'E'.charCodeAt(0);
    expect(reason(reseal(other))).toMatch(/^format is "rEsumable-pipeline\/step"/);
    const v2 = good.slice();
    v2[Buffer.from(good).indexOf('version') + 7] = 2;
    expect(reason(reseal(v2))).toBe('format version 2 is not supported (this package reads version 1)');
    expect(reason(v2)).toMatch(/CRC32C mismatch/); // a flipped version byte is damage, not a newer format
    const badPayload = good.slice();
    badPayload[Buffer.from(good).indexOf('payload') + 9] = 0xc1; // first byte of the embedded document
    expect(reason(reseal(badPayload))).toMatch(/^the payload does not decode/);
  });
});

describe('FORMAT.md §12', () => {
  it('the worked example encodes to exactly the bytes the spec shows', () => {
    const bytes = encodeStepFile(7, { pos: 3, key: new Uint32Array([1]), n: -1n }, { loss: -0 }, 1_700_000_000_000);
    const hex = Buffer.from(bytes).toString('hex');
    expect(bytes.length).toBe(136);
    expect(hex.startsWith('87a6666f726d6174b7')).toBe(true); // map 7, "format", str 23
    expect(hex).toContain('a7637265617465' + '64cf0000018bcfe56800'); // "created" uint64 1700000000000
    expect(hex).toContain('c40f81a46c6f7373cb8000000000000000'); // metadata: {loss: -0} as float64 -0
    expect(hex).toContain('c41883a3706f7303a36b6579c7050106010000' + '00a16ed5020101'); // payload
    expect(hex.endsWith('a6637263333263cecd3744f2')).toBe(true); // "crc32c" uint32 0xcd3744f2
  });
});
