// Several named parts in one step file: save({ loader, model, optimizer }),
// restore all or nothing, errors that name the part, and files saved from one
// object before parts existed.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CheckpointCorruptError,
  CheckpointPartError,
  DataLoader,
  IncompatibleStateError,
  PipelineCheckpoint,
  type State,
} from '../../src/index.js';
import { decodeStepFile } from '../../src/checkpoint/step-file.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A model-like part: weights it owns, validated in full before it changes anything. */
class Weights {
  constructor(public values: Float32Array) {}
  getState(): State {
    return { values: this.values };
  }
  setState(state: State): void {
    const values = (state as { values?: unknown }).values;
    if (!(values instanceof Float32Array) || values.length !== this.values.length) {
      throw new IncompatibleStateError(`weights of length ${this.values.length} expected`, ['values']);
    }
    this.values.set(values); // in place: the rollback must not rely on the old array
  }
}

class Counter {
  constructor(public n = 0) {}
  getState(): State {
    return { n: this.n };
  }
  setState(state: State): void {
    const n = (state as { n?: unknown }).n;
    if (typeof n !== 'number') throw new TypeError('state.n must be a number');
    this.n = n;
  }
}

const source = { length: 50, get: (i: number) => i };
const loaderOf = () => new DataLoader(source, { batchSize: 4, seed: 9 });

function parts(size = 8) {
  return { loader: loaderOf(), model: new Weights(new Float32Array(size).map((_, i) => i)), optimizer: new Counter(3) };
}

