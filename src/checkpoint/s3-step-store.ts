// A StepStore over an S3-compatible object store (README, "Many machines").
// Object stores have no rename, so a step is one PutObject of the whole file:
// S3 makes an object visible whole or not at all. The file's own CRC32C
// (FORMAT.md) is checked on every read, so a server that damages or
// truncates an object is caught whatever it promised.
//
// - Writes send the CRC32C of the object (x-amz-checksum-crc32c, computed by
//   the core, so the SDK neither hashes nor streams with aws-chunked framing)
//   and If-None-Match: * unless replacing. On servers that ignore the
//   condition (s3rver), the writer's lock and its listing refuse an existing
//   step (and a HEAD before the PUT, for a put made without the lock).
// - One writer per prefix: a lock object taken with a conditional put and
//   held by a lease that a timer renews; a writer that dies holding it blocks
//   others until the lease runs out (leaseMs), then the next writer takes over.
// - "Durable" is the server's 200: the store has no directory to sync.
//
// @aws-sdk/client-s3 is an optional peer dependency, imported on first use.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { CheckpointExistsError, CheckpointLockedError, ResumablePipelineError } from '../errors.js';
import { argumentRangeError, argumentTypeError, ErrorCodes } from '../error-codes.js';
import { native } from '../native.js';
import { describe, plainObject } from '../validate.js';
import { LOCK_FILE } from './posix-step-store.js';
import type { PruneFailure, PutOptions, StepStore, StepStoreLock, StoredFile } from './step-store.js';

type Sdk = typeof import('@aws-sdk/client-s3');

/** What S3StepStore needs of a client: an S3Client of @aws-sdk/client-s3 v3. */
export interface S3ClientLike {
  send(command: object): Promise<unknown>;
}

export interface S3StepStoreOptions {
  /** The bucket; it must exist. */
  bucket: string;
  /** The key prefix the step files go under (no leading or trailing '/'; '' for the bucket's top). Default ''. */
  prefix?: string;
  /** An S3Client to use; else one is made from clientConfig (default: the SDK's default chain). */
  client?: S3ClientLike;
  /** Options for the S3Client made when no client is given (region, endpoint, credentials, ...). */
  clientConfig?: Record<string, unknown>;
  /** How long the writer lock lasts without renewal, ms (default 60000; renewed every third of it). */
  leaseMs?: number;
}

export const DEFAULT_LEASE_MS = 60_000;
/** ListObjectsV2 and DeleteObjects handle at most this many keys per call. */
const PAGE = 1000;

let sdkPromise: Promise<Sdk> | undefined;

/** The SDK, imported once; its absence is RP_DEPENDENCY_MISSING saying what to install. */
function loadSdk(): Promise<Sdk> {
  sdkPromise ??= import('@aws-sdk/client-s3').catch((err: unknown) => {
    sdkPromise = undefined;
    const code = (err as { code?: unknown } | null)?.code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw err;
    // A ResumablePipelineError, so readers and writers pass it on unwrapped.
    throw new ResumablePipelineError(
      ErrorCodes.DEPENDENCY_MISSING,
      'S3StepStore needs the AWS SDK for S3, an optional peer dependency of resumable-pipeline: npm install @aws-sdk/client-s3',
      { cause: err },
    );
  });
  return sdkPromise;
}

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function isMissing(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return status(err) === 404 || name === 'NoSuchKey' || name === 'NotFound';
}

/** A conditional write the server refused (412), or raced with another (409). */
function isConditionFailed(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return status(err) === 412 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status(err) === 409;
}

