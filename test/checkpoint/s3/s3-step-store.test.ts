// S3StepStore against a real S3-compatible server (s3rver on loopback): the
// write protocol, what we check ourselves where s3rver does not, and faults.
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CheckpointExistsError,
  CheckpointLockedError,
  inspectDirectory,
  PipelineCheckpoint,
  S3StepStore,
  type State,
} from '../../../src/index.js';
import { encodeStepFile } from '../../../src/checkpoint/step-file.js';
import { native } from '../../../src/native.js';
import { Child, ROOT } from '../../helpers/child-process.js';
import { BUCKET, S3Server } from '../../helpers/s3-server.js';

const server = new S3Server();
let client: S3Client;
let prefixes = 0;

beforeAll(async () => {
  await server.start();
  client = server.client();
});
afterAll(async () => {
  client?.destroy();
  await server.stop();
});

const crc32c = (bytes: Uint8Array): number => native().crc32c(bytes) >>> 0;

/** A fresh prefix per test, so tests never see each other's objects. */
function freshPrefix(): string {
  prefixes += 1;
  return `runs/t${prefixes}`;
}

function storeFor(prefix: string, extra: { leaseMs?: number } = {}): S3StepStore {
  return new S3StepStore({ bucket: BUCKET, prefix, clientConfig: server.clientConfig(), ...extra });
}

function checkpointFor(prefix: string, options: Record<string, unknown> = {}): PipelineCheckpoint {
  return new PipelineCheckpoint(`s3://${BUCKET}/${prefix}`, { store: storeFor(prefix), ...options });
}

/** A pipeline whose state is a value, for saving and restoring. */
function holder(value: State = null): { value: State; getState(): State; setState(s: State): void } {
  return {
    value,
    getState() {
      return this.value;
    },
    setState(s: State) {
      this.value = s;
    },
  };
}

async function objectBytes(key: string): Promise<Uint8Array | undefined> {
  try {
    const answer = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return await answer.Body!.transformToByteArray();
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

async function putRaw(key: string, bytes: Uint8Array | string): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: typeof bytes === 'string' ? bytes : Buffer.from(bytes) }));
}

