// Fault injection: kill -9 at random moments. A child saves continuously
// (keep: 3) and prints "ack N" once save N has resolved; the parent kills it
// with SIGKILL at a random time, then checks that the directory restores and
// that the restored step is the last acknowledged one or the one in flight.
// Trials: RP_KILL_TRIALS (default 50; CI runs the default).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { inspectDirectory, PipelineCheckpoint, type State } from '../../../src/index.js';
import { Child } from '../../helpers/child-process.js';

const TRIALS = Number(process.env.RP_KILL_TRIALS ?? 50);

/** Checks a restored state against the formula the child used to build it. */
function checkState(value: State, step: number): void {
  const s = value as { step: number; length: number; payload: Float64Array; tag: string };
  expect(s.step).toBe(step);
  expect(s.tag).toBe(`step-${step}`);
  expect(s.payload).toBeInstanceOf(Float64Array);
  expect(s.payload.length).toBe(s.length);
  expect(s.length).toBe(1 + ((step * 7919) % 40000));
  for (let i = 0; i < s.length; i++) if (s.payload[i] !== step * 1e6 + i) throw new Error(`payload[${i}] of step ${step} is wrong`);
}

describe('kill -9 at a random moment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rp-kill-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`always restores, to at least the last acknowledged save (${TRIALS} trials)`, async () => {
    expect(Number.isInteger(TRIALS) && TRIALS > 0).toBe(true);
    const warn = vi.spyOn(process, 'emitWarning');
    let previous = 0;
    let killedMidSave = 0;
    try {
      for (let trial = 0; trial < TRIALS; trial++) {
        const child = Child.node('saver.cjs', ['loop', dir]);
        const ready = await child.waitFor((l) => l.startsWith('ready '));
        expect(Number(ready.slice(6)), `trial ${trial}: the child resumed from`).toBe(previous);
        // Anywhere from the first save (lock, temp cleanup) to several saves in.
        await new Promise((r) => setTimeout(r, Math.random() * 40));
        child.proc.kill('SIGKILL');
        const { signal } = await child.exited;
        expect(signal, `trial ${trial}: ${child.stderr}`).toBe('SIGKILL');

        const acks = child.lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.slice(4)));
        const lastAck = acks.length > 0 ? acks[acks.length - 1]! : previous;
        let restored: State = null;
        const reader = new PipelineCheckpoint(dir);
        const step = await reader.restoreLatest({ getState: () => restored, setState: (s) => void (restored = s) });
        // Null only while nothing was ever saved (a kill before the first save was durable).
        const got = step ?? 0;
        if (step === null) expect(lastAck, `trial ${trial}`).toBe(0);
        // Saves are serialised, so at most the one after the last ack was in flight.
        expect(got, `trial ${trial}: acked ${lastAck}`).toBeGreaterThanOrEqual(lastAck);
        expect(got, `trial ${trial}: acked ${lastAck}`).toBeLessThanOrEqual(lastAck + 1);
        if (step !== null) checkState(restored, step);
        if (got === lastAck + 1) killedMidSave += 1;
        previous = got;
      }
      // A rename never exposes a partial file: nothing was ever skipped as corrupt.
      expect(warn.mock.calls.filter((c) => (c[1] as { code?: string } | undefined)?.code === 'RP_CHECKPOINT_CORRUPT')).toEqual([]);
    } finally {
      warn.mockRestore();
    }
    const report = await inspectDirectory(dir);
    expect(report.steps.every((s) => s.valid)).toBe(true);
    // Kills between a save's durable point and its pruning can leave more than
    // `keep` files; the next writer's first completed save prunes them, and it
    // clears whatever temp files the last kill left.
    const writer = new PipelineCheckpoint(dir, { keep: 3 });
    await writer.save({ getState: () => ({ step: previous + 1 }), setState() {} }, { step: previous + 1 });
    await writer.close();
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    const newestThree = [...report.steps.map((s) => s.step), previous + 1].sort((a, b) => a - b).slice(-3);
    expect((await inspectDirectory(dir)).steps.map((s) => s.step)).toEqual(newestThree);
    console.log(
      `kill -9 loop: ${TRIALS} trials, last step ${previous}, ${killedMidSave} kills after a save was durable but before its ack, ` +
        `${report.steps.length} step files left (keep: 3)`,
    );
  }, 30_000 + TRIALS * 5_000);
});
