// Retention by metric: keepBest { metric, mode, count } beside keep and
// keepEvery, decided from the files (so it holds across restarts), never
// removing anything before the newer step is durable; restoreBest().
import { describe, expect, it } from 'vitest';
import { PipelineCheckpoint, type State } from '../../src/index.js';
import { rankByMetric, stepsToPrune } from '../../src/checkpoint/retention.js';
import { MemoryStepStore } from '../helpers/memory-step-store.js';
import { tempDir } from '../helpers/temp-dir.js';

const holder = (value: State = null) => {
  let state: State = value;
  return { getState: () => state, setState: (s: State) => void (state = s), get: () => state };
};

/** Saves each [step, loss] (loss undefined: no metric in the metadata). */
async function saveAll(ckpt: PipelineCheckpoint, runs: Array<[number, number | string | undefined]>): Promise<void> {
  for (const [step, loss] of runs) {
    await ckpt.save(holder({ step }), { step, metadata: loss === undefined ? { note: 'no metric' } : { loss } });
  }
}

describe('stepsToPrune with keepBest', () => {
  const metrics = new Map<number, number | undefined>([
    [1, 0.9],
    [2, 0.3],
    [3, 0.5],
    [4, undefined],
    [5, 0.3],
    [6, 0.8],
  ]);
  const steps = [1, 2, 3, 4, 5, 6];

  it('keeps a step among the latest keep, or a multiple of keepEvery, or among the best count', () => {
    const keepBest = { metric: 'loss', mode: 'min' as const, count: 2 };
    expect(stepsToPrune(steps, { keep: 1, keepBest }, metrics).sort()).toEqual([1, 3, 4]);
    expect(stepsToPrune(steps, { keep: 2, keepEvery: 3, keepBest }, metrics).sort()).toEqual([1, 4]);
    expect(stepsToPrune(steps, { keep: 1, keepBest: { ...keepBest, mode: 'max' } }, metrics).sort()).toEqual([2, 3, 4, 5]);
  });

  it('breaks ties towards the older step, and never counts a step without the metric as best', () => {
    expect(rankByMetric(metrics, 'min')).toEqual([2, 5, 3, 6, 1]);
    expect(rankByMetric(metrics, 'max')).toEqual([1, 6, 3, 2, 5]);
    // Count 1 among a tie: the older of 2 and 5 stays.
    expect(stepsToPrune(steps, { keep: 1, keepBest: { metric: 'loss', mode: 'min', count: 1 } }, metrics).sort()).toEqual([1, 3, 4, 5]);
    // More room than steps with a metric: the one without (4) still goes.
    expect(stepsToPrune(steps, { keep: 1, keepBest: { metric: 'loss', mode: 'min', count: 10 } }, metrics)).toEqual([4]);
  });

  it('keeps the newest step with keepBest alone, and everything with no policy', () => {
    expect(stepsToPrune(steps, { keepBest: { metric: 'loss', mode: 'min', count: 1 } }, metrics).sort()).toEqual([1, 3, 4, 5]);
    expect(stepsToPrune(steps, {}, metrics)).toEqual([]);
  });
});

