// A training checkpoint: save({ loader, model, optimizer }) with 64 MiB of
// model weights (a Float32Array) and a small loader and optimizer state,
// against the floor of the same I/O: the same bytes written with synchronous
// open(O_EXCL) + write + fsync + close + rename + fsync(dir). Measured:
//   capture: how long save() blocks the caller (getState of every part and
//            encoding, i.e. the copy of the weights into the file's bytes);
//   save:    from the call until the promise resolves (the file is durable).
// Floor and save alternate round by round (bench/harness.ts), on one disk.
//
// CLI:    npm run bench -- --only composite-save
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipelineCheckpoint, type State } from '../src/index.js';
import { encodeStepFile } from '../src/checkpoint/step-file.js';
import { alternate, type BenchContext, floorWrite, median, now, type Row, type Section } from './harness.js';

const WEIGHT_BYTES = 64 * 1024 * 1024;

export async function benchCompositeSave(rounds: number, where = tmpdir()) {
  const root = mkdtempSync(join(where, 'rp-bench-composite-'));
  try {
    const weights = new Float32Array(WEIGHT_BYTES / 4);
    for (let i = 0; i < weights.length; i++) weights[i] = Math.sin(i);
    let step = 0;
    const parts = {
      loader: { getState: (): State => ({ version: 1, epoch: 2, position: step * 64, fingerprint: { n: 1e6, seed: 42, shuffle: true, dropRemainder: false } }), setState() {} },
      model: { getState: (): State => ({ weights }), setState() {} },
      optimizer: { getState: (): State => ({ iterations: step, lr: 1e-3 }), setState() {} },
    };
    const ckpt = new PipelineCheckpoint(join(root, 'steps'), { keep: 2 });
    const floorDir = join(root, 'floor');
    const captures: number[] = [];
    const saves: number[] = [];
    const floors: number[] = [];
    let fileBytes = 0;
    for (let round = 0; round <= rounds; round++) {
      step = round + 1;
      weights[0] = round; // a new state each round
      const bytes = encodeStepFile(step, { 'resumable-pipeline/parts': { loader: parts.loader.getState(), model: parts.model.getState(), optimizer: parts.optimizer.getState() } }, { loss: 1 });
      fileBytes = bytes.length;
      const floor = () => {
        const ckptDir = mkdtempSync(floorDir);
        const t = now();
        floorWrite(ckptDir, bytes, round);
        const ms = now() - t;
        rmSync(ckptDir, { recursive: true, force: true });
        return ms;
      };
      const save = async () => {
        await ckpt.waitUntilFinished(); // pruning of the previous save, as between training steps
        const t = now();
        const durable = ckpt.save(parts, { step, metadata: { loss: 1 } });
        const captured = now() - t;
        await durable;
        if (round > 0) captures.push(captured);
        return now() - t;
      };
      const [f, s] = await alternate(round, floor, save);
      if (round > 0) {
        floors.push(f);
        saves.push(s);
      }
    }
    await ckpt.close();
    return { fileBytes, capture: median(captures), save: median(saves), floor: median(floors) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The composite-save section of `npm run bench`. */
export const compositeSaveSection: Section = {
  id: 'composite-save',
  title: 'Composite save: loader + 64 MiB model + optimizer',
  async run(ctx: BenchContext): Promise<Row[]> {
    const r = await benchCompositeSave(ctx.repeats);
    const mib = (r.fileBytes / 2 ** 20).toFixed(1);
    return [
      { figure: `floor: write + fsync + rename + fsync dir of the ${mib} MiB file, median`, value: r.floor, unit: 'ms' },
      {
        figure: 'save({ loader, model, optimizer }) until durable, median',
        value: r.save,
        unit: 'ms',
        ratio: r.save / r.floor,
        baseline: 'floor',
        target: '≤ 1.5×',
        met: r.save / r.floor <= 1.5,
      },
      {
        figure: 'of which save() blocks the caller (capture + encode)',
        value: r.capture,
        unit: 'ms',
        ratio: r.capture / r.floor,
        baseline: 'floor',
        note: 'the weights are copied into the step file at the call; the write runs on the thread pool',
      },
    ];
  },
};
