// PipelineCheckpoint: the pinned API, retention, the step policy, the lock,
// async saves, fallback, and argument errors.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CheckpointClosedError,
  CheckpointCorruptError,
  CheckpointExistsError,
  CheckpointLockedError,
  CheckpointNotFoundError,
  PipelineCheckpoint,
  type State,
} from '../../src/index.js';
import { Counter, HalfApplying } from '../helpers/counter.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A pipeline whose state is whatever `value` holds. */
function holder(value: State = null) {
  return {
    value,
    getState(): State {
      return this.value;
    },
    setState(state: State): void {
      this.value = state;
    },
  };
}

const open: PipelineCheckpoint[] = [];
function checkpointer(dir: string, options?: ConstructorParameters<typeof PipelineCheckpoint>[1]): PipelineCheckpoint {
  const ckpt = new PipelineCheckpoint(dir, options);
  open.push(ckpt);
  return ckpt;
}

afterEach(async () => {
  for (const ckpt of open.splice(0)) await ckpt.close();
  vi.restoreAllMocks();
});

/** Captures the CheckpointWarnings emitted while fn runs (and keeps them off stderr). */
async function warnings<T>(fn: () => Promise<T>): Promise<{ result: T; codes: string[]; messages: string[] }> {
  const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  try {
    const result = await fn();
    const calls = spy.mock.calls.map((c) => ({ message: String(c[0]), code: (c[1] as { code?: string } | undefined)?.code ?? '' }));
    return { result, codes: calls.map((c) => c.code), messages: calls.map((c) => c.message) };
  } finally {
    spy.mockRestore();
  }
}

describe('save, restore and listing', () => {
  it('saves step files, lists them ascending and restores any of them', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir);
    const counter = new Counter();
    for (const step of [10, 20, 30]) {
      counter.position = step;
      const path = await ckpt.save(counter, { step, metadata: { loss: step / 10 } });
      expect(path).toBe(join(dir, `step_${step}.msgpack`));
    }
    expect(await ckpt.steps()).toEqual([10, 20, 30]);
    expect(await ckpt.latestStep()).toBe(30);
    expect(await ckpt.metadata(20)).toEqual({ loss: 2 });

    const fresh = new Counter();
    expect(await ckpt.restore(fresh, 20)).toBe(20);
    expect(fresh.position).toBe(20);
    expect(await ckpt.restoreLatest(fresh)).toBe(30);
    expect(fresh.position).toBe(30);
    expect(fresh.seed).toBe(7n);
    expect(fresh.weights).toBeInstanceOf(Float64Array);
    expect(Object.is(fresh.weights[1], -0)).toBe(true);
  });

  it('lists steps by number, not by name, and ignores names outside its pattern', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir);
    for (const step of [9, 10, 100]) await ckpt.save(holder(step), { step });
    for (const name of ['step_007.msgpack', 'step_5.msgpack.bak', 'notes.txt', 'step_-1.msgpack', 'step_99999999999999999999.msgpack']) {
      writeFileSync(join(dir, name), 'x');
    }
    expect(await ckpt.steps()).toEqual([9, 10, 100]);
    expect(await ckpt.latestStep()).toBe(100);
  });

  it('gives null and an empty list for an empty directory, and creates a missing one', async () => {
    const dir = join(tempDir(), 'a', 'b');
    const ckpt = checkpointer(dir);
    expect(existsSync(dir)).toBe(true);
    expect(await ckpt.steps()).toEqual([]);
    expect(await ckpt.latestStep()).toBeNull();
    const target = new Counter();
    expect(await ckpt.restoreLatest(target)).toBeNull();
    expect(target.position).toBe(0);
  });

  it('stores metadata of any State kind, {} by default', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir);
    const metadata = { loss: -0, big: -(2n ** 70n), hist: new Uint16Array([1, 2]), tags: ['a', null, true] };
    await ckpt.save(holder(1), { step: 1, metadata });
    await ckpt.save(holder(2), { step: 2 });
    const back = (await ckpt.metadata(1)) as typeof metadata;
    expect(back).toEqual(metadata);
    expect(Object.is(back.loss, -0)).toBe(true);
    expect(back.hist).toBeInstanceOf(Uint16Array);
    expect(await ckpt.metadata(2)).toEqual({});
  });

  it('throws CheckpointNotFoundError naming the file for a missing step', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir);
    await expect(ckpt.restore(new Counter(), 5)).rejects.toThrow(CheckpointNotFoundError);
    await expect(ckpt.metadata(5)).rejects.toThrow(join(dir, 'step_5.msgpack'));
  });

  it('deletes a step durably, and deleting a missing step is not an error', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir);
    for (const step of [1, 2, 3]) await ckpt.save(holder(step), { step });
    await ckpt.delete(2);
    await ckpt.delete(2);
    expect(await ckpt.steps()).toEqual([1, 3]);
    expect(readdirSync(dir).filter((n) => n.endsWith('.msgpack')).sort()).toEqual(['step_1.msgpack', 'step_3.msgpack']);
  });
});

