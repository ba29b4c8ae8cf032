// A real training loop (npm run demo:train): a small TensorFlow.js model
// (pure-JS CPU backend) learns a synthetic regression through a DataLoader
// with a per-batch augmentation. Loader, weights and Adam's state go into one
// step file every SAVE_EVERY steps, keeping the newest two and the best two by
// loss. One training process is killed with SIGKILL mid-run, the next one
// resumes and gets SIGTERM (saveOnSignal saves at that step and exits with
// 143); this process then resumes from that save and finishes. The final
// weights must equal an uninterrupted run's byte for byte; the demo prints
// that check and exits non-zero if it fails.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ArraySource, DataLoader, type MapContext, PipelineCheckpoint, random } from '../src/index.js';
import { adamPart, modelPart } from './tfjs-parts.js';

const NUM_RECORDS = 1024;
const FEATURES = 8;
const BATCH_SIZE = 32; // 32 steps per epoch
const NUM_EPOCHS = 8; // 256 steps
const SAVE_EVERY = 20;
const KILL_AT = 50; // SIGKILL once the first process prints this step
const TERM_AT = 100; // SIGTERM once the second one does
const keepBest = { metric: 'loss', mode: 'min' as const, count: 2 };

type Columns = { x: Float32Array; y: Float32Array };

/** y = sin(w·x) + small noise: fixed by a seed, so every process builds the same data. */
function dataset() {
  const x = new Float32Array(NUM_RECORDS * FEATURES);
  const bits = random.bits(random.key(7), x.length + NUM_RECORDS);
  for (let i = 0; i < x.length; i++) x[i] = bits[i]! / 2 ** 31 - 1;
  const y = new Float32Array(NUM_RECORDS);
  for (let r = 0; r < NUM_RECORDS; r++) {
    let dot = 0;
    for (let f = 0; f < FEATURES; f++) dot += x[r * FEATURES + f]! * (f + 1) * 0.2;
    y[r] = Math.sin(dot) + (bits[x.length + r]! / 2 ** 32 - 0.5) * 0.05;
  }
  return new ArraySource({ x: { data: x, shape: [NUM_RECORDS, FEATURES] }, y: { data: y, shape: [NUM_RECORDS, 1] } });
}

/** Per-batch augmentation: jitter from ctx.key, so a resumed run draws the same jitter with nothing saved. */
function augment(batch: Columns & { indices: Uint32Array }, ctx: MapContext) {
  const noise = random.bits(ctx.key, batch.x.length);
  const x = batch.x.map((v, i) => v + (noise[i]! / 2 ** 32 - 0.5) * 0.02);
  return { x, y: batch.y, rows: batch.indices.length };
}

function setup() {
  const loader = new DataLoader(dataset(), { batchSize: BATCH_SIZE, seed: 42, numEpochs: NUM_EPOCHS, map: augment });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 32, inputShape: [FEATURES], activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  const optimizer = tf.train.adam(0.01);
  return { loader, model, optimizer, parts: { loader, model: modelPart(model), optimizer: adamPart(optimizer, model) } };
}

/** One Adam step on a batch; returns the loss. */
function trainStep(model: tf.LayersModel, optimizer: tf.Optimizer, batch: ReturnType<typeof augment>): number {
  // The model's own variables, named: by default minimize() takes every trainable variable in the process.
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return tf.tidy(() => {
    const xs = tf.tensor2d(batch.x, [batch.rows, FEATURES]);
    const ys = tf.tensor2d(batch.y, [batch.rows, 1]);
    const loss = optimizer.minimize(() => tf.losses.meanSquaredError(ys, model.predict(xs) as tf.Tensor), true, variables)!;
    return loss.dataSync()[0]!;
  });
}

function weightBytes(model: tf.LayersModel): Buffer {
  return Buffer.concat(model.getWeights().map((w) => Buffer.from((w.dataSync() as Float32Array).slice().buffer)));
}

/** Resumes from the directory (or starts), trains to the end; returns the final weights and the steps. */
async function resumeAndTrain(checkpointDir: string, log?: (line: string) => void): Promise<{ weights: Buffer; resumedAt: number; step: number }> {
  const { loader, model, optimizer, parts } = setup();
  const checkpoint = new PipelineCheckpoint(checkpointDir, { keep: 2, keepBest });
  const resumedAt = (await checkpoint.restoreLatest(parts)) ?? 0;
  let step = resumedAt;
  log?.(`resumed at step ${step}`);
  let lossSum = 0;
  let lossCount = 0;
  const meanLoss = () => (lossCount === 0 ? Number.NaN : lossSum / lossCount);
  // On SIGTERM/SIGINT: save the three parts at the current step, then exit 128 + signal.
  checkpoint.saveOnSignal(parts, { step: () => step, metadata: () => ({ loss: meanLoss(), signal: true }) });
  for await (const batch of loader) {
    const loss = trainStep(model, optimizer, batch);
    step += 1;
    lossSum += loss;
    lossCount += 1;
    log?.(`step ${step}`);
    if (step % SAVE_EVERY === 0) {
      // Not awaited: the weights are captured now and written in the background.
      const saved = step;
      checkpoint.save(parts, { step, metadata: { loss: meanLoss() } }).then(
        () => log?.(`saved ${saved}`),
        (err: unknown) => {
          console.error(err);
          process.exit(1);
        },
      );
      lossSum = 0;
      lossCount = 0;
    }
    // Yield to the event loop once a step, where background saves complete and signals are
    // handled (awaiting a batch that is already prefetched runs only microtasks). Here, between
    // steps, the loader, the weights and `step` agree.
    await new Promise((resolve) => setImmediate(resolve));
  }
  await checkpoint.close();
  loader.close();
  log?.(`finished at step ${step}`);
  return { weights: weightBytes(model), resumedAt, step };
}