describe('PipelineCheckpoint keepBest', () => {
  const keepBest = { metric: 'loss', mode: 'min' as const, count: 2 };

  it('keeps the best two by loss plus the newest, reading metrics from the files after a restart', async () => {
    const dir = tempDir();
    const first = new PipelineCheckpoint(dir, { keep: 1, keepBest });
    await saveAll(first, [
      [1, 0.9],
      [2, 0.2],
      [3, 0.7],
    ]);
    expect(await first.steps()).toEqual([2, 3]); // 2 is best, 3 is the newest (and second best)
    await first.close();
    // A new process knows nothing but the files.
    const second = new PipelineCheckpoint(dir, { keep: 1, keepBest });
    await saveAll(second, [
      [4, 0.5],
      [5, 0.8],
    ]);
    expect(await second.steps()).toEqual([2, 4, 5]);
    await saveAll(second, [[6, 0.1]]);
    expect(await second.steps()).toEqual([2, 6]);
    await second.close();
    const third = new PipelineCheckpoint(dir, { keep: 1, keepBest });
    expect(await third.restoreBest(holder())).toBe(6);
    await saveAll(third, [[7, 0.6]]);
    expect(await third.steps()).toEqual([2, 6, 7]);
    await third.close();
  });

  it('ties: a later equal value does not displace a kept step', async () => {
    const dir = tempDir();
    const ckpt = new PipelineCheckpoint(dir, { keep: 1, keepBest: { metric: 'loss', mode: 'min', count: 1 } });
    await saveAll(ckpt, [
      [1, 0.5],
      [2, 0.5],
      [3, 0.5],
      [4, 0.9],
    ]);
    expect(await ckpt.steps()).toEqual([1, 4]);
    const target = holder();
    expect(await ckpt.restoreBest(target)).toBe(1);
    await ckpt.close();
  });

  it('steps without the metric (or with a non-number, or NaN) never count as best, but are still kept as newest', async () => {
    const dir = tempDir();
    const ckpt = new PipelineCheckpoint(dir, { keep: 1, keepBest });
    await saveAll(ckpt, [
      [1, undefined],
      [2, 'low'],
      [3, Number.NaN],
      [4, 0.4],
      [5, undefined],
    ]);
    expect(await ckpt.steps()).toEqual([4, 5]);
    await saveAll(ckpt, [[6, undefined]]);
    expect(await ckpt.steps()).toEqual([4, 6]);
    await ckpt.close();
  });

  it('works with keep and keepEvery together, and as a per-save override', async () => {
    const dir = tempDir();
    const ckpt = new PipelineCheckpoint(dir, { keep: 2, keepEvery: 5, keepBest: { metric: 'acc', mode: 'max', count: 1 } });
    for (const [step, acc] of [
      [1, 0.1],
      [2, 0.6],
      [3, 0.2],
      [4, 0.3],
      [5, 0.1],
      [6, 0.4],
      [7, 0.5],
    ] as const) {
      await ckpt.save(holder(step), { step, metadata: { acc } });
    }
    // 2: best acc; 5: milestone; 6 and 7: the two newest.
    expect(await ckpt.steps()).toEqual([2, 5, 6, 7]);
    // A save may rank by another metric: then that one decides, read from the files.
    await ckpt.save(holder(8), { step: 8, metadata: { acc: 0, loss: 1 }, keep: 1, keepBest: { metric: 'acc', mode: 'min', count: 1 } });
    expect(await ckpt.steps()).toEqual([5, 8]); // 8 has the lowest acc, and is the newest; 5 is a milestone
    await ckpt.close();
  });

  it('restoreBest restores the best step of the directory (any reader), or null when no step has the metric', async () => {
    const dir = tempDir();
    const ckpt = new PipelineCheckpoint(dir);
    await saveAll(ckpt, [
      [1, 0.3],
      [2, 0.1],
      [3, 0.2],
    ]);
    const target = holder();
    expect(await ckpt.restoreBest(target, { metric: 'loss', mode: 'min' })).toBe(2);
    expect(target.get()).toEqual({ step: 2 });
    expect(await ckpt.restoreBest(target, { metric: 'loss', mode: 'max' })).toBe(1);
    expect(await ckpt.restoreBest(target, { metric: 'accuracy', mode: 'max' })).toBeNull();
    await expect(ckpt.restoreBest(target)).rejects.toThrow(/restoreBest needs a \{ metric, mode \} argument or options\.keepBest/);
    await expect(ckpt.restoreBest(target, { metric: 'loss', mode: 'lowest' as never })).rejects.toThrow(/^by\.mode must be 'min' or 'max'/);
    await ckpt.close();
  });

  it('removes nothing before the newer step is durable: a crash at any stage of the save keeps the best steps', async () => {
    for (const stage of ['put:write', 'put:fsync', 'put:rename', 'put:syncDirectory'] as const) {
      const store = new MemoryStepStore();
      const ckpt = new PipelineCheckpoint('/mem', { store, keep: 1, keepBest: { metric: 'loss', mode: 'min', count: 1 } });
      await saveAll(ckpt, [
        [1, 0.5],
        [2, 0.9],
      ]);
      expect(await ckpt.steps()).toEqual([1, 2]);
      // Step 3 is the new best: once durable it would prune 1 and 2.
      store.crashNext(stage);
      void ckpt.save(holder({ step: 3 }), { step: 3, metadata: { loss: 0.1 } });
      await store.crashed();
      const after = new PipelineCheckpoint('/mem', { store, keep: 1, keepBest: { metric: 'loss', mode: 'min', count: 1 } });
      const steps = await after.steps();
      expect(steps, stage).toEqual(expect.arrayContaining([1, 2]));
      const target = holder();
      expect(await after.restoreBest(target)).toBe(steps.includes(3) ? 3 : 1);
    }
  });
});