describe('retention', () => {
  it('keeps the `keep` newest steps', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir, { keep: 3 });
    for (let step = 100; step <= 600; step += 100) await ckpt.save(holder(step), { step });
    expect(await ckpt.steps()).toEqual([400, 500, 600]);
  });

  it('spares keepEvery milestones and accepts a per-save keep', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir, { keep: 2, keepEvery: 1000 });
    for (let step = 500; step <= 3500; step += 500) await ckpt.save(holder(step), { step });
    expect(await ckpt.steps()).toEqual([1000, 2000, 3000, 3500]);
    await ckpt.save(holder(4000), { step: 4000, keep: 1 });
    expect(await ckpt.steps()).toEqual([1000, 2000, 3000, 4000]);
  });

  it('keeps everything without keep, and touches no file outside its pattern', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'step_1.msgpack.bak'), 'mine');
    writeFileSync(join(dir, 'README'), 'mine');
    const ckpt = checkpointer(dir);
    for (let step = 1; step <= 5; step++) await ckpt.save(holder(step), { step });
    expect(await ckpt.steps()).toEqual([1, 2, 3, 4, 5]);
    const pruning = checkpointer(tempDir(), { keep: 1 });
    for (let step = 1; step <= 3; step++) await pruning.save(holder(step), { step });
    expect(await pruning.steps()).toEqual([3]);
    expect(readFileSync(join(dir, 'step_1.msgpack.bak'), 'utf8')).toBe('mine');
    expect(readFileSync(join(dir, 'README'), 'utf8')).toBe('mine');
  });

  it('counts a corrupt step file like any other, so it ages out', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir, { keep: 2 });
    await ckpt.save(holder(1), { step: 1 });
    await ckpt.save(holder(2), { step: 2 });
    writeFileSync(join(dir, 'step_2.msgpack'), 'garbage');
    await ckpt.save(holder(3), { step: 3 });
    expect(await ckpt.steps()).toEqual([2, 3]);
    await ckpt.save(holder(4), { step: 4 });
    expect(await ckpt.steps()).toEqual([3, 4]);
  });
});

describe('the policy for a step <= the latest', () => {
  it('refuses an existing step with CheckpointExistsError naming the file, unless overwrite', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir);
    await ckpt.save(holder('first'), { step: 5 });
    const err = await ckpt.save(holder('second'), { step: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointExistsError);
    expect((err as CheckpointExistsError).file).toBe(join(dir, 'step_5.msgpack'));
    expect((err as Error).message).toContain('overwrite: true');
    const target = holder();
    await ckpt.restore(target, 5);
    expect(target.value).toBe('first');

    await ckpt.save(holder('second'), { step: 5, overwrite: true });
    await ckpt.restore(target, 5);
    expect(target.value).toBe('second');
  });

  it('refuses a step older than a valid newer step, naming the newer file', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir);
    await ckpt.save(holder(100), { step: 100 });
    await ckpt.save(holder(300), { step: 300 });
    const err = await ckpt.save(holder(200), { step: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointExistsError);
    expect((err as CheckpointExistsError).file).toBe(join(dir, 'step_300.msgpack'));
    expect((err as Error).message).toMatch(/newer than step 200.*overwrite: true/);
    expect(await ckpt.steps()).toEqual([100, 300]);
  });

  it('with overwrite, rewinds: writes the step and deletes every newer one', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir);
    for (const step of [100, 200, 300, 400]) await ckpt.save(holder(`old ${step}`), { step });
    await ckpt.save(holder('new 200'), { step: 200, overwrite: true });
    expect(await ckpt.steps()).toEqual([100, 200]);
    await ckpt.save(holder('new 150'), { step: 150, overwrite: true });
    expect(await ckpt.steps()).toEqual([100, 150]);
    const target = holder();
    expect(await ckpt.restoreLatest(target)).toBe(150);
    expect(target.value).toBe('new 150');
  });

  it('sets corrupt conflicting files aside, so the loop after a fallback can save again', async () => {
    const dir = tempDir();
    const first = new PipelineCheckpoint(dir);
    for (const step of [100, 200, 250, 300]) await first.save(holder(step), { step });
    await first.close(); // the training process dies; then the disk damages two files
    const damaged = readFileSync(join(dir, 'step_300.msgpack'));
    damaged[damaged.length - 10]! ^= 0x40;
    writeFileSync(join(dir, 'step_300.msgpack'), damaged);
    writeFileSync(join(dir, 'step_250.msgpack'), 'truncated');

    const ckpt = checkpointer(dir); // the restarted process
    const target = holder();
    const { result, codes } = await warnings(() => ckpt.restoreLatest(target));
    expect(result).toBe(200);
    expect(codes).toEqual(['RP_CHECKPOINT_CORRUPT', 'RP_CHECKPOINT_CORRUPT']);

    await ckpt.save(holder('again 250'), { step: 250 });
    expect(await ckpt.steps()).toEqual([100, 200, 250]);
    const names = readdirSync(dir);
    expect(names).toContain('step_300.msgpack.corrupt');
    expect(names).toContain('step_250.msgpack.corrupt');
    expect(readFileSync(join(dir, 'step_300.msgpack.corrupt'))).toEqual(damaged);
    expect(await ckpt.restoreLatest(target)).toBe(250);
    expect(target.value).toBe('again 250');
  });

  it('is still refused when a valid newer step sits above a corrupt one', async () => {
    const dir = tempDir();
    const first = new PipelineCheckpoint(dir);
    for (const step of [1, 2, 3]) await first.save(holder(step), { step });
    await first.close();
    writeFileSync(join(dir, 'step_2.msgpack'), 'garbage');
    const ckpt = checkpointer(dir);
    await expect(ckpt.save(holder(2), { step: 2 })).rejects.toThrow(CheckpointExistsError);
    // Nothing was set aside, since the save did not happen.
    expect(readdirSync(dir).some((n) => n.endsWith('.corrupt'))).toBe(false);
  });
});