describe('S3StepStore: saving and restoring', () => {
  it('writes one object per step, byte for byte the step file, and restores it', async () => {
    const prefix = freshPrefix();
    const ckpt = checkpointFor(prefix, { keep: 2 });
    expect(ckpt.directory).toBe(`s3://${BUCKET}/${prefix}`);
    const big = new Float32Array(300_000).map((_, i) => i * 0.5); // 1.2 MB: no aws-chunked framing in the object
    for (const step of [1, 2, 3]) {
      const file = await ckpt.save(holder({ step, big }), { step, metadata: { loss: 1 / step } });
      expect(file).toBe(`s3://${BUCKET}/${prefix}/step_${step}.msgpack`);
    }
    await ckpt.close();
    expect(await ckpt.steps()).toEqual([2, 3]); // retention pruned step 1 after step 3 was stored
    expect(await objectBytes(`${prefix}/step_1.msgpack`)).toBeUndefined();
    const raw = await objectBytes(`${prefix}/step_3.msgpack`);
    expect(raw![0]).toBe(0x87); // the envelope: a fixmap of 7 keys, not a chunk header
    const reader = new PipelineCheckpoint(`s3://${BUCKET}/${prefix}/`, { store: storeFor(prefix) });
    const into = holder();
    expect(await reader.restoreLatest(into)).toBe(3);
    expect(into.value).toEqual({ step: 3, big });
    expect(await reader.metadata(2)).toEqual({ loss: 0.5 });
    // The lock object is gone after close(): the next writer need not wait for a lease.
    await expect(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${prefix}/.resumable-pipeline.lock` }))).rejects.toMatchObject({
      name: 'NotFound',
    });
  });

  it('sends each step with its CRC32C and If-None-Match: *, a replacement without the condition, and never aws-chunked', async () => {
    const prefix = freshPrefix();
    const ckpt = checkpointFor(prefix);
    await ckpt.save(holder({ a: new Float64Array(200_000) }), { step: 1 });
    await ckpt.save(holder('again'), { step: 1, overwrite: true });
    await ckpt.close();
    const puts = server.requests().filter((r) => r.request === 'PUT' && r.path === `/${BUCKET}/${prefix}/step_1.msgpack`);
    expect(puts).toHaveLength(2);
    const crc = (bytes: Uint8Array) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(crc32c(bytes));
      return b.toString('base64');
    };
    const stored = (await objectBytes(`${prefix}/step_1.msgpack`))!;
    // No content-encoding (aws-chunked) and no other checksum: exactly these headers.
    expect(puts[0]!.headers).toEqual({
      'if-none-match': '*',
      'x-amz-checksum-crc32c': expect.stringMatching(/^[A-Za-z0-9+/]{6}==$/),
      'x-amz-sdk-checksum-algorithm': 'CRC32C',
    });
    expect(puts[1]!.headers).toEqual({ 'x-amz-checksum-crc32c': crc(stored), 'x-amz-sdk-checksum-algorithm': 'CRC32C' });
    const lockPuts = server.requests().filter((r) => r.request === 'PUT' && r.path === `/${BUCKET}/${prefix}/.resumable-pipeline.lock`);
    expect(lockPuts[0]!.headers).toMatchObject({ 'if-none-match': '*' });
  });

  it("checks the server's answer: a 412 is RP_CHECKPOINT_EXISTS, a CRC32C other than the one sent fails the save", async () => {
    const prefix = freshPrefix();
    const real = server.client();
    let answer: 'precondition' | 'bad-crc' | undefined;
    // What a server that enforces the condition, or stores other bytes, answers.
    const client = {
      async send(command: object): Promise<unknown> {
        if (command instanceof PutObjectCommand && command.input.Key === `${prefix}/step_1.msgpack` && answer !== undefined) {
          if (answer === 'precondition') {
            throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
          }
          return { ...((await real.send(command)) as object), ChecksumCRC32C: 'AAAAAA==' };
        }
        return real.send(command as never);
      },
    };
    const ckpt = new PipelineCheckpoint(`s3://${BUCKET}/${prefix}`, { store: new S3StepStore({ bucket: BUCKET, prefix, client }) });
    answer = 'precondition';
    await expect(ckpt.save(holder(1), { step: 1 })).rejects.toThrow(new CheckpointExistsError(`s3://${BUCKET}/${prefix}/step_1.msgpack`));
    answer = 'bad-crc';
    await expect(ckpt.save(holder(1), { step: 1 })).rejects.toMatchObject({
      code: 'RP_CHECKPOINT_WRITE_FAILED',
      message: expect.stringContaining('with CRC32C AAAAAA==, not the'),
    });
    answer = undefined;
    await ckpt.close();
    real.destroy();
  });

  it('an s3:// location with a store for another prefix is refused', () => {
    expect(() => new PipelineCheckpoint(`s3://${BUCKET}/a`, { store: storeFor('b') })).toThrow(
      expect.objectContaining({ code: 'RP_INVALID_ARGUMENT', message: expect.stringContaining(`s3://${BUCKET}/b`) }),
    );
    expect(() => new S3StepStore({ bucket: 'Bad_Bucket' })).toThrow(expect.objectContaining({ code: 'RP_INVALID_ARGUMENT' }));
    expect(() => new S3StepStore({ bucket: BUCKET, prefix: 'x/' })).toThrow(/options\.prefix/);
    expect(() => new PipelineCheckpoint('s3://')).toThrow(expect.objectContaining({ code: 'RP_INVALID_ARGUMENT', message: expect.stringContaining('s3://bucket/prefix') }));
    expect(() => new PipelineCheckpoint('gs://bucket/run')).toThrow(expect.objectContaining({ code: 'RP_INVALID_ARGUMENT', message: expect.stringContaining('unsupported checkpoint location') }));
    expect(() => new S3StepStore({ bucket: BUCKET, client: server.client(), clientConfig: {} })).toThrow(/cannot both be given/);
    expect(() => new S3StepStore({ bucket: BUCKET, leaseMs: 5 })).toThrow(/options\.leaseMs/);
    // Without a store, an s3:// location gets one with the SDK's default client (created on first use).
    expect(new PipelineCheckpoint(`s3://${BUCKET}/some/run/`).directory).toBe(`s3://${BUCKET}/some/run`);
  });

  it('never overwrites a step without overwrite: true, even where the server ignores If-None-Match', async () => {
    const prefix = freshPrefix();
    // The server's gap: a conditional PutObject that should fail with 412 succeeds.
    await putRaw(`${prefix}/probe`, 'first');
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/probe`, Body: 'second', IfNoneMatch: '*' }));
    expect(Buffer.from((await objectBytes(`${prefix}/probe`))!).toString()).toBe('second');

    // Our own checks refuse it. A put without the lock: the store's HEAD before its PUT.
    const ckpt = checkpointFor(prefix);
    await ckpt.save(holder('one'), { step: 1 });
    const before = await objectBytes(`${prefix}/step_1.msgpack`);
    const file = `s3://${BUCKET}/${prefix}/step_1.msgpack`;
    await expect(storeFor(prefix).put('step_1.msgpack', new Uint8Array([1, 2, 3]))).rejects.toThrow(new CheckpointExistsError(file));
    expect(await objectBytes(`${prefix}/step_1.msgpack`)).toEqual(before);
    // Under the lock: the writer's listing. The same step again is refused, with overwrite it is replaced.
    await expect(ckpt.save(holder('again'), { step: 1 })).rejects.toMatchObject({ code: 'RP_CHECKPOINT_EXISTS' });
    await ckpt.save(holder('replaced'), { step: 1, overwrite: true });
    await ckpt.close();
    const into = holder();
    await new PipelineCheckpoint(`s3://${BUCKET}/${prefix}`, { store: storeFor(prefix) }).restore(into, 1);
    expect(into.value).toBe('replaced');
  });

  it('lists more than 1000 steps (ListObjectsV2 pages), restores the newest and prunes them all after a save', async () => {
    const prefix = freshPrefix();
    const count = 1105;
    // Created directly with the SDK (a checkpoint would take a save per step).
    const steps = Array.from({ length: count }, (_, i) => i + 1);
    for (let i = 0; i < steps.length; i += 50) {
      await Promise.all(steps.slice(i, i + 50).map((s) => putRaw(`${prefix}/step_${s}.msgpack`, encodeStepFile(s, { s }, {}, Date.now()))));
    }
    const ckpt = checkpointFor(prefix, { keep: 2 });
    expect(await ckpt.steps()).toEqual(steps);
    const into = holder();
    expect(await ckpt.restoreLatest(into)).toBe(count);
    expect(into.value).toEqual({ s: count });
    await ckpt.save(holder({ s: count + 1 }), { step: count + 1 }); // prunes 1104 objects: two DeleteObjects
    expect(await ckpt.steps()).toEqual([count, count + 1]);
    await ckpt.close();
    expect((await inspectDirectory(`s3://${BUCKET}/${prefix}`, { store: storeFor(prefix) })).steps.map((s) => s.step)).toEqual([count, count + 1]);
  });
});

describe('S3StepStore: damage behind our back', () => {
  it.each([
    ['a flipped bit', (b: Uint8Array) => b.map((x, i) => (i === b.length >> 1 ? x ^ 0x10 : x))],
    ['a truncated object', (b: Uint8Array) => b.subarray(0, b.length - 7)],
  ])('%s is detected: restoreLatest warns and falls back, inspect reports it', async (_, damage) => {
    const prefix = freshPrefix();
    const ckpt = checkpointFor(prefix);
    for (const step of [1, 2]) await ckpt.save(holder({ step }), { step });
    await ckpt.close();
    const key = `${prefix}/step_2.msgpack`;
    const damaged = damage((await objectBytes(key))!);
    await putRaw(key, damaged);

    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const into = holder();
      expect(await checkpointFor(prefix).restoreLatest(into)).toBe(1);
      expect(into.value).toEqual({ step: 1 });
      expect(warn).toHaveBeenCalledWith(expect.stringContaining(`s3://${BUCKET}/${key} is corrupt`), expect.objectContaining({ code: 'RP_CHECKPOINT_CORRUPT' }));
    } finally {
      warn.mockRestore();
    }
    const report = await inspectDirectory(`s3://${BUCKET}/${prefix}`, { store: storeFor(prefix) });
    expect(report.steps.map((s) => [s.step, s.valid])).toEqual([
      [1, true],
      [2, false],
    ]);
    // A writer sets the corrupt step aside and saves it again.
    const writer = checkpointFor(prefix);
    await writer.save(holder({ step: 2, again: true }), { step: 2 });
    await writer.close();
    expect(await objectBytes(`${key}.corrupt`)).toEqual(damaged);
    const into = holder();
    expect(await checkpointFor(prefix).restoreLatest(into)).toBe(2);
    expect(into.value).toEqual({ step: 2, again: true });
  });
});

