// Fault injection: a step file truncated to every length, and random bit
// flips. Every case is detected, and restoreLatest falls back to the step before.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CheckpointCorruptError, PipelineCheckpoint } from '../../../src/index.js';
import { decodeStepFile } from '../../../src/checkpoint/step-file.js';
import { Counter } from '../../helpers/counter.js';

let dir: string;
let ckpt: PipelineCheckpoint;
let good: Buffer;
const file = () => join(dir, 'step_2.msgpack');

beforeAll(async () => {
  vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  dir = mkdtempSync(join(tmpdir(), 'rp-corrupt-'));
  ckpt = new PipelineCheckpoint(dir);
  const counter = new Counter();
  counter.position = 1;
  await ckpt.save(counter, { step: 1, metadata: { note: 'the fallback' } });
  counter.position = 2;
  counter.seed = -(2n ** 80n);
  await ckpt.save(counter, { step: 2, metadata: { note: 'the victim', tags: ['x', 'y'] } });
  good = readFileSync(file());
});

afterAll(async () => {
  await ckpt.close();
  rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

/** Writes bytes as step 2, then checks both the explicit restore and the fallback. */
async function expectDetected(bytes: Uint8Array, label: string): Promise<void> {
  writeFileSync(file(), bytes);
  const counter = new Counter();
  const err = await ckpt.restore(counter, 2).catch((e: unknown) => e);
  expect(err, label).toBeInstanceOf(CheckpointCorruptError);
  expect((err as CheckpointCorruptError).file, label).toBe(file());
  expect(await ckpt.restoreLatest(counter), label).toBe(1);
  expect(counter.position, label).toBe(1);
}

describe('corruption is always detected', () => {
  it(`truncation to every length from 0 to the full size - 1`, async () => {
    expect(good.length).toBeGreaterThan(100);
    for (let length = 0; length < good.length; length++) await expectDetected(good.subarray(0, length), `length ${length}`);
    writeFileSync(file(), good);
    expect(await ckpt.restoreLatest(new Counter())).toBe(2);
  });

  it('every single-bit flip, at every bit of the file', () => {
    for (let bit = 0; bit < good.length * 8; bit++) {
      const bad = Uint8Array.from(good);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(() => decodeStepFile(bad, file(), 2), `bit ${bit}`).toThrow(CheckpointCorruptError);
    }
  });

  // Up to 5 flipped bits are caught by CRC-32C's Hamming distance of 6 at this
  // length (< 5243 bits); more flips can slip by with probability 2^-32 each.
  it('random flips of 1 to 8 bits, with fallback', async () => {
    expect(good.length * 8).toBeLessThan(5243);
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let trial = 0; trial < 200; trial++) {
      const bad = Uint8Array.from(good);
      const flips = 1 + rand(8);
      const bits = new Set<number>();
      while (bits.size < flips) bits.add(rand(good.length * 8));
      for (const bit of bits) bad[bit >> 3]! ^= 1 << (bit & 7);
      await expectDetected(bad, `trial ${trial}, bits ${[...bits].join(',')}`);
    }
  });
});