describe('restoring', () => {
  it('leaves the iterator unchanged and surfaces the error when setState throws', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir);
    await ckpt.save(holder({ position: 'not a number' }), { step: 1 });
    await ckpt.save(holder({ position: 99, seed: 1n, weights: new Float64Array(4), reject: true }), { step: 2 });

    const strict = new Counter();
    strict.next();
    const before = strict.getState();
    await expect(ckpt.restore(strict, 1)).rejects.toThrow(RangeError);
    expect(strict.getState()).toEqual(before);

    const partial = new HalfApplying();
    partial.next();
    const partialBefore = partial.getState();
    await expect(ckpt.restore(partial, 2)).rejects.toThrow('state.reject');
    expect(partial.getState()).toEqual(partialBefore);
    await expect(ckpt.restoreLatest(partial)).rejects.toThrow('state.reject');
    expect(partial.getState()).toEqual(partialBefore);
  });

  it('restoreLatest falls back past corrupt files with a warning; restore(step) throws CheckpointCorruptError', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir);
    for (const step of [1, 2, 3]) await ckpt.save(holder(step), { step });
    const file = join(dir, 'step_3.msgpack');
    writeFileSync(file, readFileSync(file).subarray(0, 20));
    const target = holder();
    const { result, codes, messages } = await warnings(() => ckpt.restoreLatest(target));
    expect(result).toBe(2);
    expect(target.value).toBe(2);
    expect(codes).toEqual(['RP_CHECKPOINT_CORRUPT']);
    expect(messages[0]).toContain(file);

    const err = await ckpt.restore(target, 3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointCorruptError);
    expect((err as CheckpointCorruptError).file).toBe(file);
    expect((err as CheckpointCorruptError).reason).toMatch(/msgpack document/);
    expect(target.value).toBe(2);
    await expect(ckpt.metadata(3)).rejects.toThrow(CheckpointCorruptError);
  });

  it('throws, never returns null, when every step file is corrupt', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir);
    for (const step of [1, 2]) await ckpt.save(holder(step), { step });
    for (const step of [1, 2]) writeFileSync(join(dir, `step_${step}.msgpack`), '');
    const target = holder('untouched');
    const { result } = await warnings(() => ckpt.restoreLatest(target).catch((e: unknown) => e));
    expect(result).toBeInstanceOf(CheckpointCorruptError);
    expect((result as Error).message).toMatch(/all 2 step files are corrupt/);
    expect(target.value).toBe('untouched');
  });
});