describe('S3StepStore: one writer per prefix', () => {
  it('a second writer is refused while the first holds the lock, and gets it after close()', async () => {
    const prefix = freshPrefix();
    const first = checkpointFor(prefix);
    const second = checkpointFor(prefix);
    await first.save(holder(1), { step: 1 });
    await expect(second.save(holder(2), { step: 2 })).rejects.toThrow(new CheckpointLockedError(`s3://${BUCKET}/${prefix}`));
    await first.close();
    await second.save(holder(2), { step: 2 });
    await second.close();
    expect(await checkpointFor(prefix).steps()).toEqual([1, 2]);
  });

  it('a writer process killed with SIGKILL holds the lock until its lease runs out', async () => {
    const prefix = freshPrefix();
    const leaseMs = 1500;
    const options = { bucket: BUCKET, prefix, clientConfig: server.clientConfig(), leaseMs };
    const script = `
      const { PipelineCheckpoint, S3StepStore } = require(${JSON.stringify(join(ROOT, 'dist/cjs/index.js'))});
      const ckpt = new PipelineCheckpoint(${JSON.stringify(`s3://${BUCKET}/${prefix}`)}, { store: new S3StepStore(${JSON.stringify(options)}) });
      ckpt.save({ getState: () => 'child', setState() {} }, { step: 1 }).then(() => { console.log('saved'); setInterval(() => {}, 1000); });`;
    const child = new Child(process.execPath, ['-e', script], { ...process.env });
    try {
      await child.waitFor((l) => l === 'saved');
    } finally {
      child.proc.kill('SIGKILL');
    }
    await child.exited;
    const killedAt = Date.now();
    const ckpt = checkpointFor(prefix);
    await expect(ckpt.save(holder(2), { step: 2 })).rejects.toMatchObject({ code: 'RP_CHECKPOINT_LOCKED' });
    await new Promise((r) => setTimeout(r, leaseMs - (Date.now() - killedAt) + 100));
    await ckpt.save(holder(2), { step: 2 });
    await ckpt.close();
    expect(await checkpointFor(prefix).steps()).toEqual([1, 2]);
  });

  it("a dead writer's lock blocks until its lease runs out, then the next writer takes it over", async () => {
    const prefix = freshPrefix();
    const lockKey = `${prefix}/.resumable-pipeline.lock`;
    await putRaw(lockKey, JSON.stringify({ owner: 'dead', host: 'elsewhere', pid: 1, expires: Date.now() + 60_000 }));
    const ckpt = checkpointFor(prefix);
    await expect(ckpt.save(holder(1), { step: 1 })).rejects.toMatchObject({ code: 'RP_CHECKPOINT_LOCKED' });
    await putRaw(lockKey, JSON.stringify({ owner: 'dead', host: 'elsewhere', pid: 1, expires: Date.now() - 1 }));
    await ckpt.save(holder(1), { step: 1 });
    const lock = JSON.parse(Buffer.from((await objectBytes(lockKey))!).toString()) as { owner: string; expires: number };
    expect(lock.owner).not.toBe('dead');
    expect(lock.expires).toBeGreaterThan(Date.now());
    await ckpt.close();
  });

  it('a writer whose lock was taken over stops writing (RP_CHECKPOINT_LOCKED), nothing of the new owner lost', async () => {
    const prefix = freshPrefix();
    const store = storeFor(prefix, { leaseMs: 200 });
    const ckpt = new PipelineCheckpoint(`s3://${BUCKET}/${prefix}`, { store });
    await ckpt.save(holder(1), { step: 1 });
    // Another writer decides the lease ran out (a paused process, a skewed clock) and takes the lock.
    await putRaw(`${prefix}/.resumable-pipeline.lock`, JSON.stringify({ owner: 'other', host: 'h', pid: 2, expires: Date.now() + 60_000 }));
    await new Promise((r) => setTimeout(r, 300)); // the lease timer sees it
    await expect(ckpt.save(holder(2), { step: 2 })).rejects.toMatchObject({ code: 'RP_CHECKPOINT_LOCKED' });
    await ckpt.close();
    expect(JSON.parse(Buffer.from((await objectBytes(`${prefix}/.resumable-pipeline.lock`))!).toString())).toMatchObject({ owner: 'other' });
    expect(await checkpointFor(prefix).steps()).toEqual([1]);
  });
});

