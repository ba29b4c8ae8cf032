// The quick-reference walk-through: a CheckpointableIterator subclass, saved
// every 100 steps (keeping 3), killed with SIGKILL part-way, then resumed in
// a fresh pipeline. It checks the resumed stream against an uninterrupted run
// and exits non-zero if they differ.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointableIterator, PipelineCheckpoint, random, type State } from '../src/index.js';
import { runUntilKilled } from './interrupt.js';

const NUM_RECORDS = 2700; // 270 batches per epoch
const NUM_EPOCHS = 2;
const SAVE_EVERY = 100;
const KILL_AFTER_STEP = 300;

/** Batches of record ids from a synthetic dataset, reshuffled every epoch. */
class SimplePipeline extends CheckpointableIterator<Float64Array> {
  private readonly data: Float64Array;
  private key: random.Key;
  private epoch = 0;
  private position = 0;
  private indices: Uint32Array;

  constructor(
    numRecords: number,
    readonly batchSize = 10,
    seed = 42,
  ) {
    super();
    this.data = Float64Array.from({ length: numRecords }, (_, i) => i * 1.5);
    this.key = random.key(seed);
    this.indices = this.shuffle();
  }

  private shuffle(): Uint32Array {
    return random.permutation(random.foldIn(this.key, this.epoch), this.data.length);
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  get currentPosition(): number {
    return this.position;
  }

  next(): IteratorResult<Float64Array> {
    if (this.position >= this.data.length) {
      this.epoch += 1;
      this.position = 0;
      this.indices = this.shuffle();
    }
    const ids = this.indices.subarray(this.position, this.position + this.batchSize);
    this.position += ids.length;
    return { done: false, value: Float64Array.from(ids, (i) => this.data[i]!) };
  }

  getState(): State {
    return { key: random.keyData(this.key), epoch: this.epoch, position: this.position, indices: this.indices };
  }

  setState(state: State): void {
    const s = state as { key: Uint32Array; epoch: number; position: number; indices: Uint32Array };
    // Validate everything first, so a bad state changes nothing.
    const key = random.wrapKeyData(s.key);
    if (!(s.indices instanceof Uint32Array) || s.indices.length !== this.data.length) {
      throw new TypeError('state.indices does not match this dataset');
    }
    if (!Number.isInteger(s.epoch) || !Number.isInteger(s.position) || s.position > this.data.length) {
      throw new TypeError('state.epoch or state.position is invalid');
    }
    this.key = key;
    this.epoch = s.epoch;
    this.position = s.position;
    this.indices = s.indices.slice();
  }
}

const stepsPerEpoch = Math.ceil(NUM_RECORDS / 10);
const totalSteps = stepsPerEpoch * NUM_EPOCHS;

function fingerprint(batch: Float64Array): string {
  return Array.from(batch).join(',');
}

/** The child: trains until killed, saving every SAVE_EVERY steps. */
async function child(dir: string): Promise<void> {
  const pipeline = new SimplePipeline(NUM_RECORDS);
  const checkpointer = new PipelineCheckpoint(dir);
  for (let step = 1; step <= totalSteps; step++) {
    pipeline.next();
    await new Promise((r) => setTimeout(r, 2)); // the "training step"
    if (step % SAVE_EVERY === 0) {
      await checkpointer.save(pipeline, { step, metadata: { epoch: pipeline.currentEpoch }, keep: 3 });
      console.log(`Saved checkpoint at step ${step}`);
    }
  }
}

async function parent(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'quickref-'));
  try {
    // The reference: one uninterrupted run.
    const reference = new SimplePipeline(NUM_RECORDS);
    const expected = Array.from({ length: totalSteps }, () => fingerprint(reference.next().value as Float64Array));

    // A real interruption: the child is killed with SIGKILL after step 300 is saved.
    await runUntilKilled(__filename, ['--child', dir], `Saved checkpoint at step ${KILL_AFTER_STEP}`);

    const checkpointer = new PipelineCheckpoint(dir);
    console.log(`Steps on disk: ${(await checkpointer.steps()).join(', ')}`);
    const pipeline = new SimplePipeline(NUM_RECORDS);
    console.log(`Before restore: position=${pipeline.currentPosition}`);
    const step = await checkpointer.restoreLatest(pipeline);
    if (step === null) throw new Error('no checkpoint to restore');
    console.log(`After restore: position=${pipeline.currentPosition} (epoch ${pipeline.currentEpoch}, step ${step})`);
    console.log(`Metadata: ${JSON.stringify(await checkpointer.metadata(step))}`);

    const resumed = Array.from({ length: totalSteps - step }, () => fingerprint(pipeline.next().value as Float64Array));
    const mismatch = resumed.findIndex((batch, i) => batch !== expected[step + i]);
    if (mismatch !== -1) {
      console.error(`Resumed stream differs from the uninterrupted run at step ${step + mismatch + 1}`);
      process.exitCode = 1;
      return;
    }
    console.log(`Resumed stream matches the uninterrupted run: ${resumed.length} batches from step ${step + 1} to ${totalSteps}`);
    await checkpointer.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const childDir = process.argv[2] === '--child' ? process.argv[3] : undefined;
(childDir === undefined ? parent() : child(childDir)).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