describe('async saves', () => {
  it('captures the state synchronously: changes after save() do not reach the file', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir);
    const counter = new Counter();
    counter.position = 1;
    const pending = ckpt.save(counter, { step: 1 });
    counter.position = 2;
    counter.weights[0] = 42;
    counter.next();
    await pending;
    const back = new Counter();
    await ckpt.restore(back, 1);
    expect(back.position).toBe(1);
    expect(back.weights[0]).toBe(0.5);
  });

  it('serialises saves in call order; waitUntilFinished and reads wait for them', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir, { keep: 2 });
    const order: number[] = [];
    const saves = [1, 2, 3, 4, 5].map((step) => ckpt.save(holder(step), { step }).then(() => order.push(step)));
    expect(await ckpt.steps()).toEqual([4, 5]);
    await ckpt.waitUntilFinished();
    expect(order).toEqual([1, 2, 3, 4, 5]); // every save had settled when waitUntilFinished resolved
    await Promise.all(saves);
  });

  it('a failed save rejects its own promise, and the queue goes on', async () => {
    const dir = tempDir();
    const ckpt = checkpointer(dir);
    await ckpt.save(holder(1), { step: 1 });
    const failing = ckpt.save(holder(1), { step: 1 });
    const next = ckpt.save(holder(2), { step: 2 });
    await expect(failing).rejects.toThrow(CheckpointExistsError);
    await expect(next).resolves.toBe(join(dir, 'step_2.msgpack'));
    await ckpt.waitUntilFinished();
  });

  it('close waits for pending saves and releases the lock; later saves throw CheckpointClosedError', async () => {
    const dir = tempDir();
    const ckpt = new PipelineCheckpoint(dir);
    let done = false;
    const pending = ckpt.save(holder(1), { step: 1 }).then((path) => ((done = true), path));
    await ckpt.close();
    expect(done).toBe(true);
    await expect(pending).resolves.toBe(join(dir, 'step_1.msgpack'));
    await expect(ckpt.save(holder(2), { step: 2 })).rejects.toThrow(CheckpointClosedError);
    await expect(ckpt.delete(1)).rejects.toThrow(CheckpointClosedError);
    expect(await ckpt.steps()).toEqual([1]); // reads still work
    const other = checkpointer(dir);
    await other.save(holder(2), { step: 2 });
    await ckpt.close(); // a second close is harmless
  });
});

describe('one writer per directory', () => {
  it('a second writer (another PipelineCheckpoint) gets CheckpointLockedError at once', async () => {
    const dir = tempDir();
    const first = checkpointer(dir);
    const second = checkpointer(dir);
    await first.save(holder(1), { step: 1 });
    const err = await second.save(holder(2), { step: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointLockedError);
    expect((err as CheckpointLockedError).code).toBe('RP_CHECKPOINT_LOCKED');
    await expect(second.delete(1)).rejects.toThrow(CheckpointLockedError);
    // Readers never need the lock.
    const reader = new PipelineCheckpoint(dir);
    expect(await reader.restoreLatest(holder())).toBe(1);
    await first.close();
    await second.save(holder(2), { step: 2 });
    expect(await second.steps()).toEqual([1, 2]);
  });

  it('removes stale temp files only once it holds the lock', async () => {
    const dir = tempDir();
    const stale = join(dir, '.step_7.msgpack.0123456789abcdef.tmp');
    const foreign = join(dir, '.other.0123456789abcdef.tmp');
    writeFileSync(stale, 'half a save');
    writeFileSync(foreign, 'not ours');
    const holderCkpt = checkpointer(dir);
    await holderCkpt.save(holder(1), { step: 1 }); // takes the lock, clears the stale temp
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(foreign)).toBe(true);

    writeFileSync(stale, 'an in-flight save of the lock holder');
    const reader = checkpointer(dir);
    await reader.restoreLatest(holder());
    await reader.steps();
    await expect(reader.save(holder(2), { step: 2 })).rejects.toThrow(CheckpointLockedError);
    expect(existsSync(stale)).toBe(true); // a writer without the lock must not touch it
  });
});

