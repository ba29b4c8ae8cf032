// Corrupt files never crash a file source, never exhaust the heap and never
// throw an uncoded error: seeded corruptions of a valid Arrow file (cut short,
// bytes overwritten, the footer hit) and random JSON Lines either load and
// iterate, or fail with RP_SOURCE_INVALID / RP_RECORD_INVALID naming the file.
// (A crash or an out-of-memory kill fails the test's process.)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Bool, Field, FixedSizeList, Float32, List, RecordBatch, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ArrowSource, DataLoader, JsonlSource } from '../src/index.js';
import { tempDir } from './helpers/temp-dir.js';

/** A small deterministic generator (the tests replay exactly). */
function lcg(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
}

function arrowFile(): Buffer {
  const batch = (k: number) =>
    new Table({
      i: vectorFromArray(Int32Array.from({ length: 20 }, (_, j) => k * 20 + j)),
      s: vectorFromArray(Array.from({ length: 20 }, (_, j) => `row ${k}-${j}`), new Utf8()),
      b: vectorFromArray(Array.from({ length: 20 }, (_, j) => j % 3 === 0), new Bool()),
      l: vectorFromArray(Array.from({ length: 20 }, (_, j) => Float32Array.from({ length: j % 4 }, (_, m) => m)), new List(new Field('item', new Float32(), false))),
      f: vectorFromArray(Array.from({ length: 20 }, (_, j) => [j, j + 1]), new FixedSizeList(2, new Field('item', new Float32(), false))),
    }).batches[0]!;
  return Buffer.from(tableToIPC(new Table([batch(0), batch(1), batch(2)] as RecordBatch[]), 'file'));
}

/** Opens and reads every batch; returns 'ok' or the error's code, and closes the loader. */
function readAll(open: () => unknown, seed: number): string {
  let loader: DataLoader | undefined;
  try {
    loader = new DataLoader(open() as never, { batchSize: 1 + (seed % 7), seed });
    for (const batch of loader) void batch;
    return 'ok';
  } catch (e) {
    return String((e as { code?: unknown }).code ?? `uncoded ${(e as Error).name}: ${(e as Error).message}`);
  } finally {
    loader?.close();
  }
}

describe('file sources on corrupt files', () => {
  it('ArrowSource: every corruption loads or is RP_SOURCE_INVALID', () => {
    const good = arrowFile();
    const dir = tempDir('rp-arrow-corrupt-');
    const goodPath = join(dir, 'good.arrow');
    writeFileSync(goodPath, good);
    expect(readAll(() => ArrowSource.open(goodPath), 1)).toBe('ok');
    const rnd = lcg(2024);
    const outcomes = new Map<string, number>();
    for (let t = 0; t < 250; t++) {
      const bytes = Buffer.from(good);
      let file: Buffer = bytes;
      const kind = rnd(3);
      if (kind === 0) file = bytes.subarray(0, rnd(bytes.length));
      else if (kind === 1) for (let k = rnd(8) + 1; k > 0; k--) bytes[rnd(bytes.length)] = rnd(256);
      else for (let k = rnd(4) + 1; k > 0; k--) bytes[bytes.length - 10 - rnd(Math.min(bytes.length - 10, 1500))] = rnd(256);
      // A file per case: a loader may still read ahead in the one before.
      const path = join(dir, `case-${t}.arrow`);
      writeFileSync(path, file);
      const outcome = readAll(() => ArrowSource.open(path), t);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (outcome !== 'ok' && outcome !== 'RP_SOURCE_INVALID') throw new Error(`case ${t} (kind ${kind}): ${outcome}`);
    }
    // Both outcomes occur, so the cases are not all trivially refused.
    expect(outcomes.get('ok')).toBeGreaterThan(10);
    expect(outcomes.get('RP_SOURCE_INVALID')).toBeGreaterThan(10);
  });

  it('JsonlSource: random lines load or fail with RP_SOURCE_INVALID / RP_RECORD_INVALID', () => {
    const dir = tempDir('rp-jsonl-corrupt-');
    const rnd = lcg(7);
    const alphabet = ['{', '}', '[', ']', '"', ',', ':', '1', 'a', '\n', '\n', '\r', ' ', '\\', 'é', '\u{1F600}', 'null', 'true'];
    const outcomes = new Map<string, number>();
    for (let t = 0; t < 300; t++) {
      let text = '';
      if (rnd(2) === 0) {
        // Valid records between line endings and blank lines of every kind.
        const ends = ['\n', '\r\n', '\n\n', '\n \t\r\n'];
        for (let k = rnd(12) + 1; k > 0; k--) text += JSON.stringify({ k, s: 'é😀'.slice(0, rnd(3)), a: [rnd(9), null] }) + ends[rnd(ends.length)]!;
      } else {
        for (let k = rnd(120); k > 0; k--) text += alphabet[rnd(alphabet.length)];
      }
      const bytes = Buffer.from(text);
      if (rnd(6) === 0 && bytes.length > 0) bytes[rnd(bytes.length)] = rnd(256);
      const path = join(dir, `case-${t}.jsonl`);
      writeFileSync(path, bytes);
      const parse = rnd(2) === 0;
      const outcome = readAll(() => JsonlSource.open(path, { parse }), t);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (!['ok', 'RP_SOURCE_INVALID', 'RP_RECORD_INVALID'].includes(outcome)) throw new Error(`case ${t}: ${outcome}`);
    }
    expect(outcomes.get('ok')).toBeGreaterThan(5);
    expect(outcomes.get('RP_RECORD_INVALID')).toBeGreaterThan(5);
  });
});
