// packSequences: 'concat' yields every token of every row exactly once per
// epoch, in the loader's order, cut at sequence ends; 'firstFit' loses no
// token and keeps each piece of a row whole; both resume byte for byte from a
// state taken after any batch (epoch edges included), in this process and in
// a new one; bad options and other options' states are refused.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArraySource, DataLoader, encodeState, IncompatibleStateError, packSequences, type PackedBatch, type Ragged } from '../src/index.js';
import { tempDir } from './helpers/temp-dir.js';
import { tokenRows } from './helpers/token-rows.js';

const ROOT = join(__dirname, '..');

type C = { t: Ragged<Int32Array> };
const data = tokenRows(300, 1);
const source = () => new ArraySource({ t: data }) as unknown as ArraySource<C>;
const loaderOptions = { batchSize: 16, seed: 3, numEpochs: 3 };

/** The rows in the order the loader yields them, over its epochs. */
function rowsInOrder(): Int32Array[] {
  const rows: Int32Array[] = [];
  for (const b of new DataLoader(source(), loaderOptions)) {
    for (let j = 0; j < b.indices.length; j++) rows.push(b.t.values.subarray(b.t.offsets[j], b.t.offsets[j + 1]));
  }
  return rows;
}

/** Each batch's segments: [tokens, positions] per maximal run of one segment id in a sequence. */
function segments(b: PackedBatch, length: number): { tokens: number[]; positions: number[] }[] {
  const out: { tokens: number[]; positions: number[] }[] = [];
  for (let q = 0; q * length < b.tokens.length; q++) {
    let prev = 0;
    for (let k = q * length; k < (q + 1) * length; k++) {
      const id = b.segmentIds[k]!;
      if (id === 0) {
        expect(b.tokens[k]).toBe(-1); // padId
        expect(b.positions[k]).toBe(0);
        prev = -1; // no piece may follow padding
        continue;
      }
      if (id !== prev) {
        // Segment ids count 1, 2, ... from a sequence's start, padding (0) only after its last piece.
        expect(id).toBe(prev + 1);
        out.push({ tokens: [], positions: [] });
      }
      out[out.length - 1]!.tokens.push(Number(b.tokens[k]));
      out[out.length - 1]!.positions.push(b.positions[k]!);
      prev = id;
    }
  }
  return out;
}