describe('bad arguments give typed errors naming the argument', () => {
  const dir = () => tempDir();

  it('in the constructor', () => {
    expect(() => new PipelineCheckpoint(42 as never)).toThrow(/^directory must be a non-empty string/);
    expect(() => new PipelineCheckpoint('')).toThrow(TypeError);
    expect(() => new PipelineCheckpoint(dir(), { keep: 0 })).toThrow(RangeError);
    expect(() => new PipelineCheckpoint(dir(), { keep: 0 })).toThrow(/options\.keep/);
    expect(() => new PipelineCheckpoint(dir(), { keep: 1.5 })).toThrow(/options\.keep/);
    expect(() => new PipelineCheckpoint(dir(), { keep: '3' as never })).toThrow(TypeError);
    expect(() => new PipelineCheckpoint(dir(), { keepEvery: -1 })).toThrow(/options\.keepEvery/);
    expect(() => new PipelineCheckpoint(dir(), { kepe: 3 } as never)).toThrow(/options\.kepe is not an option/);
    expect(() => new PipelineCheckpoint(dir(), 3 as never)).toThrow(/^options must be an object/);
  });

  it('in save', async () => {
    const ckpt = checkpointer(dir());
    const ok = holder(1);
    const cases: Array<[unknown, unknown, RegExp, ErrorConstructor]> = [
      [ok, undefined, /^options must be an object/, TypeError],
      [ok, {}, /^options\.step must be a number/, TypeError],
      [ok, { step: -1 }, /^options\.step must be an integer/, RangeError],
      [ok, { step: 1.5 }, /^options\.step/, RangeError],
      [ok, { step: Number.NaN }, /^options\.step/, RangeError],
      [ok, { step: 2 ** 53 }, /^options\.step/, RangeError],
      [ok, { step: '1' }, /^options\.step/, TypeError],
      [ok, { step: 1, keep: 0 }, /^options\.keep/, RangeError],
      [ok, { step: 1, overwrite: 'yes' }, /^options\.overwrite must be a boolean/, TypeError],
      [ok, { step: 1, metadata: { when: new Date() } }, /^metadata\.when is a Date/, TypeError],
      [ok, { step: 1, metadata: { f: () => 1 } }, /^metadata\.f is function/, TypeError],
      [ok, { step: 1, stpe: 2 }, /^options\.stpe is not an option/, TypeError],
      [null, { step: 1 }, /^pipeline must be an object with a getState\(\) method/, TypeError],
      [{ setState() {} }, { step: 1 }, /^pipeline must be/, TypeError],
      [{ getState: () => undefined, setState() {} }, { step: 1 }, /^state is undefined/, TypeError],
      [holder({ a: [1, , 3] } as never), { step: 1 }, /^state\.a\[1\] is undefined/, TypeError],
      [holder({ m: new Map() } as never), { step: 1 }, /^state\.m is a Map/, TypeError],
      [holder({ s: Symbol('x') } as never), { step: 1 }, /^state\.s is symbol/, TypeError],
      [holder(new DataView(new ArrayBuffer(4)) as never), { step: 1 }, /^state is a DataView/, TypeError],
      [holder(JSON.parse('{"__proto__": 1}') as State), { step: 1 }, /__proto__/, TypeError],
      [holder({ s: 'a\uD800b' }), { step: 1 }, /^state\.s is a string with a lone surrogate/, TypeError],
    ];
    for (const [pipeline, options, message, type] of cases) {
      const err = await ckpt.save(pipeline as never, options as never).catch((e: unknown) => e);
      expect(err, `${String(message)}`).toBeInstanceOf(type);
      expect((err as Error).message).toMatch(message);
    }
    const circular: Record<string, State> = {};
    circular.self = circular;
    await expect(ckpt.save(holder(circular), { step: 1 })).rejects.toThrow(/^state\.self is a circular reference/);
    let deep: State = 1;
    for (let i = 0; i < 600; i++) deep = [deep];
    await expect(ckpt.save(holder(deep), { step: 1 })).rejects.toThrow(RangeError);
    const throwing = { getState(): State { throw new Error('boom'); }, setState() {} };
    await expect(ckpt.save(throwing, { step: 1 })).rejects.toThrow('boom');
    expect(await ckpt.steps()).toEqual([]); // nothing was written by any of them
    expect(readdirSync(ckpt.directory).filter((n) => !n.startsWith('.resumable'))).toEqual([]);
  });

  it('in restore, restoreLatest, metadata and delete', async () => {
    const ckpt = checkpointer(dir());
    await expect(ckpt.restore(new Counter(), -1)).rejects.toThrow(/^step must be an integer/);
    await expect(ckpt.restore(new Counter(), '1' as never)).rejects.toThrow(TypeError);
    await expect(ckpt.restore({ getState() { return 1; } } as never, 1)).rejects.toThrow(/^pipeline must be an object with a setState\(\) method/);
    await expect(ckpt.restoreLatest(undefined as never)).rejects.toThrow(/^pipeline must be/);
    await expect(ckpt.metadata(0.5)).rejects.toThrow(/^step must be an integer/);
    await expect(ckpt.delete(Number.POSITIVE_INFINITY)).rejects.toThrow(/^step must be an integer/);
  });
});
