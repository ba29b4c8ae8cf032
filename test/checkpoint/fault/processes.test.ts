// Fault injection with real processes: two writers on one directory, and a
// process that exits with a save in flight.
import { readdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { CheckpointLockedError, inspectDirectory, PipelineCheckpoint, type State } from '../../../src/index.js';
import { Child } from '../../helpers/child-process.js';
import { tempDir } from '../../helpers/temp-dir.js';

describe('two processes saving to one directory', () => {
  it('one gets CheckpointLockedError at once, and nothing is interleaved', async () => {
    const dir = tempDir();
    const writers = [Child.node('contender.cjs', ['race', dir, 'A']), Child.node('contender.cjs', ['race', dir, 'B'])];
    try {
      for (const w of writers) await w.waitFor((l) => l.includes('"ready"'));
      for (const w of writers) w.send('go');
      const firsts = await Promise.all(writers.map((w) => w.waitFor((l) => l.includes('"first"')).then((l) => JSON.parse(l) as { first: string; message?: string })));
      // Both have answered while the winner still holds the lock: the loser did not wait for it.
      const winners = firsts.filter((f) => f.first === 'ok');
      const losers = firsts.filter((f) => f.first !== 'ok');
      expect(winners).toHaveLength(1);
      expect(losers).toEqual([{ first: 'RP_CHECKPOINT_LOCKED', message: `checkpoint directory ${dir} is locked by another writer` }]);
      const winner = firsts[0]!.first === 'ok' ? 'A' : 'B';

      for (const w of writers) w.send('finish');
      const done = await Promise.all(writers.map((w) => w.waitFor((l) => l.includes('"done"')).then((l) => JSON.parse(l) as { done: number[] })));
      expect(done.map((d) => d.done.length).sort()).toEqual([0, 19]);
      for (const w of writers) expect((await w.exited).code).toBe(0);

      const report = await inspectDirectory(dir);
      expect(report.steps.map((s) => s.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(report.steps.every((s) => s.valid)).toBe(true);
      for (const { step } of report.steps) {
        let value: State = null;
        await new PipelineCheckpoint(dir).restore({ getState: () => value, setState: (s) => void (value = s) }, step);
        expect(value).toEqual({ writer: winner, step });
      }
      expect(report.tempFiles).toEqual([]);
    } finally {
      for (const w of writers) w.proc.kill('SIGKILL');
    }
  });

  it('a writer in this process is refused while another process holds the lock, and leaves its temp files alone', async () => {
    const dir = tempDir();
    const holder = Child.node('contender.cjs', ['hold', dir, 'H']);
    try {
      expect(await holder.waitFor((l) => l.includes('"holding"'))).toBe('{"holding":true}');
      const inFlight = `${dir}/.step_2.msgpack.00000000deadbeef.tmp`;
      writeFileSync(inFlight, 'the holder is writing this');
      const ckpt = new PipelineCheckpoint(dir);
      await expect(ckpt.save({ getState: () => 1, setState() {} }, { step: 2 })).rejects.toThrow(CheckpointLockedError);
      expect(readdirSync(dir)).toContain('.step_2.msgpack.00000000deadbeef.tmp');
      holder.proc.stdin.end(); // the holder exits; the kernel drops its lock
      await holder.exited;
      await ckpt.save({ getState: () => 2, setState() {} }, { step: 2 });
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      await ckpt.close();
    } finally {
      holder.proc.kill('SIGKILL');
    }
  });
});

describe('exiting with a save in flight', () => {
  // process.exit() lets thread-pool work that has started finish (libuv joins its
  // threads), so the save may complete or not; SIGKILL mid-write is the kill loop's job.
  it('looks like a crash to the next reader: the old step or the complete new one, never a damaged file', async () => {
    const dir = tempDir();
    const setup = new PipelineCheckpoint(dir);
    await setup.save({ getState: () => ({ step: 1, tag: 'step-1' }), setState() {} }, { step: 1 });
    await setup.close();

    const child = Child.node('saver.cjs', ['exit-in-flight', dir]);
    const { code } = await child.exited;
    expect(code, child.stderr).toBe(0);

    const report = await inspectDirectory(dir);
    expect(report.steps.every((s) => s.valid)).toBe(true);
    const warn = vi.spyOn(process, 'emitWarning');
    let value: State = null;
    const reader = new PipelineCheckpoint(dir);
    const step = await reader.restoreLatest({ getState: () => value, setState: (s) => void (value = s) });
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    if (step === 1) {
      expect(value).toEqual({ step: 1, tag: 'step-1' });
    } else {
      expect(step).toBe(2);
      expect((value as unknown as { payload: Float64Array }).payload.length).toBe(4_000_000);
    }
    const temps = readdirSync(dir).filter((n) => n.endsWith('.tmp'));
    expect(temps.length).toBeLessThanOrEqual(1);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual(temps); // readers leave it alone

    await reader.save({ getState: () => 3, setState() {} }, { step: 3 });
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]); // the next writer cleans up
    await reader.close();
  });
});