function bytes(b: PackedBatch): Buffer {
  return Buffer.concat([b.tokens, b.segmentIds, b.positions].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
}

describe('packSequences', () => {
  it("concat: every token of every row exactly once per epoch, in order, cut every length tokens", () => {
    for (const length of [1, 7, 64, 500]) {
      const packer = packSequences(new DataLoader(source(), loaderOptions), { column: 't', length, strategy: 'concat', batchSize: 3, padId: -1 });
      const stream: number[] = [];
      let batches = 0;
      for (const b of packer) {
        expect(b.tokens.length).toBe(3 * length);
        for (let q = 0; q < 3; q++) {
          const ids = b.segmentIds.subarray(q * length, (q + 1) * length);
          // Segment ids count 1, 2, ... from each sequence's start; padding (0) only at the end.
          let expectId = 1;
          for (let k = 0; k < length; k++) {
            if (ids[k] === 0) {
              expect(Array.from(ids.subarray(k)).every((x) => x === 0)).toBe(true);
              break;
            }
            if (k > 0 && ids[k] !== ids[k - 1]) expectId++;
            expect(ids[k]).toBe(expectId);
          }
        }
        for (const seg of segments(b, length)) {
          stream.push(...seg.tokens);
          // Positions run 0, 1, ... in each piece; a piece is consecutive tokens of one row.
          expect(seg.positions).toEqual(seg.positions.map((_, i) => i));
          expect(seg.tokens.every((t, i) => i === 0 || t === seg.tokens[i - 1]! + 1)).toBe(true);
        }
        batches++;
      }
      const want = rowsInOrder().flatMap((r) => Array.from(r));
      expect(stream).toEqual(want);
      expect(batches).toBe(Math.ceil(want.length / (3 * length)));
    }
  });

  it('firstFit: no token is lost or repeated, each piece of a row stays whole, and bins fill', () => {
    for (const [length, bins] of [
      [40, 8],
      [100, 64],
      [13, 4],
    ] as const) {
      const packer = packSequences(new DataLoader(source(), loaderOptions), { column: 't', length, strategy: 'firstFit', batchSize: 4, bins, padId: -1 });
      const pieces: string[] = [];
      let tokens = 0;
      let slots = 0;
      for (const b of packer) {
        slots += b.tokens.length;
        for (const seg of segments(b, length)) {
          expect(seg.positions).toEqual(seg.positions.map((_, i) => i));
          expect(seg.tokens.every((t, i) => i === 0 || t === seg.tokens[i - 1]! + 1)).toBe(true);
          pieces.push(seg.tokens.join());
          tokens += seg.tokens.length;
        }
      }
      // The rows in order, cut into pieces of at most `length`.
      const want: string[] = [];
      for (const r of rowsInOrder()) for (let a = 0; a < r.length; a += length) want.push(Array.from(r.subarray(a, a + length)).join());
      expect(pieces.sort()).toEqual(want.sort());
      if (length === 100) expect(tokens / slots).toBeGreaterThan(0.9);
    }
  });

  it.each(['concat', 'firstFit'] as const)('%s: resumes byte for byte after any batch, across epoch edges', (strategy) => {
    const options = { column: 't', length: 50, strategy, batchSize: 2, bins: 8 } as const;
    const reference = packSequences(new DataLoader(source(), loaderOptions), options);
    const out: Buffer[] = [];
    const states = [reference.getState()];
    for (const b of reference) {
      out.push(bytes(b));
      states.push(reference.getState());
    }
    expect(out.length).toBeGreaterThan(20);
    for (let k = 0; k < states.length; k++) {
      expect(encodeState(states[k]).length).toBeLessThan(1024);
      const resumed = packSequences(new DataLoader(source(), loaderOptions), options);
      resumed.setState(states[k]!);
      const rest = [...resumed].map(bytes);
      expect(rest.length).toBe(out.length - k);
      rest.forEach((r, j) => {
        if (!r.equals(out[k + j]!)) throw new Error(`${strategy}: batch ${k + j} after resuming at ${k} differs`);
      });
    }
  });

  it.each(['concat', 'firstFit'] as const)('%s: resumes in a new process', (strategy) => {
    const options = { column: 't', length: 37, strategy, batchSize: 3, bins: 6 } as const;
    const reference = packSequences(new DataLoader(source(), loaderOptions), options);
    const out: Buffer[] = [];
    const states = [];
    for (const b of reference) {
      out.push(bytes(b));
      states.push(reference.getState());
    }
    const k = fc.sample(fc.integer({ min: 0, max: out.length - 2 }), { numRuns: 1, seed: strategy.length })[0]!;
    const dir = tempDir('rp-pack-');
    const stateFile = join(dir, 'state.bin');
    writeFileSync(stateFile, encodeState(states[k]));
    const script = join(dir, 'child.ts');
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { ArraySource, DataLoader, decodeState, packSequences } from ${JSON.stringify(join(ROOT, 'src/index.ts'))};
import { tokenRows } from ${JSON.stringify(join(ROOT, 'test/helpers/token-rows.ts'))};
const packer = packSequences(new DataLoader(new ArraySource({ t: tokenRows(300, 1) }), ${JSON.stringify(loaderOptions)}), ${JSON.stringify(options)});
packer.setState(decodeState(readFileSync(${JSON.stringify(stateFile)})));
for (const b of packer) {
  const h = createHash('sha256');
  for (const a of [b.tokens, b.segmentIds, b.positions]) h.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  console.log(h.digest('hex'));
}
`,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, VITEST: undefined } });
    expect(child.stderr).toBe('');
    const { createHash } = require('node:crypto') as typeof import('node:crypto');
    const want = out.slice(k + 1).map((b) => createHash('sha256').update(b).digest('hex'));
    expect(child.stdout.trim().split('\n')).toEqual(want);
  });

  it('refuses bad options, a non-ragged column and states of other options', () => {
    const loader = () => new DataLoader(source(), loaderOptions);
    const make = (o: object) => () => packSequences(loader(), { column: 't', length: 8, strategy: 'concat', batchSize: 2, ...o } as never);
    expect(make({ length: 0 })).toThrow(expect.objectContaining({ code: 'RP_INVALID_ARGUMENT', message: expect.stringMatching(/options\.length/) }));
    expect(make({ strategy: 'best' })).toThrow(/options\.strategy/);
    expect(make({ strategy: 'firstFit', bins: 3 })).toThrow(/options\.bins must be a multiple of batchSize/);
    expect(make({ typo: 1 })).toThrow(/options\.typo is not a packSequences option/);
    expect(() => packSequences({} as never, { column: 't', length: 8, strategy: 'concat', batchSize: 2 })).toThrow(/loader must be a CheckpointableIterator/);
    const fixed = new DataLoader(new ArraySource({ x: { data: new Float32Array(10), shape: [10] } }), { batchSize: 4 });
    expect(() => packSequences(fixed, { column: 'x', length: 8, strategy: 'concat', batchSize: 2 }).next()).toThrow(/the batches' "x" must be a ragged column/);
    const state = make({})().getState();
    expect(() => make({ length: 9 })().setState(state)).toThrow(IncompatibleStateError);
    expect(() => make({ strategy: 'firstFit', bins: 64 })().setState(state)).toThrow(IncompatibleStateError);
    expect(() => make({})().setState({ ...(state as object), row: -1 } as never)).toThrow(expect.objectContaining({ code: 'RP_STATE_INVALID' }));
  });
});
