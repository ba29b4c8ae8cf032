// Fault injection: random and mutated bytes fed to the decoders, and what
// decodes fed to setState through restore. Only typed errors, never a crash,
// and a refused state leaves the iterator as it was.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ArraySource, CheckpointCorruptError, DataLoader, decodeState, encodeState, IncompatibleStateError, PipelineCheckpoint, type State } from '../../../src/index.js';
import { assertState } from '../../../src/iterator/state.js';
import { decodeStepFile, encodeStepFile } from '../../../src/checkpoint/step-file.js';
import { reseal } from '../../helpers/crc32c-reference.js';
import { Counter, HalfApplying } from '../../helpers/counter.js';
import { state } from '../../helpers/state-arbitrary.js';

const INTERESTING = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xc0, 0xc1, 0xc4, 0xc6, 0xc7, 0xc9, 0xcb, 0xcf, 0xd3, 0xd4, 0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xff];

type Mutation = (bytes: Uint8Array) => Uint8Array;

/** One random edit: flip, overwrite with an interesting byte, insert, delete, truncate or duplicate. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, mask]): Mutation => (b) => {
    const out = b.slice();
    if (out.length > 0) out[at % out.length]! ^= mask;
    return out;
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...INTERESTING)).map(([at, value]): Mutation => (b) => {
    const out = b.slice();
    if (out.length > 0) out[at % out.length] = value;
    return out;
  }),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 9 })).map(([at, extra]): Mutation => (b) => {
    const i = at % (b.length + 1);
    return new Uint8Array([...b.subarray(0, i), ...extra, ...b.subarray(i)]);
  }),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 16 })).map(([at, n]): Mutation => (b) => {
    const i = at % (b.length + 1);
    return new Uint8Array([...b.subarray(0, i), ...b.subarray(i + n)]);
  }),
  fc.nat().map((at): Mutation => (b) => b.slice(0, at % (b.length + 1))),
  fc.tuple(fc.nat(), fc.nat()).map(([from, to]): Mutation => (b) => {
    const i = from % (b.length + 1);
    const j = to % (b.length + 1);
    return new Uint8Array([...b.subarray(0, j), ...b.subarray(Math.min(i, j), Math.max(i, j)), ...b.subarray(j)]);
  }),
);

const mutated = (base: fc.Arbitrary<Uint8Array>) =>
  fc.tuple(base, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([b, ms]) => ms.reduce((acc, m) => m(acc), b));

/** decodeState must give a State or a RangeError; nothing else. */
function decodeOrRangeError(bytes: Uint8Array): State | undefined {
  try {
    const value = decodeState(bytes);
    assertState(value);
    return value;
  } catch (err) {
    expect(err).toBeInstanceOf(RangeError);
    return undefined;
  }
}

