// S3StepStore on a loopback S3-compatible server (s3rver in its own process,
// as in the tests), against the same server's bare SDK calls:
//   save:          PipelineCheckpoint.save of a 1 MiB state until the server
//                  has it (HEAD for our own overwrite check, then one PutObject
//                  with our CRC32C), vs one bare PutObject of the same bytes;
//   restoreLatest: with 1000 steps in the bucket (one ListObjectsV2 page, one
//                  GetObject, the CRC and decode, setState), vs one bare
//                  ListObjectsV2 page + one bare GetObject.
// Both sides use one client with requestChecksumCalculation WHEN_REQUIRED, so
// the bare PutObject sends no checksum at all (the strictest floor); ours
// sends the CRC32C the core computes. Pairs alternate round by round.
//
// CLI:    npm run bench -- --only store
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { PipelineCheckpoint, S3StepStore, type State } from '../src/index.js';
import { encodeStepFile } from '../src/checkpoint/step-file.js';
import { BUCKET, S3Server } from '../test/helpers/s3-server.js';
import { alternate, type BenchContext, median, now, type Row, type Section } from './harness.js';

const STATE_BYTES = 1 << 20;
const STEPS_IN_BUCKET = 1000;

function config(server: S3Server): Record<string, unknown> {
  return { ...server.clientConfig(), requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' };
}

async function benchSave(client: S3Client, rounds: number) {
  const store = new S3StepStore({ bucket: BUCKET, prefix: 'bench/save', client });
  const ckpt = new PipelineCheckpoint(`s3://${BUCKET}/bench/save`, { store, keep: 2 });
  const weights = new Uint8Array(randomBytes(STATE_BYTES));
  const pipeline = { getState: (): State => ({ weights }), setState() {} };
  let fileBytes = 0;
  const saves: number[] = [];
  const puts: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    weights[0] = round;
    const bytes = encodeStepFile(round + 1, { weights }, {}, Date.now());
    fileBytes = bytes.length;
    const put = async () => {
      const t = now();
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `bench/bare/step_${round + 1}.msgpack`, Body: Buffer.from(bytes) }));
      return now() - t;
    };
    const save = async () => {
      await ckpt.waitUntilFinished(); // the previous save's pruning, as between training steps
      const t = now();
      await ckpt.save(pipeline, { step: round + 1 });
      return now() - t;
    };
    const [p, s] = await alternate(round, put, save);
    if (round > 0) {
      puts.push(p);
      saves.push(s);
    }
  }
  await ckpt.close();
  return { fileBytes, save: median(saves), put: median(puts) };
}

async function benchRestore(client: S3Client, rounds: number) {
  const prefix = 'bench/restore';
  const steps = Array.from({ length: STEPS_IN_BUCKET }, (_, i) => i + 1);
  const state = (s: number): State => ({ version: 1, epoch: 3, position: s * 256, fingerprint: { n: 1e6, seed: 42, shuffle: true, dropRemainder: false } });
  for (let i = 0; i < steps.length; i += 50) {
    await Promise.all(
      steps.slice(i, i + 50).map((s) => client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/step_${s}.msgpack`, Body: Buffer.from(encodeStepFile(s, state(s), {}, Date.now())) }))),
    );
  }
  const ckpt = new PipelineCheckpoint(`s3://${BUCKET}/${prefix}`, { store: new S3StepStore({ bucket: BUCKET, prefix, client }) });
  let restored: State = null;
  const target = { getState: (): State => null, setState: (s: State) => void (restored = s) };
  const restores: number[] = [];
  const bares: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    const bare = async () => {
      const t = now();
      const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/`, Delimiter: '/', MaxKeys: 1000 }));
      if (page.KeyCount !== STEPS_IN_BUCKET) throw new Error(`expected ${STEPS_IN_BUCKET} keys, got ${page.KeyCount}`);
      const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}/step_${STEPS_IN_BUCKET}.msgpack` }));
      await got.Body!.transformToByteArray();
      return now() - t;
    };
    const restore = async () => {
      const t = now();
      const step = await ckpt.restoreLatest(target);
      if (step !== STEPS_IN_BUCKET) throw new Error(`restored ${step}`);
      return now() - t;
    };
    const [b, r] = await alternate(round, bare, restore);
    if (round > 0) {
      bares.push(b);
      restores.push(r);
    }
  }
  if (restored === null) throw new Error('nothing restored');
  await ckpt.close();
  return { restore: median(restores), bare: median(bares) };
}

/** The store section of `npm run bench`. */
export const storeSection: Section = {
  id: 'store',
  title: 'S3StepStore on a loopback s3rver',
  async run(ctx: BenchContext): Promise<Row[]> {
    const server = await new S3Server().start();
    const client = new S3Client(config(server));
    try {
      const rounds = Math.max(ctx.repeats, 15);
      const s = await benchSave(client, rounds);
      const r = await benchRestore(client, rounds);
      const mib = (s.fileBytes / 2 ** 20).toFixed(2);
      return [
        { figure: `bare PutObject of the ${mib} MiB step file, p50`, value: s.put, unit: 'ms' },
        {
          figure: 'save() of a 1 MiB state until the server has it, p50',
          value: s.save,
          unit: 'ms',
          ratio: s.save / s.put,
          baseline: 'bare PutObject',
          target: '≤ 2×',
          met: s.save / s.put <= 2,
          note: 'one PutObject with the CRC32C (under the lock, no HEAD); keep: 2 prunes a step after the save resolves',
        },
        { figure: `bare ListObjectsV2 page (${STEPS_IN_BUCKET} keys) + GetObject of the newest, p50`, value: r.bare, unit: 'ms' },
        {
          figure: `restoreLatest with ${STEPS_IN_BUCKET} steps in the bucket, p50`,
          value: r.restore,
          unit: 'ms',
          ratio: r.restore / r.bare,
          baseline: 'bare List + Get',
          target: '≤ 3×',
          met: r.restore / r.bare <= 3,
        },
      ];
    } finally {
      client.destroy();
      await server.stop();
    }
  },
};