/** The CRC32C of bytes as S3 writes it: four big-endian bytes in base64. */
function crc32cBase64(bytes: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(native().crc32c(bytes) >>> 0);
  return out.toString('base64');
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

interface LockBody {
  owner: string;
  host: string;
  pid: number;
  /** Wall-clock ms after which another writer may take the lock over. */
  expires: number;
}

export class S3StepStore implements StepStore {
  readonly bucket: string;
  readonly prefix: string;
  /** s3://bucket/prefix, as errors and PipelineCheckpoint name it. */
  readonly location: string;
  readonly leaseMs: number;
  private clientPromise: Promise<S3ClientLike> | undefined;
  private readonly givenClient: S3ClientLike | undefined;
  private readonly clientConfig: Record<string, unknown> | undefined;
  /** The lock this store holds, if any: puts check its lease first. */
  private held: S3Lock | undefined;

  constructor(options: S3StepStoreOptions) {
    const o = plainObject(options, 'options', ['bucket', 'prefix', 'client', 'clientConfig', 'leaseMs']);
    if (typeof o.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(o.bucket)) {
      throw argumentTypeError(`options.bucket must be an S3 bucket name (3-63 of a-z, 0-9, '.', '-'), got ${describe(o.bucket)}`);
    }
    const prefix = o.prefix ?? '';
    if (typeof prefix !== 'string' || prefix.startsWith('/') || prefix.endsWith('/') || prefix.includes('//')) {
      throw argumentTypeError(`options.prefix must be a key prefix without leading, trailing or double '/', got ${describe(prefix)}`);
    }
    if (o.client !== undefined && o.clientConfig !== undefined) {
      throw argumentTypeError('options.client and options.clientConfig cannot both be given');
    }
    if (o.client !== undefined && (typeof o.client !== 'object' || o.client === null || typeof (o.client as S3ClientLike).send !== 'function')) {
      throw argumentTypeError(`options.client must be an S3Client, got ${describe(o.client)}`);
    }
    if (o.clientConfig !== undefined && (typeof o.clientConfig !== 'object' || o.clientConfig === null)) {
      throw argumentTypeError(`options.clientConfig must be an object, got ${describe(o.clientConfig)}`);
    }
    const leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
    if (typeof leaseMs !== 'number' || !Number.isSafeInteger(leaseMs) || leaseMs < 100) {
      throw argumentRangeError(`options.leaseMs must be an integer >= 100, got ${describe(leaseMs)}`);
    }
    this.bucket = o.bucket;
    this.prefix = prefix;
    this.location = prefix === '' ? `s3://${o.bucket}` : `s3://${o.bucket}/${prefix}`;
    this.leaseMs = leaseMs;
    this.givenClient = o.client as S3ClientLike | undefined;
    this.clientConfig = o.clientConfig as Record<string, unknown> | undefined;
  }

  /** A store for s3://bucket/prefix with the SDK's default client (or clientConfig). */
  static fromUrl(url: string, options: Omit<S3StepStoreOptions, 'bucket' | 'prefix'> = {}): S3StepStore {
    const match = /^s3:\/\/([^/]+)(?:\/(.*?))?\/*$/.exec(url);
    if (match === null) throw argumentTypeError(`an S3 location must look like s3://bucket/prefix, got ${JSON.stringify(url)}`);
    return new S3StepStore({ ...options, bucket: match[1]!, prefix: match[2] ?? '' });
  }

  /** The object key of a file name. */
  key(name: string): string {
    return this.prefix === '' ? name : `${this.prefix}/${name}`;
  }

  private async sdk(): Promise<{ sdk: Sdk; client: S3ClientLike }> {
    const sdk = await loadSdk();
    this.clientPromise ??= Promise.resolve(this.givenClient ?? new sdk.S3Client(this.clientConfig ?? {}));
    return { sdk, client: await this.clientPromise };
  }

  /** Nothing to create: the bucket must exist, and prefixes need no creating. */
  create(): void {}

  async list(): Promise<string[]> {
    const { sdk, client } = await this.sdk();
    const start = this.prefix === '' ? '' : `${this.prefix}/`;
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = (await client.send(
        new sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: start, Delimiter: '/', ContinuationToken: token, MaxKeys: PAGE }),
      )) as import('@aws-sdk/client-s3').ListObjectsV2CommandOutput;
      for (const object of page.Contents ?? []) if (object.Key !== undefined) names.push(object.Key.slice(start.length));
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return names;
  }

  /** One GetObject of the file name: its bytes, time and ETag, or undefined if there is no such object. */
  private async get(name: string): Promise<{ bytes: Uint8Array; mtimeMs: number; etag: string | undefined } | undefined> {
    const { sdk, client } = await this.sdk();
    let answer: import('@aws-sdk/client-s3').GetObjectCommandOutput;
    try {
      answer = (await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.key(name) }))) as typeof answer;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    const bytes = await answer.Body!.transformToByteArray();
    return { bytes, mtimeMs: answer.LastModified?.getTime() ?? 0, etag: answer.ETag };
  }

  async read(name: string): Promise<StoredFile | undefined> {
    const found = await this.get(name);
    return found === undefined ? undefined : { bytes: found.bytes, size: found.bytes.length, mtimeMs: found.mtimeMs };
  }

  /** Whether an object exists under name (a HEAD). */
  private async exists(name: string): Promise<boolean> {
    const { sdk, client } = await this.sdk();
    try {
      await client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.key(name) }));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  /**
   * One PutObject of the whole file, with its CRC32C and (unless
   * options.replace) If-None-Match: *; then, once the server has answered 200
   * (options.onDurable), one DeleteObjects per 1000 pruned names.
   */
  async put(name: string, bytes: Uint8Array, prune: readonly string[] = [], options: PutOptions = {}): Promise<PruneFailure[]> {
    const { sdk, client } = await this.sdk();
    await this.held?.check();
    const file = `${this.location}/${name}`;
    // Our own check, for servers that ignore If-None-Match. Under this store's
    // lock the writer has listed the prefix and checked the name itself (a
    // PipelineCheckpoint does), so the round trip is spared there.
    if (options.replace !== true && this.held === undefined && (await this.exists(name))) throw new CheckpointExistsError(file);
    const crc = crc32cBase64(bytes);
    let answer: import('@aws-sdk/client-s3').PutObjectCommandOutput;
    try {
      answer = (await client.send(
        new sdk.PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(name),
          Body: asBuffer(bytes),
          ContentLength: bytes.length,
          ChecksumAlgorithm: 'CRC32C',
          ChecksumCRC32C: crc,
          ...(options.replace === true ? {} : { IfNoneMatch: '*' }),
        }),
      )) as typeof answer;
    } catch (err) {
      if (options.replace !== true && isConditionFailed(err)) throw new CheckpointExistsError(file);
      throw err;
    }
    if (answer.ChecksumCRC32C !== undefined && answer.ChecksumCRC32C !== crc) {
      throw new Error(`the server stored ${file} with CRC32C ${answer.ChecksumCRC32C}, not the ${crc} sent`);
    }
    options.onDurable?.();
    return this.removeMany(prune);
  }

  /** Deletes names, at most 1000 per request; resolves with those not deleted. */
  private async removeMany(names: readonly string[]): Promise<PruneFailure[]> {
    if (names.length === 0) return [];
    const { sdk, client } = await this.sdk();
    const failed: PruneFailure[] = [];
    for (let i = 0; i < names.length; i += PAGE) {
      const batch = names.slice(i, i + PAGE);
      try {
        const answer = (await client.send(
          new sdk.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((n) => ({ Key: this.key(n) })), Quiet: true } }),
        )) as import('@aws-sdk/client-s3').DeleteObjectsCommandOutput;
        const start = this.key('').length;
        for (const e of answer.Errors ?? []) failed.push({ name: (e.Key ?? '').slice(start), reason: `${e.Code ?? 'error'}: ${e.Message ?? ''}` });
      } catch (err) {
        for (const n of batch) failed.push({ name: n, reason: (err as Error).message });
      }
    }
    return failed;
  }

  async remove(name: string): Promise<void> {
    const { sdk, client } = await this.sdk();
    await client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(name) }));
  }

  /** A server-side copy, then the delete of the original. */
  async setAside(name: string, asideName: string): Promise<void> {
    const { sdk, client } = await this.sdk();
    const source = `${this.bucket}/${this.key(name).split('/').map(encodeURIComponent).join('/')}`;
    await client.send(new sdk.CopyObjectCommand({ Bucket: this.bucket, Key: this.key(asideName), CopySource: source }));
    await this.remove(name);
  }

  /** Every acknowledged request is durable already. */
  async syncDirectory(): Promise<void> {}

  /**
   * Takes the prefix's lock object: a conditional put (If-None-Match: *, or
   * If-Match on an expired lease's ETag), read back to confirm this writer owns
   * it (servers that ignore conditions). Null while another writer's lease runs.
   */
  async lock(): Promise<StepStoreLock | null> {
    const lock = new S3Lock(this, randomBytes(16).toString('hex'));
    if (!(await lock.acquire())) return null;
    this.held = lock;
    lock.onRelease = () => {
      if (this.held === lock) this.held = undefined;
    };
    return lock;
  }

  /** @internal The lock object as stored, with its ETag; undefined if there is none. */
  async readLock(): Promise<{ body: LockBody | undefined; etag: string | undefined } | undefined> {
    const found = await this.get(LOCK_FILE);
    if (found === undefined) return undefined;
    const text = Buffer.from(found.bytes.buffer, found.bytes.byteOffset, found.bytes.byteLength).toString('utf8');
    let body: LockBody | undefined;
    try {
      const parsed = JSON.parse(text) as Partial<LockBody>;
      if (typeof parsed.owner === 'string' && typeof parsed.expires === 'number') body = parsed as LockBody;
    } catch {
      body = undefined; // unreadable: treated as expired
    }
    return { body, etag: found.etag };
  }

  /** @internal Writes the lock object; false if the condition failed. */
  async writeLock(body: LockBody, condition: { ifNoneMatch: true } | { ifMatch: string | undefined }): Promise<boolean> {
    const { sdk, client } = await this.sdk();
    const bytes = Buffer.from(JSON.stringify(body));
    try {
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(LOCK_FILE),
          Body: bytes,
          ContentType: 'application/json',
          ChecksumAlgorithm: 'CRC32C',
          ChecksumCRC32C: crc32cBase64(bytes),
          ...('ifNoneMatch' in condition ? { IfNoneMatch: '*' } : condition.ifMatch === undefined ? {} : { IfMatch: condition.ifMatch }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  /** @internal Deletes the lock object. */
  async deleteLock(): Promise<void> {
    await this.remove(LOCK_FILE);
  }
}

/** A held lease on a prefix's lock object, renewed by an unref'd timer until released. */
class S3Lock implements StepStoreLock {
  private timer: NodeJS.Timeout | undefined;
  /** Until when this writer's lease surely runs, by its own clock. */
  private validUntil = 0;
  private lost = false;
  private released = false;
  private renewing: Promise<void> | undefined;
  onRelease: (() => void) | undefined;

  constructor(
    private readonly store: S3StepStore,
    private readonly owner: string,
  ) {}

  private body(now: number): LockBody {
    return { owner: this.owner, host: hostname(), pid: process.pid, expires: now + this.store.leaseMs };
  }

  async acquire(): Promise<boolean> {
    const now = Date.now();
    const current = await this.store.readLock();
    if (current?.body !== undefined && current.body.expires > now) return false; // another writer's lease runs
    const condition = current === undefined ? { ifNoneMatch: true as const } : { ifMatch: current.etag };
    if (!(await this.store.writeLock(this.body(now), condition))) return false;
    // Read back: on a server that ignores conditions, the last of two racing writers wins here.
    const mine = await this.store.readLock();
    if (mine?.body?.owner !== this.owner) return false;
    this.validUntil = now + this.store.leaseMs;
    this.timer = setInterval(() => void this.renew().catch(() => {}), Math.max(50, Math.floor(this.store.leaseMs / 3)));
    this.timer.unref();
    return true;
  }

  /** Extends the lease if this writer still owns the lock; otherwise marks it lost. */
  renew(): Promise<void> {
    this.renewing ??= (async () => {
      try {
        if (this.released || this.lost) return;
        const now = Date.now();
        const current = await this.store.readLock();
        if (current?.body?.owner !== this.owner) {
          this.lost = true;
          return;
        }
        if (await this.store.writeLock(this.body(now), { ifMatch: current.etag })) this.validUntil = now + this.store.leaseMs;
        else this.lost = true;
      } finally {
        this.renewing = undefined;
      }
    })();
    return this.renewing;
  }

  /** Before a write: the lease must run for a good while yet (renewed now if not); a lost lock throws. */
  async check(): Promise<void> {
    if (!this.lost && Date.now() > this.validUntil - this.store.leaseMs / 2) await this.renew();
    if (this.lost || Date.now() >= this.validUntil) {
      this.lost = true;
      throw new CheckpointLockedError(this.store.location);
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    this.onRelease?.();
    await this.renewing?.catch(() => {});
    if (this.lost) return;
    try {
      const current = await this.store.readLock();
      if (current?.body?.owner === this.owner) await this.store.deleteLock();
    } catch {
      // The server is unreachable: the lock object stays until its lease runs out, as a dead writer's does.
    }
  }
}
