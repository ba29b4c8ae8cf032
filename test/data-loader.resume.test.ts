// Stop anywhere, save, resume: in this process, in a new process, and with
// another shard count (elastic). Every comparison is on bytes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DataLoader, decodeState, encodeState, PipelineCheckpoint, random, type State } from '../src/index.js';
import { caseArbitrary, collect, runLength, stopPoints } from './helpers/loader-arbitraries.js';
import { caseLoader, caseToJson, frames, type LoaderCase, serializeBatch } from './helpers/loader-cases.js';
import { epochOrder, expectedBatches } from './helpers/loader-oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'rp-loader-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = join(__dirname, '..');

function epochOf(value: unknown): number {
  const v = value as { epoch: number; batch?: { epoch: number } };
  return v.batch !== undefined ? v.batch.epoch : v.epoch;
}

function roundTrip(state: State): State {
  return decodeState(encodeState(state));
}

describe('DataLoader resume', () => {
  it('resumes at, before and after every epoch end and after the last batch, byte for byte (property)', () => {
    fc.assert(
      fc.property(caseArbitrary({ sources: ['array', 'records', 'npy'], maxN: 40 }), fc.nat(), (c, pick) => {
        const total = runLength(c);
        const reference = caseLoader(c, dir);
        const ref = collect(reference, total);
        reference.close();
        const refBytes = ref.values.map(serializeBatch);
        const points = stopPoints(ref.values.map(epochOf), total);
        for (const k of points) {
          // Stop a live loader after k batches: prefetched batches must not count.
          const stopped = caseLoader(c, dir, false);
          collect(stopped, k);
          const saved = roundTrip(stopped.getState());
          expect(saved).toEqual(ref.states[k]);

          const resumed = caseLoader({ ...c, prefetch: (c.prefetch + 1 + (pick % 3)) % 5 }, dir, false);
          resumed.setState(saved);
          const rest = collect(resumed, total - k);
          expect(rest.values.length).toBe(total - k);
          rest.values.forEach((v, i) => expect(serializeBatch(v).equals(refBytes[k + i]!)).toBe(true));
          if (c.numEpochs !== Infinity) expect(resumed.next().done).toBe(true);
          resumed.close();

          // The stopped loader itself jumps to another point, dropping what it prefetched.
          const j = points[(points.indexOf(k) + 1 + (pick % points.length)) % points.length]!;
          stopped.setState(roundTrip(ref.states[j] as State));
          const jumped = collect(stopped, Math.min(3, total - j));
          jumped.values.forEach((v, i) => expect(serializeBatch(v).equals(refBytes[j + i]!)).toBe(true));
          expect(stopped.getState()).toEqual(ref.states[j + jumped.values.length]);
          stopped.close();
        }
      }),
      { numRuns: 200 },
    );
  });

  it('resumes with another shard count: 4 shards, then 3 or 5, each record exactly once per epoch (property)', () => {
    const arb = fc.record({
      c: caseArbitrary({ sources: ['records'], maxN: 70 }),
      newCount: fc.oneof(fc.constantFrom(3, 5), fc.integer({ min: 1, max: 6 })),
      stepsFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(arb, ({ c: base, newCount, stepsFrac }) => {
        const c: LoaderCase = {
          ...base,
          shardCount: 4,
          numEpochs: 2,
          map: 'none',
          dropRemainder: base.dropRemainder && base.n >= 6 * base.batchSize,
        };
        const epochs = 2;
        const firstSteps = expectedBatches(c, 0).length;
        const k = Math.floor(stepsFrac * (firstSteps + 1));
        const seen = Array.from({ length: epochs }, () => new Array<number>(c.n).fill(0));
        const record = (b: { epoch: number; indices: Uint32Array }) => {
          for (const i of b.indices) seen[b.epoch]![i]! += 1;
        };
        // Phase 1: 4 shards, k steps each; their states must be identical.
        const states: State[] = [];
        for (let s = 0; s < 4; s++) {
          const loader = caseLoader({ ...c, shardIndex: s });
          collect(loader, k).values.forEach((b) => record(b as { epoch: number; indices: Uint32Array }));
          states.push(roundTrip(loader.getState()));
          loader.close();
        }
        for (const s of states) expect(s).toEqual(states[0]);
        const cursor = states[0] as { epoch: number; position: number };
        // Phase 2: newCount shards resume from that one state.
        const resumedConfig = { ...c, shardCount: newCount };
        for (let s = 0; s < newCount; s++) {
          const loader = caseLoader({ ...resumedConfig, shardIndex: s });
          loader.setState(states[0]!);
          const rest = collect(loader, 10_000);
          expect(rest.ended).toBe(true);
          const expected = expectedBatches(resumedConfig, s, cursor);
          expect(rest.values.map((b) => Array.from((b as { indices: Uint32Array }).indices))).toEqual(expected.map((e) => e.indices));
          rest.values.forEach((b) => record(b as { epoch: number; indices: Uint32Array }));
          loader.close();
        }
        // Exactly once per epoch (dropRemainder: exactly the positions of whole rounds).
        const S1 = 4 * c.batchSize;
        const S2 = newCount * c.batchSize;
        for (let e = 0; e < epochs; e++) {
          const order = epochOrder(c, e);
          const want = new Array<number>(c.n).fill(0);
          let kept: number[];
          if (!c.dropRemainder) kept = Array.from({ length: c.n }, (_, p) => p);
          else if (e < cursor.epoch) kept = range(0, Math.floor(c.n / S1) * S1);
          else if (e > cursor.epoch) kept = range(0, Math.floor(c.n / S2) * S2);
          else kept = [...range(0, cursor.position), ...range(cursor.position, cursor.position + Math.floor((c.n - cursor.position) / S2) * S2)];
          for (const p of kept) want[order[p]!] = 1;
          expect(seen[e]).toEqual(want);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('resumes with another batch size and shard count (elastic batch size), each record exactly once per epoch (property)', () => {
    const arb = fc.record({
      c: caseArbitrary({ sources: ['records'], maxN: 70 }),
      newBatchSize: fc.integer({ min: 1, max: 12 }),
      newCount: fc.integer({ min: 1, max: 5 }),
      stepsFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    let changedSize = 0;
    fc.assert(
      fc.property(arb, ({ c: base, newBatchSize, newCount, stepsFrac }) => {
        const c: LoaderCase = { ...base, shardCount: 2, numEpochs: 2, map: 'none' };
        // dropRemainder needs a whole round per epoch under both configurations.
        c.dropRemainder = base.dropRemainder && c.n >= 2 * c.batchSize && c.n >= newCount * newBatchSize;
        if (newBatchSize !== c.batchSize) changedSize += 1;
        const epochs = 2;
        const k = Math.floor(stepsFrac * (expectedBatches(c, 0).length + 1));
        const seen = Array.from({ length: epochs }, () => new Array<number>(c.n).fill(0));
        const record = (b: { epoch: number; indices: Uint32Array }) => {
          for (const i of b.indices) seen[b.epoch]![i]! += 1;
        };
        const states: State[] = [];
        for (let s = 0; s < 2; s++) {
          const loader = caseLoader({ ...c, shardIndex: s });
          collect(loader, k).values.forEach((b) => record(b as { epoch: number; indices: Uint32Array }));
          states.push(roundTrip(loader.getState()));
          loader.close();
        }
        expect(states[1]).toEqual(states[0]);
        expect(Object.keys((states[0] as { fingerprint: object }).fingerprint)).not.toContain('batchSize');
        const cursor = states[0] as { epoch: number; position: number };
        const resumedConfig = { ...c, batchSize: newBatchSize, shardCount: newCount };
        for (let s = 0; s < newCount; s++) {
          const loader = caseLoader({ ...resumedConfig, shardIndex: s });
          loader.setState(states[0]!);
          const rest = collect(loader, 10_000);
          expect(rest.ended).toBe(true);
          const expected = expectedBatches(resumedConfig, s, cursor);
          expect(rest.values.map((b) => Array.from((b as { indices: Uint32Array }).indices))).toEqual(expected.map((e) => e.indices));
          rest.values.forEach((b) => record(b as { epoch: number; indices: Uint32Array }));
          loader.close();
        }
        const S1 = 2 * c.batchSize;
        const S2 = newCount * newBatchSize;
        for (let e = 0; e < epochs; e++) {
          const order = epochOrder(c, e);
          const want = new Array<number>(c.n).fill(0);
          let kept: number[];
          if (!c.dropRemainder) kept = range(0, c.n);
          else if (e < cursor.epoch) kept = range(0, Math.floor(c.n / S1) * S1);
          else if (e > cursor.epoch) kept = range(0, Math.floor(c.n / S2) * S2);
          else kept = [...range(0, cursor.position), ...range(cursor.position, cursor.position + Math.floor((c.n - cursor.position) / S2) * S2)];
          for (const p of kept) want[order[p]!] = 1;
          expect(seen[e]).toEqual(want);
        }
      }),
      { numRuns: 200 },
    );
    expect(changedSize).toBeGreaterThan(100);
  });

  it('reads states saved while batchSize was in the fingerprint, whatever batchSize they name', () => {
    const source = { length: 23, get: (i: number) => i };
    const a = new DataLoader(source, { batchSize: 4, seed: 3 });
    a.next();
    a.next();
    const saved = a.getState() as { epoch: number; position: number; fingerprint: Record<string, unknown> };
    expect(saved.position).toBe(8);
    const old = { ...saved, fingerprint: { ...saved.fingerprint, batchSize: 4 } };
    const b = new DataLoader(source, { batchSize: 5, seed: 3 });
    b.setState(old);
    const order = epochOrder({ n: 23, batchSize: 5, shardCount: 1, dropRemainder: false, numEpochs: 1, seed: 3, shuffle: true }, 0);
    expect(Array.from(b.next().value!.indices)).toEqual(Array.from(order.subarray(8, 13)));
    // A malformed batchSize in an old state is still refused, naming the field.
    expect(() => b.setState({ ...old, fingerprint: { ...old.fingerprint, batchSize: 0 } })).toThrow(/state\.fingerprint\.batchSize/);
    a.close();
    b.close();
  });

  it('reproduces map() randomness after a resume with nothing stored', () => {
    const source = { length: 37, get: (i: number) => i };
    const augment = (batch: number[], ctx: { key: random.Key }) => {
      const noise = random.bits(ctx.key, batch.length);
      return batch.map((v, j) => v + (noise[j]! % 1000) / 1000);
    };
    const options = { batchSize: 5, numEpochs: 3, seed: 12, map: augment };
    const uninterrupted = [...new DataLoader(source, options)];
    const first = new DataLoader(source, { ...options, prefetch: 4 });
    const head = [first.next().value!, first.next().value!, first.next().value!, first.next().value!, first.next().value!, first.next().value!, first.next().value!, first.next().value!, first.next().value!];
    const resumed = new DataLoader(source, { ...options, prefetch: 0 });
    resumed.setState(roundTrip(first.getState()));
    expect([...head, ...resumed]).toEqual(uninterrupted);
    first.close();
  });

  it('a finished run stays finished after a resume', () => {
    const source = { length: 10, get: (i: number) => i };
    const a = new DataLoader(source, { batchSize: 3, numEpochs: 2 });
    expect([...a].length).toBe(8);
    expect(a.getState()).toMatchObject({ epoch: 2, position: 0 });
    const b = new DataLoader(source, { batchSize: 3, numEpochs: 2 });
    b.setState(a.getState());
    expect(b.next().done).toBe(true);
    // ...unless the new loader runs more epochs: then it continues with epoch 2.
    const c = new DataLoader(source, { batchSize: 3, numEpochs: 3 });
    c.setState(a.getState());
    expect([...c].map((x) => x.epoch)).toEqual([2, 2, 2, 2]);
  });

  it('resumes in a new process through PipelineCheckpoint, byte for byte', async () => {
    const seed = Date.now() % 1_000_000;
    const cases = fc.sample(caseArbitrary({ sources: ['array', 'records', 'npy'], maxN: 50 }), { numRuns: 60, seed });
    const entries: Array<{ case: string; checkpoints: string; limit: number; out: string }> = [];
    const expected: Array<{ frames: Buffer; state: State; label: string }> = [];
    for (const [i, c] of cases.entries()) {
      const total = runLength(c);
      const reference = caseLoader(c, dir);
      const ref = collect(reference, total);
      reference.close();
      const points = stopPoints(ref.values.map(epochOf), total);
      const stops = new Set([points[i % points.length]!, Math.floor((((i * 7919) % 101) / 100) * total)]);
      for (const k of stops) {
        const checkpoints = join(dir, `ckpt-${i}-${k}`);
        const stopped = caseLoader(c, dir, false);
        collect(stopped, k);
        const checkpoint = new PipelineCheckpoint(checkpoints);
        // save() captures the state synchronously; the loader may run on meanwhile.
        const saving = checkpoint.save(stopped, { step: k, metadata: { case: i } });
        stopped.next();
        stopped.close();
        await saving;
        await checkpoint.close();
        entries.push({ case: caseToJson(c), checkpoints, limit: total - k, out: join(dir, `out-${i}-${k}`) });
        expected.push({ frames: frames(ref.values.slice(k)), state: ref.states[total] as State, label: `case ${i} (${caseToJson(c)}) stop ${k}` });
      }
    }
    // Everything is restored by one fresh process.
    const manifest = join(dir, 'manifest.json');
    writeFileSync(manifest, JSON.stringify({ npyDir: dir, entries }));
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'test/fixtures/loader-resume-child.ts'), manifest], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    entries.forEach((e, i) => {
      const got = readFileSync(e.out);
      if (!got.equals(expected[i]!.frames)) throw new Error(`resumed stream differs (sample seed ${seed}): ${expected[i]!.label}`);
      expect(decodeState(readFileSync(`${e.out}.state`))).toEqual(expected[i]!.state);
    });
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
