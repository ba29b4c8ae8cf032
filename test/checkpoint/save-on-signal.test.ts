// saveOnSignal: in a child process (children/signal-saver.cjs), a signal saves
// the parts at the current step and exits with 128 + the signal number; a
// second signal exits at once and the directory still restores; a signal
// during an async save waits for it. In this process: arguments, uninstall.
import { readdirSync } from 'node:fs';
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { inspectDirectory, PipelineCheckpoint, type State } from '../../src/index.js';
import { Child } from '../helpers/child-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const SIGTERM = 128 + constants.signals.SIGTERM; // 143
const SIGINT = 128 + constants.signals.SIGINT; // 130

/** Restores the directory's newest step into fresh parts and checks the blob is one captured state. */
async function restored(dir: string): Promise<{ step: number | null; saved: number; metadata: State }> {
  let saved = -1;
  const data = new Float64Array(10_000).fill(-1);
  const parts = {
    counter: { getState: () => ({ step: saved }), setState: (s: State) => void (saved = (s as { step: number }).step) },
    blob: { getState: () => ({ data }), setState: (s: State) => data.set((s as { data: Float64Array }).data) },
  };
  const ckpt = new PipelineCheckpoint(dir);
  const step = await ckpt.restoreLatest(parts);
  // Captured when save() was called: every element is that step, though the loop kept filling it.
  expect(data.every((v) => v === saved)).toBe(true);
  const metadata = step === null ? null : await ckpt.metadata(step);
  await ckpt.close();
  return { step, saved, metadata };
}

describe('saveOnSignal in a child process', () => {
  it('SIGTERM saves the parts at the current step, then exits with 143', async () => {
    const dir = tempDir();
    const child = Child.node('signal-saver.cjs', [dir, 'plain']);
    await child.waitFor((l) => l === 'ready');
    await new Promise((r) => setTimeout(r, 200)); // let the loop run on
    child.proc.kill('SIGTERM');
    const { code, signal } = await child.exited;
    expect(child.stderr).toBe('');
    expect({ code, signal }).toEqual({ code: SIGTERM, signal: null });
    const captured = Number(/^signal-save (\d+)$/.exec(await child.waitFor((l) => l.startsWith('signal-save')))![1]);
    expect(captured).toBeGreaterThan(0);
    const { step, saved, metadata } = await restored(dir);
    expect(step).toBe(captured);
    expect(saved).toBe(captured);
    expect(metadata).toEqual({ loss: 1 / (captured + 1), signal: true });
    expect((await inspectDirectory(dir)).steps.every((s) => s.valid)).toBe(true);
  });

  it('SIGINT is handled too, with 130', async () => {
    const dir = tempDir();
    const child = Child.node('signal-saver.cjs', [dir, 'plain']);
    await child.waitFor((l) => l === 'ready');
    child.proc.kill('SIGINT');
    expect(await child.exited).toEqual({ code: SIGINT, signal: null });
    const captured = Number(/^signal-save (\d+)$/.exec(child.lines.find((l) => l.startsWith('signal-save'))!)![1]);
    expect((await restored(dir)).step).toBe(captured);
  });

  it('a second signal during the save exits at once, and the directory restores to its newest complete step', async () => {
    const dir = tempDir();
    const child = Child.node('signal-saver.cjs', [dir, 'slow']); // every save after the first waits 1.5 s
    await child.waitFor((l) => l === 'ready');
    child.proc.kill('SIGTERM');
    await child.waitFor((l) => l.startsWith('signal-save'));
    const sent = Date.now();
    child.proc.kill('SIGINT');
    const exit = await child.exited;
    expect(exit).toEqual({ code: SIGINT, signal: null }); // the second signal's code: it did not wait for the save
    expect(Date.now() - sent).toBeLessThan(1400);
    expect(child.stderr).toBe('');
    // The save never reached the disk; the newest complete step is the first one.
    const { step } = await restored(dir);
    expect(step).toBe(0);
    const report = await inspectDirectory(dir);
    expect(report.steps.map((s) => [s.step, s.valid])).toEqual([[0, true]]);
  });

  it('a signal during an async save waits for it, then saves the current step', async () => {
    const dir = tempDir();
    const child = Child.node('signal-saver.cjs', [dir, 'in-flight']); // the save of step 100 takes 1 s
    await child.waitFor((l) => l === 'saving 100');
    child.proc.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: SIGTERM, signal: null });
    expect(child.stderr).toBe('');
    const captured = Number(/^signal-save (\d+)$/.exec(child.lines.find((l) => l.startsWith('signal-save'))!)![1]);
    expect(captured).toBeGreaterThanOrEqual(100);
    expect(child.lines).toContain('saved 100'); // the in-flight save finished first
    const names = readdirSync(dir).filter((n) => n.startsWith('step_')).sort();
    expect(names).toEqual(captured === 100 ? ['step_0.msgpack', 'step_100.msgpack'] : ['step_0.msgpack', 'step_100.msgpack', `step_${captured}.msgpack`].sort());
    const { step, saved } = await restored(dir);
    expect(step).toBe(captured);
    expect(saved).toBe(captured);
  });

  it('after uninstall, a signal has its default effect', async () => {
    const dir = tempDir();
    const child = Child.node('signal-saver.cjs', [dir, 'uninstall']);
    await child.waitFor((l) => l === 'ready');
    child.proc.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(child.lines.some((l) => l.startsWith('signal-save'))).toBe(false);
  });
});