describe('save and restore of named parts', () => {
  it('saves loader, model and optimizer in one step file and restores all of them', async () => {
    const dir = tempDir();
    const ckpt = new PipelineCheckpoint(dir);
    const a = parts();
    a.loader.next();
    a.loader.next();
    a.model.values[3] = 42.5;
    a.optimizer.n = 7;
    await ckpt.save(a, { step: 10, metadata: { loss: 0.5 } });
    const b = parts();
    expect(await ckpt.restoreLatest(b)).toBe(10);
    expect(b.loader.getState()).toEqual(a.loader.getState());
    expect(b.model.values).toEqual(a.model.values);
    expect(b.optimizer.n).toBe(7);
    expect(b.loader.next().value).toEqual(a.loader.next().value);
    // The layout of FORMAT.md §2.1: one payload map, one key, the parts by name.
    const file = decodeStepFile(readFileSync(join(dir, 'step_10.msgpack')), 'step_10');
    expect(Object.keys(file.state as object)).toEqual(['resumable-pipeline/parts']);
    expect(Object.keys((file.state as Record<string, Record<string, State>>)['resumable-pipeline/parts']!)).toEqual(['loader', 'model', 'optimizer']);
    expect(await ckpt.restore(b, 10)).toBe(10);
    await ckpt.close();
    a.loader.close();
    b.loader.close();
  });

  it('captures every part when save() is called, TypedArrays included, though the write is async', async () => {
    const dir = tempDir();
    const ckpt = new PipelineCheckpoint(dir);
    const model = new Weights(new Float32Array(4 * 1024 * 1024).fill(1)); // 16 MiB
    const counter = new Counter(1);
    const saving = ckpt.save({ model, counter }, { step: 1 });
    model.values.fill(2); // the training loop moves on at once
    counter.n = 2;
    await saving;
    const back = { model: new Weights(new Float32Array(model.values.length)), counter: new Counter() };
    await ckpt.restore(back, 1);
    expect(back.model.values.every((v) => v === 1)).toBe(true);
    expect(back.counter.n).toBe(1);
    await ckpt.close();
  });

  it('an incompatible part changes no part, and the error names it', async () => {
    const dir = tempDir();
    const ckpt = new PipelineCheckpoint(dir);
    const a = parts(8);
    a.loader.next();
    await ckpt.save(a, { step: 1 });
    const b = { loader: loaderOf(), optimizer: new Counter(5), model: new Weights(new Float32Array(9).fill(7)) }; // another model size
    b.loader.next();
    b.loader.next();
    const loaderBefore = b.loader.getState();
    const err = await ckpt.restore(b, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointPartError);
    const e = err as CheckpointPartError;
    expect(e.code).toBe('RP_CHECKPOINT_PART');
    expect(e.parts).toEqual(['model']);
    expect(e.file).toBe(join(dir, 'step_1.msgpack'));
    expect(e.message).toMatch(/part "model" could not be restored, so no part was changed: weights of length 9 expected/);
    expect(e.cause).toBeInstanceOf(IncompatibleStateError);
    // loader and optimizer were set before model threw: both are back as they were.
    expect(b.loader.getState()).toEqual(loaderBefore);
    expect(b.optimizer.n).toBe(5);
    expect(b.model.values.every((v) => v === 7)).toBe(true);
    // restoreLatest does not fall back past an incompatible part: it is not corruption.
    await expect(ckpt.restoreLatest(b)).rejects.toBeInstanceOf(CheckpointPartError);
    await ckpt.close();
    a.loader.close();
    b.loader.close();
  });

  it('a part whose saved state is malformed changes no part (an in-place setState that throws part-way)', async () => {
    const dir = tempDir();
    const ckpt = new PipelineCheckpoint(dir);
    let n = 0;
    const first = new Counter(1);
    const halfway = {
      values: new Float32Array([1, 2, 3]),
      getState: () => ({ values: halfway.values, n }),
      setState(state: State) {
        const s = state as { values: Float32Array; n: unknown };
        halfway.values.set(s.values); // changes itself, then finds the rest bad
        if (typeof s.n !== 'number') throw new TypeError('state.n must be a number');
        n = s.n;
      },
    };
    await ckpt.save({ first, halfway }, { step: 1 });
    // The same step saved with a malformed part (as another tool or version might write it).
    const bad = { first: new Counter(9), halfway: { getState: () => ({ values: new Float32Array([7, 7, 7]), n: 'x' }), setState() {} } };
    await ckpt.save(bad, { step: 2 });
    first.n = 4;
    await expect(ckpt.restore({ first, halfway }, 2)).rejects.toThrow(/part "halfway" could not be restored, so no part was changed: state.n must be a number/);
    expect(first.n).toBe(4);
    expect(Array.from(halfway.values)).toEqual([1, 2, 3]);
    await ckpt.close();
  });

  it('a corrupt step file changes no part; restoreLatest falls back to an older step for all of them', async () => {
    const dir = tempDir();
    const ckpt = new PipelineCheckpoint(dir);
    const a = { model: new Weights(new Float32Array(1000).fill(1)), optimizer: new Counter(1) };
    await ckpt.save(a, { step: 1 });
    a.model.values.fill(2);
    a.optimizer.n = 2;
    await ckpt.save(a, { step: 2 });
    await ckpt.close();
    const file = join(dir, 'step_2.msgpack');
    const bytes = readFileSync(file);
    bytes[bytes.length - 100]! ^= 0x10; // inside the model's weights
    writeFileSync(file, bytes);
    const b = { model: new Weights(new Float32Array(1000).fill(5)), optimizer: new Counter(5) };
    await expect(new PipelineCheckpoint(dir).restore(b, 2)).rejects.toBeInstanceOf(CheckpointCorruptError);
    expect(b.model.values.every((v) => v === 5)).toBe(true);
    expect(b.optimizer.n).toBe(5);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      expect(await new PipelineCheckpoint(dir).restoreLatest(b)).toBe(1);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.join('\n')).toMatch(/step_2\.msgpack is corrupt: CRC32C mismatch/);
    expect(b.model.values.every((v) => v === 1)).toBe(true);
    expect(b.optimizer.n).toBe(1);
  });

  it('restores a subset of the parts; a part missing from the file is an error naming it', async () => {
    const dir = tempDir();
    const ckpt = new PipelineCheckpoint(dir);
    await ckpt.save({ model: new Weights(new Float32Array([1, 2])), optimizer: new Counter(3) }, { step: 1 });
    const model = new Weights(new Float32Array(2));
    await ckpt.restore({ model }, 1); // evaluation needs the weights only
    expect(Array.from(model.values)).toEqual([1, 2]);
    const extra = { model: new Weights(new Float32Array(2)), optimizer: new Counter(0), loader: new Counter(0), ema: new Counter(0) };
    const err = (await ckpt.restore(extra, 1).catch((e: unknown) => e)) as CheckpointPartError;
    expect(err).toBeInstanceOf(CheckpointPartError);
    expect(err.parts).toEqual(['loader', 'ema']);
    expect(err.message).toMatch(/has no part "loader", "ema" \(it holds "model", "optimizer"\)/);
    expect(extra.model.values).toEqual(new Float32Array(2));
    expect(extra.optimizer.n).toBe(0);
    await ckpt.close();
  });

  it('a file saved from one object (as before parts) still restores into one object, and not into parts', async () => {
    const dir = tempDir();
    // The step file an earlier version wrote for one DataLoader, byte for byte (no parts key).
    const old = loaderOf();
    old.next();
    const ckpt = new PipelineCheckpoint(dir);
    await ckpt.save(old, { step: 3 });
    const payload = decodeStepFile(readFileSync(join(dir, 'step_3.msgpack')), 'step_3').state as Record<string, State>;
    expect(Object.keys(payload)).toEqual(['version', 'epoch', 'position', 'fingerprint']);
    const one = loaderOf();
    expect(await ckpt.restoreLatest(one)).toBe(3);
    expect(one.getState()).toEqual(old.getState());
    const err = (await ckpt.restore({ loader: loaderOf() }, 3).catch((e: unknown) => e)) as CheckpointPartError;
    expect(err).toBeInstanceOf(CheckpointPartError);
    expect(err.message).toMatch(/holds one state, not parts/);
    // And the other way round: parts into one object.
    await ckpt.save({ loader: old }, { step: 4 });
    const other = loaderOf();
    const err2 = (await ckpt.restore(other, 4).catch((e: unknown) => e)) as CheckpointPartError;
    expect(err2).toBeInstanceOf(CheckpointPartError);
    expect(err2.parts).toEqual(['loader']);
    expect(err2.message).toMatch(/holds the parts "loader"; restore it into a record of parts \(\{ loader \}\)/);
    expect(other.getState()).toEqual(loaderOf().getState());
    await ckpt.close();
    for (const l of [old, one, other]) l.close();
  });

  it('refuses bad parts at save time, naming the part, and writes nothing', async () => {
    const dir = tempDir();
    const ckpt = new PipelineCheckpoint(dir);
    await expect(ckpt.save({}, { step: 1 })).rejects.toThrow(/^pipeline must be an object with a getState\(\) method, or a record of at least one such part, got an empty object/);
    await expect(ckpt.save({ model: new Counter(), optimizer: 5 } as never, { step: 1 })).rejects.toThrow(/^parts\.optimizer must be an object with a getState\(\) method, got number 5/);
    await expect(ckpt.save({ model: { getState: () => ({ when: new Date() }) as never, setState() {} } }, { step: 1 })).rejects.toThrow(
      /^parts\.model\.when is a Date, which a checkpoint cannot hold/,
    );
    const reserved = { getState: () => ({ 'resumable-pipeline/parts': {} }), setState() {} };
    await expect(ckpt.save(reserved, { step: 1 })).rejects.toThrow(/marks a step saved as parts/);
    await expect(ckpt.restoreLatest({ model: { getState: () => 1 } } as never)).rejects.toThrow(/^parts\.model must be an object with a setState\(\) method/);
    expect(await ckpt.steps()).toEqual([]);
    await ckpt.close();
  });
});