/** A training process (the child): its final weights go to `out`. */
async function child(checkpointDir: string, out: string): Promise<void> {
  writeFileSync(out, (await resumeAndTrain(checkpointDir, (line) => console.log(line))).weights);
}

/**
 * Runs a training process; sends `signal` once it prints `step <at>` (or a later step) and has
 * reported a durable save. Resolves with how it ended.
 */
function run(checkpointDir: string, out: string, stop?: { signal: NodeJS.Signals; at: number }) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; resumedAt: number; lastStep: number }>((resolve, reject) => {
    const proc = spawn(process.execPath, [...process.execArgv, __filename, '--child', checkpointDir, out], { stdio: ['ignore', 'pipe', 'inherit'] });
    let pending = '';
    let resumedAt = -1;
    let lastStep = 0;
    let sent = false;
    let durable = false;
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const resumed = /^resumed at step (\d+)$/.exec(line);
        if (resumed) {
          resumedAt = Number(resumed[1]);
          console.log(`  a training process resumed at step ${resumedAt}`);
        }
        const step = /^step (\d+)$/.exec(line);
        if (step) lastStep = Number(step[1]);
        if (line.startsWith('saved ')) durable = true;
        if (stop !== undefined && !sent && lastStep >= stop.at && durable) {
          sent = true;
          proc.kill(stop.signal);
          console.log(`  sent ${stop.signal} at step ${lastStep}`);
        }
      }
    });
    proc.on('error', reject);
    proc.on('close', (code, signal) => resolve({ code, signal, resumedAt, lastStep }));
  });
}

async function parent(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'train-demo-'));
  const fail = (message: string) => {
    console.error(`FAILED: ${message}`);
    process.exitCode = 1;
  };
  try {
    // The reference: one uninterrupted run, in this process.
    const reference = setup();
    let steps = 0;
    const t0 = Date.now();
    for (const batch of reference.loader) {
      trainStep(reference.model, reference.optimizer, batch);
      steps += 1;
    }
    const expected = weightBytes(reference.model);
    reference.loader.close();
    console.log(`Uninterrupted run: ${steps} steps, ${NUM_EPOCHS} epochs of ${NUM_RECORDS} records (${Date.now() - t0} ms)`);

    const checkpointDir = join(dir, 'checkpoints');
    const out = join(dir, 'weights.bin');
    const first = await run(checkpointDir, out, { signal: 'SIGKILL', at: KILL_AT });
    if (first.signal !== 'SIGKILL') return fail(`the first training process was not killed mid-run (${JSON.stringify(first)})`);
    console.log(`Killed the first training process with SIGKILL at step ${first.lastStep}`);
    const second = await run(checkpointDir, out, { signal: 'SIGTERM', at: TERM_AT });
    if (second.code !== 143) return fail(`the second training process did not save and exit with 143 on SIGTERM (${JSON.stringify(second)})`);
    const checkpoint = new PipelineCheckpoint(checkpointDir);
    const saved = await checkpoint.latestStep();
    console.log(`The second training process saved step ${saved} on SIGTERM and exited with ${second.code}`);
    // This process resumes from the SIGTERM save and finishes the run.
    const last = await resumeAndTrain(checkpointDir);
    if (last.resumedAt !== saved) return fail(`training resumed at ${last.resumedAt}, not at the SIGTERM save ${saved}`);
    console.log(`Resumed in this process at step ${last.resumedAt} and finished at step ${last.step}`);

    const onDisk = await checkpoint.steps();
    const best = setup();
    const bestStep = await checkpoint.restoreBest({ model: best.parts.model }, keepBest); // e.g. for evaluation
    best.loader.close();
    const bestLoss = bestStep === null ? undefined : (await checkpoint.metadata(bestStep)) as { loss: number };
    console.log(`Steps kept (keep: 2, keepBest: the best 2 by loss): ${onDisk.join(', ')}; best: step ${bestStep} (loss ${bestLoss?.loss.toFixed(5)})`);

    const got = last.weights;
    const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 16);
    if (!got.equals(expected)) return fail(`final weights differ from the uninterrupted run (${hash(got)} vs ${hash(expected)})`);
    console.log(`Final weights match the uninterrupted run byte for byte (${got.length} bytes, sha256 ${hash(got)})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
tf.setBackend('cpu')
  .then(() => (args[0] === '--child' ? child(args[1]!, args[2]!) : parent()))
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
