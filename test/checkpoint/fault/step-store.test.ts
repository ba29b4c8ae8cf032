// Fault injection through the StepStore seam, without a disk: a MemoryStepStore
// fails (or crashes) at each operation and at each stage of a durable put.
// Whatever fails, earlier steps stay restorable and no step name ever holds a
// half-written file; retention removes nothing before the new step is
// durable; corrupt files in the way of a save are set aside; and two writers
// on one store exclude each other.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CheckpointClosedError,
  CheckpointCorruptError,
  CheckpointExistsError,
  CheckpointLockedError,
  CheckpointWriteError,
  inspectDirectory,
  PipelineCheckpoint,
  type Checkpointable,
  type State,
} from '../../../src/index.js';
import { parseStepFileName, TEMP_FILE } from '../../../src/checkpoint/step-directory.js';
import { decodeStepFile } from '../../../src/checkpoint/step-file.js';
import { type CrashMode, errnoError, MemoryStepStore, type StoreOp } from '../../helpers/memory-step-store.js';

const DIR = '/memory/checkpoints';

/** A pipeline whose state is just the step it was saved at. */
class Holder implements Checkpointable {
  constructor(public step = -1) {}
  getState(): State {
    return { step: this.step, padding: new Float64Array(64).fill(this.step) };
  }
  setState(state: State): void {
    this.step = (state as { step: number }).step;
  }
}

let warnings: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  warnings = [];
});
function captureWarnings(): void {
  vi.spyOn(process, 'emitWarning').mockImplementation(((message: string | Error, options?: { code?: string }) => {
    warnings.push(`${options?.code ?? ''} ${String(message)}`);
  }) as never);
}

/** A store holding durable steps 1 and 2, and its (still open) writer. */
async function seeded(options: { keep?: number } = {}): Promise<{ store: MemoryStepStore; ckpt: PipelineCheckpoint }> {
  const store = new MemoryStepStore();
  const ckpt = new PipelineCheckpoint(DIR, { store, ...options });
  for (const step of [1, 2]) await ckpt.save(new Holder(step), { step });
  return { store, ckpt };
}

/** Every step name holds a complete, valid step file (bar the `corrupt` ones planted on purpose). */
function expectNoHalfWrittenStep(store: MemoryStepStore, corrupt: readonly string[] = []): void {
  for (const name of store.names()) {
    const step = parseStepFileName(name);
    if (step === undefined || corrupt.includes(name)) continue;
    const bytes = store.bytes(name);
    expect(bytes, name).toBeDefined();
    expect(decodeStepFile(bytes!, name, step).state).toMatchObject({ step });
  }
}

/** What a fresh reader restores. */
async function restoredBy(store: MemoryStepStore): Promise<number | null> {
  const target = new Holder();
  const step = await new PipelineCheckpoint(DIR, { store }).restoreLatest(target);
  if (step !== null) expect(target.step).toBe(step);
  return step;
}

const steps = (store: MemoryStepStore): number[] =>
  store.names().map(parseStepFileName).filter((s) => s !== undefined).sort((a, b) => a - b);
const corruptBytes = new TextEncoder().encode('not a step file');

interface FailureCase {
  op: StoreOp;
  /** What the failing call does; it must reject. */
  act: (ckpt: PipelineCheckpoint, store: MemoryStepStore) => Promise<unknown>;
  /** A fresh writer (the seeding one closed), so the failure comes while taking the lock. */
  freshWriter?: boolean;
  /** Steps present after the failure. */
  after: number[];
  /** Files planted corrupt before the call. */
  corrupt?: string[];
}

// Each save asks retention to keep only one step: a failure anywhere must still leave steps 1 and 2.
const save3 = (ckpt: PipelineCheckpoint) => ckpt.save(new Holder(3), { step: 3, keep: 1 });

const failureCases: FailureCase[] = [
  { op: 'lock', freshWriter: true, act: save3, after: [1, 2] },
  { op: 'list', freshWriter: true, act: save3, after: [1, 2] },
  { op: 'put', act: save3, after: [1, 2] },
  { op: 'put:write', act: save3, after: [1, 2] },
  { op: 'put:fsync', act: save3, after: [1, 2] },
  { op: 'put:rename', act: save3, after: [1, 2] },
  { op: 'put:syncDirectory', act: save3, after: [1, 2] },
  // A conflict check (step 2 exists) that cannot read the file.
  { op: 'read', act: (ckpt) => ckpt.save(new Holder(2), { step: 2 }), after: [1, 2] },
  // A corrupt step 3 in the way that cannot be renamed aside.
  {
    op: 'setAside',
    freshWriter: true,
    act: save3,
    after: [1, 2, 3],
    corrupt: ['step_3.msgpack'],
  },
  // A rewind whose deletion of the newer step fails.
  { op: 'remove', act: (ckpt) => ckpt.save(new Holder(1), { step: 1, overwrite: true }), after: [1, 2] },
  { op: 'syncDirectory', act: (ckpt) => ckpt.delete(2), after: [1] },
];

