// JsonlSource: the core's line index (blank lines, "\r\n", no final newline),
// parsed batches equal to the records by index, raw bytes with parse: false,
// and a malformed line failing its batch with the file and line number.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataLoader, IncompatibleStateError, indexLines, JsonlSource, MappedFile, RecordDecodeError, SourceOpenError } from '../src/index.js';
import { tempDir } from './helpers/temp-dir.js';

function file(text: string | Uint8Array): string {
  const path = join(tempDir('rp-jsonl-'), 'data.jsonl');
  writeFileSync(path, text);
  return path;
}

function records(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({ id: i, name: `r${i}`, text: 'é✓😀'.repeat(i % 3) + 'x'.repeat(i % 17), tags: [i % 2 === 0, null, i / 4] }));
}

/** Every batch of a loader, in order. */
function all<T>(loader: DataLoader<never, T> | DataLoader): T[] {
  return [...(loader as Iterable<T>)];
}

describe('JsonlSource', () => {
  it('skips blank lines, reads "\\r\\n" endings and a missing final newline', () => {
    const path = file('\n{"a":1}\r\n\r\n  \t\n[2, 3]\n"x"\n\n4');
    const source = JsonlSource.open(path);
    expect(source.length).toBe(4);
    expect([1, 2, 3, 4].map((_, i) => source.lineNumber(i))).toEqual([2, 5, 6, 8]);
    const [batch] = all(new DataLoader(source, { batchSize: 10, shuffle: false }));
    expect(Array.from(batch as unknown[])).toEqual([{ a: 1 }, [2, 3], 'x', 4]);
  });

  it('gives shuffled batches equal to the records by index, parsed', () => {
    const recs = records(1000);
    const source = JsonlSource.open(file(recs.map((r) => JSON.stringify(r)).join('\n') + '\n'));
    const loader = new DataLoader(source, { batchSize: 37, seed: 9, numEpochs: 2 });
    let count = 0;
    for (const batch of loader) {
      const b = batch as unknown as unknown[] & { indices: Uint32Array };
      expect(b.length).toBe(b.indices.length);
      b.forEach((r, j) => expect(r).toEqual(recs[b.indices[j]!]));
      count += b.length;
    }
    expect(count).toBe(2000);
  });

  it('gives the raw bytes of each line with parse: false', () => {
    const lines = ['{"a":1}', ' [1, 2] ', '"é✓"', '{}'];
    const text = `${lines[0]}\r\n\n${lines[1]}\n${lines[2]}\r\n${lines[3]}`;
    const source = JsonlSource.open(file(text), { parse: false });
    const loader = new DataLoader(source, { batchSize: 3, seed: 1 });
    for (const batch of loader) {
      const { values, offsets } = (batch as unknown as { line: { values: Uint8Array; offsets: Int32Array } }).line;
      batch.indices.forEach((i, j) => {
        expect(Buffer.from(values.subarray(offsets[j]!, offsets[j + 1]!)).toString()).toBe(lines[i]);
      });
    }
  });

  it('fails the batch holding a malformed line, naming the file and the line', () => {
    const lines = ['{"a":1}', '', '{"b":2}', '{"c":', '[1]'];
    const path = file(lines.join('\n'));
    const loader = new DataLoader(JsonlSource.open(path), { batchSize: 2, shuffle: false });
    expect(Array.from(loader.next().value as unknown[])).toEqual([{ a: 1 }, { b: 2 }]);
    let error: RecordDecodeError | undefined;
    try {
      loader.next();
    } catch (e) {
      error = e as RecordDecodeError;
    }
    expect(error).toBeInstanceOf(RecordDecodeError);
    expect(error!.code).toBe('RP_RECORD_INVALID');
    expect(error!.file).toBe(path);
    expect(error!.line).toBe(4); // blank lines count
    expect(error!.message).toContain(`${path}: line 4 (record 2) is not valid JSON`);
    // The batch failed, so the state did not move.
    expect(loader.getState()).toMatchObject({ position: 2 });
  });

  it('names a line that is not UTF-8, and two malformed lines never merge into one record', () => {
    const bad = new Uint8Array([...Buffer.from('"ok"\n"'), 0xff, ...Buffer.from('"\n')]);
    const error = (() => {
      try {
        new DataLoader(JsonlSource.open(file(bad)), { batchSize: 2, shuffle: false }).next();
      } catch (e) {
        return e as RecordDecodeError;
      }
      return undefined;
    })();
    expect(error?.line).toBe(2);
    expect(error?.message).toMatch(/line 2 \(record 1\) is not valid UTF-8/);
    // "[1" and "2]" would parse as one array if the lines were joined.
    const loader = new DataLoader(JsonlSource.open(file('[1\n2]\n3,4\n')), { batchSize: 3, shuffle: false });
    expect(() => loader.next()).toThrow(/line 1 \(record 0\) is not valid JSON/);
  });

  it('refuses a file without records, and a missing file', () => {
    expect(() => JsonlSource.open(file('\n  \n\r\n'))).toThrow(expect.objectContaining({ code: 'RP_SOURCE_INVALID', message: expect.stringMatching(/holds no record/) }));
    const missing = join(tempDir('rp-jsonl-'), 'missing.jsonl');
    expect(() => JsonlSource.open(missing)).toThrow(SourceOpenError);
  });

  it('indexLines is public: offsets tile the file, ends exclude line endings', () => {
    const path = file('a\r\n\nbb\nc');
    const index = indexLines(MappedFile.open(path), { ends: true });
    expect(index.length).toBe(3);
    expect(Array.from(index.offsets, Number)).toEqual([0, 4, 7, 8]);
    expect(Array.from(index.ends!, Number)).toEqual([1, 6, 8]);
  });

  it('resumes exactly around epoch edges, over any shard count, with n in the fingerprint', () => {
    const recs = records(50);
    const path = file(recs.map((r) => JSON.stringify(r)).join('\n'));
    const options = { batchSize: 8, seed: 4, numEpochs: 3 };
    const reference = new DataLoader(JsonlSource.open(path), options);
    const states: unknown[] = [];
    const order: number[][] = [];
    for (const b of reference) {
      order.push(Array.from(b.indices));
      states.push(reference.getState());
    }
    const perEpoch = Math.ceil(50 / 8);
    for (const k of [perEpoch - 2, perEpoch - 1, perEpoch, 2 * perEpoch - 1]) {
      const resumed = new DataLoader(JsonlSource.open(path), options);
      resumed.setState(states[k] as never);
      const rest = [...resumed];
      expect(rest.map((b) => Array.from(b.indices))).toEqual(order.slice(k + 1));
      expect(rest.flatMap((b) => Array.from(b as unknown[]))).toEqual(order.slice(k + 1).flat().map((i) => recs[i]));
    }
    const k = 1;
    const seen: number[] = [];
    for (let shard = 0; shard < 2; shard++) {
      const l = new DataLoader(JsonlSource.open(path), { ...options, batchSize: 3, shardCount: 2, shardIndex: shard, numEpochs: 1 });
      l.setState(states[k] as never);
      for (const b of l) seen.push(...b.indices);
    }
    expect(seen.sort((a, b) => a - b)).toEqual(order.slice(k + 1, perEpoch).flat().sort((a, b) => a - b));
    expect(() => new DataLoader(JsonlSource.open(file('1\n2\n')), options).setState(states[0] as never)).toThrow(IncompatibleStateError);
  });
});