describe('saveOnSignal arguments', () => {
  const one = (): number => 1;
  const part = { getState: () => 1, setState() {} };

  it('installs a handler per signal and returns a function that removes them', async () => {
    const ckpt = new PipelineCheckpoint(tempDir());
    const before = { term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT'), usr: process.listenerCount('SIGUSR2') };
    const off = ckpt.saveOnSignal({ part }, { step: () => 1 });
    expect(process.listenerCount('SIGTERM')).toBe(before.term + 1);
    expect(process.listenerCount('SIGINT')).toBe(before.int + 1);
    off();
    off(); // twice is harmless
    expect(process.listenerCount('SIGTERM')).toBe(before.term);
    expect(process.listenerCount('SIGINT')).toBe(before.int);
    const offUsr = ckpt.saveOnSignal(part, { step: () => 1, signals: ['SIGUSR2'] });
    expect(process.listenerCount('SIGUSR2')).toBe(before.usr + 1);
    expect(process.listenerCount('SIGTERM')).toBe(before.term);
    offUsr();
    // close() removes whatever is still installed.
    ckpt.saveOnSignal({ part }, { step: () => 1 });
    expect(process.listenerCount('SIGTERM')).toBe(before.term + 1);
    await ckpt.close();
    expect(process.listenerCount('SIGTERM')).toBe(before.term);
    expect(process.listenerCount('SIGINT')).toBe(before.int);
  });

  it.each([
    ['no options', undefined, TypeError, /^options must be an object with a step\(\) function/],
    ['step not a function', { step: 5 }, TypeError, /^options\.step must be a function returning the step, got number 5/],
    ['metadata not a function', { step: one, metadata: {} }, TypeError, /^options\.metadata must be a function/],
    ['an unknown option', { step: one, signal: 'SIGTERM' }, TypeError, /^options\.signal is not an option/],
    ['signals empty', { step: one, signals: [] }, TypeError, /^options\.signals must be a non-empty array/],
    ['a signal that is not one', { step: one, signals: ['SIGTERM', 'SIGNOPE'] }, RangeError, /^options\.signals\[1\] is not a signal: "SIGNOPE"/],
    ['SIGKILL', { step: one, signals: ['SIGKILL'] }, RangeError, /^options\.signals\[0\] is SIGKILL, which no process can catch/],
  ])('refuses %s, installing nothing', async (_label, options, type, message) => {
    const ckpt = new PipelineCheckpoint(tempDir());
    const before = process.listenerCount('SIGTERM');
    let err: unknown;
    try {
      ckpt.saveOnSignal({ part }, options as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(message);
    expect((err as { code?: string }).code).toBe('RP_INVALID_ARGUMENT');
    expect(process.listenerCount('SIGTERM')).toBe(before);
    await ckpt.close();
  });

  it('refuses a bad part at once, naming it, and a closed checkpoint', async () => {
    const ckpt = new PipelineCheckpoint(tempDir());
    expect(() => ckpt.saveOnSignal({ model: part, optimizer: null } as never, { step: () => 1 })).toThrow(/^parts\.optimizer must be an object with a getState\(\) method, got null/);
    await ckpt.close();
    expect(() => ckpt.saveOnSignal(part, { step: () => 1 })).toThrow(expect.objectContaining({ code: 'RP_CHECKPOINT_CLOSED' }));
  });
});
