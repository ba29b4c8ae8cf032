// The DataLoader with PipelineCheckpoint: a "training" child process reads
// shuffled, augmented batches from memory-mapped .npy files, saves every 50
// steps, and is killed with SIGKILL part-way. A fresh loader restores the
// newest step and must continue exactly like an uninterrupted run; the demo
// exits non-zero if it does not. It then resumes the same step file with two
// shards, which split the rest of the epoch between them exactly once.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataLoader, type MapContext, NpySource, PipelineCheckpoint, random } from '../src/index.js';
import { runUntilKilled } from './interrupt.js';

const NUM_RECORDS = 5000;
const FEATURES = 8;
const BATCH_SIZE = 32; // 157 batches per epoch
const NUM_EPOCHS = 2;
const SAVE_EVERY = 50;
const KILL_AFTER_STEP = 250; // in the second epoch

type Columns = { features: Float32Array; labels: Uint8Array };

/** A minimal .npy writer (numpy.save's layout) for the synthetic dataset. */
function writeNpy(path: string, data: Float32Array | Uint8Array, descr: string, shape: number[]): void {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header = header.padEnd(Math.ceil((10 + header.length + 1) / 64) * 64 - 11, ' ') + '\n';
  const prefix = Buffer.alloc(10);
  prefix.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  prefix.writeUInt16LE(header.length, 8);
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

function writeDataset(dir: string): { features: string; labels: string } {
  const features = Float32Array.from({ length: NUM_RECORDS * FEATURES }, (_, i) => Math.sin(i) * 10);
  const labels = Uint8Array.from({ length: NUM_RECORDS }, (_, i) => i % 10);
  const paths = { features: join(dir, 'features.npy'), labels: join(dir, 'labels.npy') };
  writeNpy(paths.features, features, '<f4', [NUM_RECORDS, FEATURES]);
  writeNpy(paths.labels, labels, '|u1', [NUM_RECORDS]);
  return paths;
}

/** Augmentation with randomness from ctx.key: reproducible after a resume, with nothing saved. */
function augment(batch: Columns & { epoch: number; indices: Uint32Array }, ctx: MapContext) {
  const noise = random.bits(ctx.key, batch.features.length);
  const features = batch.features.map((v, i) => v + (noise[i]! / 2 ** 32 - 0.5) * 0.1);
  return { features, labels: batch.labels, epoch: batch.epoch, indices: batch.indices };
}

function makeLoader(dataDir: string, shard = { index: 0, count: 1 }) {
  const source = NpySource.open<Columns>({ features: join(dataDir, 'features.npy'), labels: join(dataDir, 'labels.npy') });
  return new DataLoader(source, {
    batchSize: BATCH_SIZE,
    seed: 42,
    numEpochs: NUM_EPOCHS,
    prefetch: 4,
    shardIndex: shard.index,
    shardCount: shard.count,
    map: augment,
  });
}

function fingerprint(batch: ReturnType<typeof augment>): string {
  return createHash('sha256').update(batch.features).update(batch.labels).update(batch.indices).digest('hex');
}

/** The child: trains until killed, saving every SAVE_EVERY steps. */
async function child(dataDir: string, checkpointDir: string): Promise<void> {
  const loader = makeLoader(dataDir);
  const checkpointer = new PipelineCheckpoint(checkpointDir);
  let step = 0;
  for await (const batch of loader) {
    step += 1;
    await new Promise((r) => setTimeout(r, 1)); // the "training step"
    if (step % SAVE_EVERY === 0) {
      await checkpointer.save(loader, { step, metadata: { epoch: batch.epoch }, keep: 3 });
      console.log(`Saved checkpoint at step ${step}`);
    }
  }
}

async function parent(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'loader-demo-'));
  try {
    writeDataset(dir);
    const checkpointDir = join(dir, 'checkpoints');

    // The reference: one uninterrupted run.
    const reference = [...makeLoader(dir)].map(fingerprint);
    console.log(`Uninterrupted run: ${reference.length} batches over ${NUM_EPOCHS} epochs`);

    // A real interruption: the child is killed with SIGKILL once step 250 is saved.
    await runUntilKilled(__filename, ['--child', dir, checkpointDir], `Saved checkpoint at step ${KILL_AFTER_STEP}`, '  child: ');

    const checkpointer = new PipelineCheckpoint(checkpointDir);
    console.log(`Steps on disk: ${(await checkpointer.steps()).join(', ')}`);
    const loader = makeLoader(dir);
    const step = await checkpointer.restoreLatest(loader);
    if (step === null) throw new Error('no checkpoint to restore');
    const restored = loader.getState() as { epoch: number; position: number };
    console.log(`Restored step ${step}: state ${JSON.stringify(restored)}`);

    const resumed = [...loader].map(fingerprint);
    const expected = reference.slice(step);
    const mismatch = resumed.findIndex((f, i) => f !== expected[i]);
    if (mismatch !== -1 || resumed.length !== expected.length) {
      console.error(`Resumed stream differs from the uninterrupted run at step ${step + (mismatch === -1 ? resumed.length : mismatch) + 1}`);
      process.exitCode = 1;
      return;
    }
    console.log(`Resumed stream matches the uninterrupted run: ${resumed.length} batches, steps ${step + 1} to ${reference.length}`);

    // Elastic: the same step file, now read by two shards.
    const seen = new Map<number, number>();
    for (const index of [0, 1]) {
      const shard = makeLoader(dir, { index, count: 2 });
      await checkpointer.restore(shard, step);
      for (const batch of shard) {
        if (batch.epoch !== restored.epoch) break;
        for (const r of batch.indices) seen.set(r, (seen.get(r) ?? 0) + 1);
      }
    }
    const once = [...seen.values()].every((c) => c === 1);
    if (!once || seen.size !== NUM_RECORDS - restored.position) {
      console.error(`Two shards did not split the rest of epoch ${restored.epoch} exactly once`);
      process.exitCode = 1;
      return;
    }
    console.log(`Two shards resumed from the same file: the ${seen.size} records left in epoch ${restored.epoch} came exactly once`);
    await checkpointer.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
(args[0] === '--child' ? child(args[1]!, args[2]!) : parent()).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