describe('a failure at each store operation', () => {
  for (const c of failureCases) {
    it(`${c.op}: the call rejects with the system error, and earlier steps stay restorable`, async () => {
      captureWarnings();
      let { store, ckpt } = await seeded();
      if (c.freshWriter) {
        await ckpt.close();
        for (const name of c.corrupt ?? []) store.plant(name, corruptBytes);
        ckpt = new PipelineCheckpoint(DIR, { store });
      }
      store.failNext(c.op);
      const err = await c.act(ckpt, store).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CheckpointWriteError);
      expect((err as CheckpointWriteError).cause).toMatchObject({ code: 'ENOSPC' });
      expect(steps(store)).toEqual(c.after);
      expect(store.names().filter((n) => TEMP_FILE.test(n))).toEqual([]);
      expectNoHalfWrittenStep(store, c.corrupt);
      expect(await restoredBy(store)).toBe(c.after.includes(2) ? 2 : 1);

      // A crash now loses nothing that was durable.
      store.crash('lose');
      expectNoHalfWrittenStep(store, c.corrupt);
      expect(await restoredBy(store)).toBe(2);

      // And the writer still works: the failure released nothing it should hold and kept nothing it should not.
      const writer = new PipelineCheckpoint(DIR, { store });
      await writer.save(new Holder(4), { step: 4 });
      expect(await restoredBy(store)).toBe(4);
      await writer.close();
    });
  }

  it('put:prune: the save still resolves, with a warning, and the unpruned step stays listed', async () => {
    captureWarnings();
    const { store, ckpt } = await seeded();
    store.failNext('put:prune', errnoError('EACCES', 'EACCES: permission denied'));
    await expect(ckpt.save(new Holder(3), { step: 3, keep: 2 })).resolves.toBe(`${DIR}/step_3.msgpack`);
    expect(warnings.some((w) => w.startsWith('RP_CHECKPOINT_PRUNE_FAILED') && w.includes('step_1.msgpack: EACCES'))).toBe(true);
    expect(steps(store)).toEqual([1, 2, 3]);
    expect(await ckpt.steps()).toEqual([1, 2, 3]);
    // The next save prunes it.
    await ckpt.save(new Holder(4), { step: 4, keep: 2 });
    expect(steps(store)).toEqual([3, 4]);
    await ckpt.close();
  });

  it('create: the constructor throws', () => {
    const store = new MemoryStepStore().failNext('create', errnoError('EACCES', 'EACCES: permission denied'));
    expect(() => new PipelineCheckpoint(DIR, { store })).toThrow(/EACCES/);
  });

  it('a store that is not an object is refused', () => {
    expect(() => new PipelineCheckpoint(DIR, { store: 3 as never })).toThrow(/^options\.store must be a StepStore/);
  });
});

describe('a crash at each stage of a save', () => {
  const stages: StoreOp[] = ['put', 'put:write', 'put:fsync', 'put:rename', 'put:syncDirectory', 'put:prune'];
  for (const mode of ['lose', 'keep'] as CrashMode[]) {
    for (const stage of stages) {
      // Once the rename has happened (or, losing unsynced changes, once the directory is synced) the new step survives.
      const survives = mode === 'lose' ? stage === 'put:prune' : stage === 'put:syncDirectory' || stage === 'put:prune';
      it(`${stage}, ${mode === 'lose' ? 'losing' : 'keeping'} what was not synced: step ${survives ? 3 : 2} restores, never a damaged file`, async () => {
        captureWarnings();
        const { store, ckpt } = await seeded({ keep: 2 });
        store.crashNext(stage, mode);
        const saving = ckpt.save(new Holder(3), { step: 3 }); // never settles: the writer dies
        await Promise.race([
          store.crashed(),
          saving.then(() => expect.unreachable(`the save finished without reaching ${stage}`)),
        ]);
        expect(store.locked).toBe(false);
        expectNoHalfWrittenStep(store);
        expect(await restoredBy(store)).toBe(survives ? 3 : 2);
        expect(warnings.filter((w) => w.startsWith('RP_CHECKPOINT_CORRUPT'))).toEqual([]);

        // The next writer clears the dead writer's temp file and carries on.
        const next = new PipelineCheckpoint(DIR, { store, keep: 2 });
        await next.save(new Holder(4), { step: 4 });
        expect(store.names().filter((n) => TEMP_FILE.test(n))).toEqual([]);
        expect(steps(store)).toEqual([survives ? 3 : 2, 4]);
        expect(await restoredBy(store)).toBe(4);
        await next.close();
      });
    }
  }
});