describe('the decoders take any bytes', () => {
  it('random bytes: decodeStepFile throws only CheckpointCorruptError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        expect(() => decodeStepFile(bytes, 'f', 1)).toThrow(CheckpointCorruptError);
      }),
      { numRuns: 3000 },
    );
  });

  it('random bytes: decodeState gives a State or a RangeError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => void decodeOrRangeError(bytes)), { numRuns: 5000 });
  });

  it('mutated State encodings: a State or a RangeError', () => {
    fc.assert(fc.property(mutated(state.map((s) => encodeState(s))), (bytes) => void decodeOrRangeError(bytes)), { numRuns: 3000 });
  });

  it('mutated step files, resealed with a valid CRC: a StepFile or CheckpointCorruptError', () => {
    const files = fc.tuple(state, state).map(([s, m]) => encodeStepFile(3, s, m));
    fc.assert(
      fc.property(mutated(files), (bytes) => {
        try {
          const file = decodeStepFile(reseal(bytes), 'f', 3);
          assertState(file.state);
          assertState(file.metadata);
        } catch (err) {
          expect(err).toBeInstanceOf(CheckpointCorruptError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('setState gets whatever decodes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rp-fuzz-'));
  const ckpt = new PipelineCheckpoint(dir);
  afterAll(async () => {
    await ckpt.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Near-valid Counter states, so that some pass and some fail deep inside setState. */
  const nearValid: fc.Arbitrary<State> = fc.record({
    position: fc.oneof(fc.nat(), fc.double(), fc.constant(-1), state),
    seed: fc.oneof(fc.bigInt(), state),
    weights: fc.oneof(fc.float64Array({ minLength: 4, maxLength: 4 }), fc.float64Array(), state),
    reject: fc.oneof(fc.constant(false), fc.constant(true), state),
  });
  const states = fc.oneof(state, nearValid, mutated(state.map((s) => encodeState(s))).map((b) => decodeOrRangeError(b) ?? null));

  it('restore either succeeds or throws a TypeError/RangeError and leaves the iterator unchanged', async () => {
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(states, async (value) => {
        writeFileSync(join(dir, 'step_1.msgpack'), encodeStepFile(1, value, {}));
        for (const target of [new Counter(), new HalfApplying()]) {
          target.next();
          target.next();
          const before = encodeState(target.getState());
          try {
            await ckpt.restore(target, 1);
            accepted += 1;
          } catch (err) {
            refused += 1;
            expect([TypeError, RangeError]).toContain((err as Error).constructor);
            expect(Buffer.from(encodeState(target.getState())).equals(Buffer.from(before))).toBe(true);
          }
        }
      }),
      { numRuns: 400 },
    );
    expect(accepted).toBeGreaterThan(0); // the generator does reach the happy path
    expect(refused).toBeGreaterThan(0);
  });
});

describe('DataLoader.setState gets whatever decodes', () => {
  const source = new ArraySource({ x: { data: new Float32Array(100 * 2).map((_, i) => i), shape: [100, 2] } });
  const fingerprint = { n: 100, seed: 7, batchSize: 8, shuffle: true, dropRemainder: false };
  /**
   * Near-valid loader states: most fields right, one or more fuzzed. The right
   * values are weighted up so that some whole states are valid: unweighted,
   * about half of all 300-run passes had none and the test failed at random.
   */
  const right = <T>(arb: fc.Arbitrary<T>) => ({ arbitrary: arb, weight: 3 });
  const nearValid: fc.Arbitrary<State> = fc.record({
    version: fc.oneof(right(fc.constant(1)), fc.integer(), state),
    epoch: fc.oneof(right(fc.nat(3)), fc.double(), fc.constant(-1), state),
    position: fc.oneof(right(fc.nat(120)), fc.double(), fc.constant(-1), state),
    fingerprint: fc.oneof(
      right(fc.constant(fingerprint)),
      fc.record({
        n: fc.oneof(fc.constant(100), fc.nat(), state),
        seed: fc.oneof(fc.constant(7), fc.bigInt(), state),
        batchSize: fc.oneof(fc.constant(8), fc.nat(), state),
        shuffle: fc.oneof(fc.boolean(), state),
        dropRemainder: fc.oneof(fc.boolean(), state),
      }),
      state,
    ),
  });

  it('either resumes or throws a typed error and leaves the loader where it was', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.oneof(nearValid, state), (value) => {
        const loader = new DataLoader(source, { batchSize: 8, seed: 7, numEpochs: 3, prefetch: 1 });
        try {
          loader.next();
          const before = encodeState(loader.getState());
          try {
            loader.setState(value);
            accepted += 1;
          } catch (err) {
            refused += 1;
            expect([TypeError, RangeError, IncompatibleStateError]).toContain((err as Error).constructor);
            expect(Buffer.from(encodeState(loader.getState())).equals(Buffer.from(before))).toBe(true);
            const next = loader.next();
            expect(next.done).toBe(false);
          }
        } finally {
          loader.close();
        }
      }),
      { numRuns: 300 },
    );
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