describe('S3StepStore: the server dies mid-save', () => {
  it('the save rejects with a code, earlier steps are intact, and the next save succeeds after a restart', async () => {
    const own = new S3Server();
    await own.start('/step_2\\.msgpack$'); // PUTs of step 2 never answer
    try {
      const prefix = 'dying';
      const store = new S3StepStore({ bucket: BUCKET, prefix, clientConfig: own.clientConfig() });
      const ckpt = new PipelineCheckpoint(`s3://${BUCKET}/${prefix}`, { store });
      await ckpt.save(holder({ step: 1 }), { step: 1 });
      const saving = ckpt.save(holder({ step: 2, data: new Uint8Array(4 << 20).fill(7) }), { step: 2 });
      const settled = saving.then(
        () => 'resolved',
        (err: unknown) => err,
      );
      await own.requestStarted('PUT', /step_2\.msgpack$/);
      await own.kill();
      const err = await settled;
      expect(err).toMatchObject({ code: 'RP_CHECKPOINT_WRITE_FAILED', file: `s3://${BUCKET}/${prefix}/step_2.msgpack` });

      await own.start(); // same port and data, no hang
      const into = holder();
      expect(await new PipelineCheckpoint(`s3://${BUCKET}/${prefix}`, { store: new S3StepStore({ bucket: BUCKET, prefix, clientConfig: own.clientConfig() }) }).restoreLatest(into)).toBe(1);
      expect(into.value).toEqual({ step: 1 });
      await ckpt.save(holder({ step: 2 }), { step: 2 });
      expect(await new PipelineCheckpoint(`s3://${BUCKET}/${prefix}`, { store: new S3StepStore({ bucket: BUCKET, prefix, clientConfig: own.clientConfig() }) }).steps()).toEqual([1, 2]);
      // close() with the server gone still resolves: the lock object stays until its lease runs out.
      await own.kill();
      await expect(ckpt.close()).resolves.toBeUndefined();
    } finally {
      await own.stop();
    }
  });
});