describe('retention', () => {
  it('removes nothing before the new step is durable', async () => {
    const store = new MemoryStepStore();
    const ckpt = new PipelineCheckpoint(DIR, { store, keep: 2, keepEvery: 5 });
    for (let step = 1; step <= 12; step++) await ckpt.save(new Holder(step), { step });
    expect(steps(store)).toEqual([5, 10, 11, 12]);
    let saving: string | undefined;
    let pruned = 0;
    for (const event of store.events) {
      if (event.op === 'put') saving = event.name;
      if (event.op === 'put:prune') {
        pruned += 1;
        expect(event.durable, `pruning ${event.name} while saving ${saving}`).toContain(saving);
      }
      // Retention never goes through remove (that is for rewinds, deletes and temp files).
      if (event.op === 'remove') expect.unreachable(`remove(${event.name})`);
    }
    expect(pruned).toBe(8);
    await ckpt.close();
  });

  it('a save that fails before it is durable prunes nothing', async () => {
    const { store, ckpt } = await seeded();
    for (const stage of ['put:write', 'put:fsync', 'put:rename', 'put:syncDirectory'] as StoreOp[]) {
      store.failNext(stage);
      await expect(ckpt.save(new Holder(3), { step: 3, keep: 1 })).rejects.toBeInstanceOf(CheckpointWriteError);
      expect(store.names()).toEqual(['step_1.msgpack', 'step_2.msgpack']);
      expect(store.durableNames()).toEqual(['step_1.msgpack', 'step_2.msgpack']);
    }
    expect(store.events.some((e) => e.op === 'put:prune')).toBe(false);
    await ckpt.save(new Holder(3), { step: 3, keep: 1 });
    expect(steps(store)).toEqual([3]);
    await ckpt.close();
  });
});

describe('corrupt files in the way of a save', () => {
  it('are set aside (a damaged file and a FIFO), and the save goes through', async () => {
    captureWarnings();
    const { store, ckpt } = await seeded();
    await ckpt.close();
    store.plant('step_3.msgpack', corruptBytes);
    store.plantFifo('step_4.msgpack');
    expect(await restoredBy(store)).toBe(2);
    expect(warnings.filter((w) => w.startsWith('RP_CHECKPOINT_CORRUPT'))).toHaveLength(2);
    expect(warnings.some((w) => w.includes('step_4.msgpack is corrupt: not a regular file'))).toBe(true);

    const report = await inspectDirectory(DIR, { store });
    expect(report.steps.map((s) => [s.step, s.valid, s.reason])).toEqual([
      [1, true, undefined],
      [2, true, undefined],
      [3, false, expect.stringMatching(/msgpack/)],
      [4, false, 'not a regular file'],
    ]);

    const writer = new PipelineCheckpoint(DIR, { store });
    await writer.save(new Holder(3), { step: 3 });
    expect(store.names()).toEqual(['step_1.msgpack', 'step_2.msgpack', 'step_3.msgpack', 'step_3.msgpack.corrupt', 'step_4.msgpack.corrupt']);
    expectNoHalfWrittenStep(store);
    expect(await restoredBy(store)).toBe(3);
    expect((await inspectDirectory(DIR, { store })).setAside).toEqual([`${DIR}/step_3.msgpack.corrupt`, `${DIR}/step_4.msgpack.corrupt`]);
    await writer.close();
  });

  it('a valid newer step still blocks the save, and nothing is set aside', async () => {
    const { store, ckpt } = await seeded();
    await ckpt.save(new Holder(4), { step: 4 });
    await ckpt.close();
    store.plant('step_3.msgpack', corruptBytes);
    const writer = new PipelineCheckpoint(DIR, { store });
    await expect(writer.save(new Holder(3), { step: 3 })).rejects.toBeInstanceOf(CheckpointExistsError);
    expect(store.names()).toEqual(['step_1.msgpack', 'step_2.msgpack', 'step_3.msgpack', 'step_4.msgpack']);
    await writer.close();
  });

  it('restore of a corrupt step names it', async () => {
    const { store, ckpt } = await seeded();
    store.plant('step_2.msgpack', corruptBytes);
    await expect(ckpt.restore(new Holder(), 2)).rejects.toBeInstanceOf(CheckpointCorruptError);
    await ckpt.close();
  });
});

describe('two writers on one store', () => {
  it('the second gets CheckpointLockedError at once and changes nothing, until the first closes', async () => {
    const store = new MemoryStepStore();
    const first = new PipelineCheckpoint(DIR, { store });
    const second = new PipelineCheckpoint(DIR, { store });
    await first.save(new Holder(1), { step: 1 });
    const before = store.names();
    await expect(second.save(new Holder(2), { step: 2 })).rejects.toBeInstanceOf(CheckpointLockedError);
    await expect(second.delete(1)).rejects.toBeInstanceOf(CheckpointLockedError);
    expect(store.names()).toEqual(before);
    // Readers need no lock.
    expect(await second.steps()).toEqual([1]);
    await first.close();
    await second.save(new Holder(2), { step: 2 });
    await expect(first.save(new Holder(3), { step: 3 })).rejects.toBeInstanceOf(CheckpointClosedError);
    await second.close();
  });

  it('a crashed writer leaves the lock free', async () => {
    const store = new MemoryStepStore();
    await new PipelineCheckpoint(DIR, { store }).save(new Holder(1), { step: 1 });
    const second = new PipelineCheckpoint(DIR, { store });
    await expect(second.save(new Holder(2), { step: 2 })).rejects.toBeInstanceOf(CheckpointLockedError);
    store.crash();
    await second.save(new Holder(2), { step: 2 });
    expect(await restoredBy(store)).toBe(2);
    await second.close();
  });
});
