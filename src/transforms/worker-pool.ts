// A module map on worker threads, through piscina. Each batch's bytes are
// copied once into a buffer of its own and transferred to a worker
// (batch-message.ts); the result's buffers come back transferred
// (map-worker.cjs). A worker that dies is replaced by piscina, and its batch
// retried once on another; a batch that kills two is WorkerFailedError.
import { extname, join } from 'node:path';
import { Piscina } from 'piscina';
import { ErrorCodes } from '../error-codes.js';
import { MapModuleError, WorkerFailedError, withCode } from '../errors.js';
import type { MapContext } from '../loader/batch.js';
import { keyWords } from '../random/key.js';
import { packBatch } from './batch-message.js';
import type { ErrorReply } from './map-module.cjs';
import type { MapRunner } from './map-runner.js';
import type { WorkerResourceLimits } from './map-spec.js';

/** The worker entry: plain JavaScript beside this file (copied to dist/ by the build). */
const ENTRY = join(__dirname, 'map-worker.cjs');
/** The package's entry as this file was loaded (src under a TypeScript loader, or dist/), for ctx.key in workers. */
const INDEX = join(__dirname, '..', `index${extname(__filename)}`);

type Reply = { value: unknown } | { failed: ErrorReply } | { invalid: string };

export class WorkerPoolRunner implements MapRunner {
  readonly alwaysAsync = true;
  private readonly pool: Piscina;
  private closed = false;

  constructor(
    private readonly href: string,
    workers: number,
    concurrency: number,
    resourceLimits: WorkerResourceLimits | undefined,
  ) {
    // Batches in flight beyond one per worker wait in the worker's own queue,
    // so a worker goes on to its next batch without a trip to the main thread.
    const perWorker = Math.max(1, Math.ceil(concurrency / workers));
    this.pool = new Piscina({
      filename: ENTRY,
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: perWorker,
      // Atomics.wait between tasks would block an async map's other tasks.
      atomics: perWorker > 1 ? 'async' : 'sync',
      workerData: { module: href, index: INDEX },
      ...(resourceLimits === undefined ? {} : { resourceLimits }),
    });
    // A worker dying between tasks: piscina replaces it; nothing was lost.
    this.pool.on('error', () => {});
  }

  async run(batch: unknown, ctx: MapContext, block: ArrayBufferLike): Promise<unknown> {
    const key = keyWords(ctx.key);
    let death: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      // Packed again for a retry: the first copy went to the worker that died.
      const { message, transfer } = packBatch(batch, ctx.epoch, ctx.indices, key, block);
      let reply: Reply;
      try {
        reply = (await this.pool.run(message, { transferList: transfer })) as Reply;
      } catch (error) {
        if (this.closed) throw closedError();
        death = error;
        continue;
      }
      if ('invalid' in reply) throw new MapModuleError(this.href, reply.invalid);
      if ('failed' in reply) throw errorOf(reply.failed);
      return reply.value;
    }
    throw new WorkerFailedError(ctx.epoch, ctx.indices, death);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.destroy().catch(() => {});
  }
}

function closedError(): Error {
  return withCode(new Error('the DataLoader was closed while a batch was in a map worker'), ErrorCodes.LOADER_CLOSED);
}

/** The map's error as the worker described it. */
function errorOf(r: ErrorReply): Error {
  const error = new Error(r.message);
  error.name = r.name;
  if (r.stack !== undefined) error.stack = r.stack;
  if (r.code !== undefined) (error as Error & { code: unknown }).code = r.code;
  return error;
}
