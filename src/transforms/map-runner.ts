// Runs a batch's map: a function on the main thread, a module on the main
// thread (workers: 0), or a module on worker threads (worker-pool.ts).
import { MapModuleError } from '../errors.js';
import type { MapContext } from '../loader/batch.js';
import { loadMapModule } from './map-module.cjs';
import type { MapSpec } from './map-spec.js';
import { WorkerPoolRunner } from './worker-pool.js';

export interface MapRunner {
  /**
   * The map's result, or a Promise of it. `block` is the buffer the batch's
   * views lie in. A throw or rejection is the map's own failure, except
   * MapModuleError and WorkerFailedError, which the runner raises itself.
   */
  run(batch: unknown, ctx: MapContext, block: ArrayBufferLike): unknown;
  /** True when every result is a Promise (a module map): next() cannot wait for it. */
  readonly alwaysAsync: boolean;
  /** Ends its threads; later results reject. */
  close(): void;
}

export function createRunner(spec: MapSpec, concurrency: number): MapRunner {
  if (spec.kind === 'function') return new FunctionRunner(spec.fn as (batch: unknown, ctx: MapContext) => unknown);
  return spec.workers === 0 ? new MainModuleRunner(spec.href) : new WorkerPoolRunner(spec.href, spec.workers, concurrency, spec.resourceLimits);
}

class FunctionRunner implements MapRunner {
  readonly alwaysAsync = false;
  constructor(private readonly fn: (batch: unknown, ctx: MapContext) => unknown) {}
  run(batch: unknown, ctx: MapContext): unknown {
    return this.fn(batch, ctx);
  }
  close(): void {}
}

/** A module map with workers: 0: loaded (asynchronously) at the first batch, then called in place. */
class MainModuleRunner implements MapRunner {
  readonly alwaysAsync = true;
  private fn: ((batch: unknown, ctx: MapContext) => unknown) | undefined;
  private loading: Promise<(batch: unknown, ctx: MapContext) => unknown> | undefined;
  constructor(private readonly href: string) {}

  run(batch: unknown, ctx: MapContext): unknown {
    if (this.fn !== undefined) return this.fn(batch, ctx);
    this.loading ??= loadMapModule(this.href).then(
      (fn) => (this.fn = fn),
      (cause: Error & { invalid?: boolean }) => {
        throw new MapModuleError(this.href, cause.message, { cause: cause.cause ?? cause });
      },
    );
    return this.loading.then((fn) => fn(batch, ctx));
  }

  close(): void {}
}
