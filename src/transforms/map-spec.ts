// The map option and the options that go with it (concurrency, workers):
// which kind of map, where its module is, and the defaults.
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { argumentRangeError, argumentTypeError } from '../error-codes.js';
import { MapModuleError } from '../errors.js';
import { describe, integer, plainObject } from '../validate.js';

/** The most batches in flight, and the most worker threads, one loader may ask for. */
export const MAX_CONCURRENCY = 4096;
export const MAX_WORKERS = 1024;

/**
 * A `URL` of a map module, as the options' type names it: structurally, so
 * the package's types need no DOM or Node typings (a `URL` instance is
 * checked at run time).
 */
export interface ModuleUrl {
  readonly href: string;
  readonly protocol: string;
}

export type MapSpec =
  | { readonly kind: 'function'; readonly fn: (batch: never, ctx: never) => unknown }
  | {
      readonly kind: 'module';
      /** The module's file: (or data:) URL. */
      readonly href: string;
      /** Worker threads; 0 runs the module on the main thread. */
      readonly workers: number;
      /** Each worker's limits (a worker past them dies, and is replaced). */
      readonly resourceLimits: WorkerResourceLimits | undefined;
    };

/** A map worker's resource limits (Node's `Worker` resourceLimits), in MiB. */
export interface WorkerResourceLimits {
  readonly maxOldGenerationSizeMb?: number;
  readonly maxYoungGenerationSizeMb?: number;
  readonly codeRangeSizeMb?: number;
  readonly stackSizeMb?: number;
}

const LIMITS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'] as const;

export interface ResolvedMap {
  readonly map: MapSpec | undefined;
  /** Batches whose map may run at once, ahead of the consumer. */
  readonly concurrency: number;
}

/** Worker threads when `workers` is not given: one per core but the main thread's, at least 1. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

/**
 * Batches in flight when `concurrency` is not given: 1 for a function; for a
 * module, two per worker (one running, one queued beside it, so no worker
 * waits for the main thread between batches), or 1 on the main thread.
 */
export function defaultConcurrency(map: MapSpec | undefined): number {
  return map?.kind === 'module' && map.workers > 0 ? 2 * map.workers : 1;
}

export function resolveMap(map: unknown, concurrency: unknown, workers: unknown, resourceLimits?: unknown): ResolvedMap {
  let spec: MapSpec | undefined;
  if (map === undefined) {
    spec = undefined;
  } else if (typeof map === 'function') {
    spec = { kind: 'function', fn: map as (batch: never, ctx: never) => unknown };
  } else if (typeof map === 'string' || map instanceof URL) {
    spec = {
      kind: 'module',
      href: moduleHref(map),
      workers: workers === undefined ? defaultWorkers() : integer(workers, 'options.workers', 0, MAX_WORKERS),
      resourceLimits: limitsOf(resourceLimits),
    };
  } else {
    throw argumentTypeError(`options.map must be a function, a module path or a URL, got ${describe(map)}`);
  }
  for (const [name, value] of [['workers', workers], ['resourceLimits', resourceLimits]] as const) {
    if (value !== undefined && spec?.kind !== 'module') {
      throw argumentTypeError(`options.${name} needs options.map to be a module (a path or a URL): a function map runs on the main thread`);
    }
  }
  const n = concurrency === undefined ? defaultConcurrency(spec) : integer(concurrency, 'options.concurrency', 1, MAX_CONCURRENCY);
  return { map: spec, concurrency: n };
}

/** A module path (relative to the working directory) or URL as a URL string; a missing file is refused here. */
function moduleHref(map: string | URL): string {
  if (typeof map === 'string') {
    if (map === '') throw argumentTypeError('options.map must be a function, a module path or a URL, got an empty string');
    return checkFile(pathToFileURL(resolve(map)).href, map);
  }
  if (map.protocol === 'data:') return map.href;
  if (map.protocol !== 'file:') throw argumentRangeError(`options.map must be a file: or data: URL, got ${map.href}`);
  return checkFile(map.href, map.href);
}

function checkFile(href: string, given: string): string {
  const path = fileURLToPath(href);
  let file: boolean;
  try {
    file = statSync(path).isFile();
  } catch (cause) {
    throw new MapModuleError(given, `the map module ${given} cannot be loaded: ${(cause as Error).message}`, { cause });
  }
  if (!file) throw new MapModuleError(given, `the map module ${given} is not a file`);
  return href;
}

function limitsOf(value: unknown): WorkerResourceLimits | undefined {
  if (value === undefined) return undefined;
  const o = plainObject(value, 'options.resourceLimits', LIMITS, 'a worker resource limit');
  const out: Record<string, number> = {};
  for (const key of LIMITS) {
    const v = o[key];
    if (v === undefined) continue;
    if (typeof v !== 'number') throw argumentTypeError(`options.resourceLimits.${key} must be a number, got ${describe(v)}`);
    if (!(v > 0) || !Number.isFinite(v)) throw argumentRangeError(`options.resourceLimits.${key} must be a positive number of MiB, got ${v}`);
    out[key] = v;
  }
  return out;
}
