// Which steps a save prunes, and which steps are the best by a metric. A step
// is kept if it is among the `keep` newest, a multiple of `keepEvery`, or among
// the `keepBest.count` best by `metadata[keepBest.metric]`. Step numbers and
// metrics come from the step files (the caller reads them), never from memory
// of earlier saves, so the rule holds across restarts.
import { isPlainObject, type State } from '../iterator/state.js';
import { argumentRangeError, argumentTypeError } from '../error-codes.js';
import { describe } from '../validate.js';

export interface KeepBest {
  /** The metadata key holding the metric (e.g. 'loss'). */
  metric: string;
  /** 'min': lower is better (a loss); 'max': higher is better (an accuracy). */
  mode: 'min' | 'max';
  /** How many of the best steps to keep (an integer >= 1). */
  count: number;
}

export interface RetentionPolicy {
  /** Keep this many newest steps (undefined: keep all, or only the newest when keepBest is set). */
  keep?: number | undefined;
  /** Steps divisible by this are milestones, never pruned. */
  keepEvery?: number | undefined;
  /** Also keep the `count` best steps by a metric in their metadata. */
  keepBest?: KeepBest | undefined;
}

/** Checks a keepBest option; the TypeError/RangeError names `name` and the field. */
export function parseKeepBest(value: unknown, name: string): KeepBest | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw argumentTypeError(`${name} must be an object { metric, mode, count }, got ${describe(value)}`);
  for (const key of Object.keys(value)) {
    if (key !== 'metric' && key !== 'mode' && key !== 'count') throw argumentTypeError(`${name}.${key} is not an option (expected metric, mode, count)`);
  }
  const { metric, mode, count } = value;
  if (typeof metric !== 'string' || metric === '') throw argumentTypeError(`${name}.metric must be a non-empty string, got ${describe(metric)}`);
  if (mode !== 'min' && mode !== 'max') throw argumentTypeError(`${name}.mode must be 'min' or 'max', got ${describe(mode)}`);
  if (typeof count !== 'number') throw argumentTypeError(`${name}.count must be a number, got ${describe(count)}`);
  if (!Number.isSafeInteger(count) || count < 1) throw argumentRangeError(`${name}.count must be an integer >= 1, got ${count}`);
  return { metric, mode, count };
}

/** The metric a step's metadata holds: a number that is not NaN; anything else means none (never best). */
export function metricOf(metadata: State | undefined, metric: string): number | undefined {
  if (!isPlainObject(metadata)) return undefined;
  const value = metadata[metric];
  return typeof value === 'number' && !Number.isNaN(value) ? value : undefined;
}

/**
 * The steps ranked best first by their metric; steps without one are left
 * out. Ties go to the older step, so a later equal value never displaces a
 * kept one.
 */
export function rankByMetric(metrics: ReadonlyMap<number, number | undefined>, mode: 'min' | 'max'): number[] {
  const ranked: [number, number][] = [];
  for (const [step, value] of metrics) if (value !== undefined) ranked.push([step, value]);
  const sign = mode === 'min' ? 1 : -1;
  return ranked.sort((a, b) => sign * (a[1] - b[1]) || a[0] - b[0]).map(([step]) => step);
}

/**
 * The steps to delete, given every step present (any order) and, with
 * keepBest, each step's metric (a step missing from `metrics` has none).
 */
export function stepsToPrune(
  steps: readonly number[],
  { keep, keepEvery, keepBest }: RetentionPolicy,
  metrics: ReadonlyMap<number, number | undefined> = new Map(),
): number[] {
  if (keep === undefined && keepBest === undefined) return [];
  // With keepBest alone the newest step is still kept, so a run resumes where it stopped.
  const newest = keep ?? 1;
  const kept = new Set<number>();
  if (keepBest !== undefined) {
    const present = new Map<number, number | undefined>();
    for (const step of steps) present.set(step, metrics.get(step));
    for (const step of rankByMetric(present, keepBest.mode).slice(0, keepBest.count)) kept.add(step);
  }
  const newestFirst = [...steps].sort((a, b) => b - a);
  return newestFirst
    .slice(newest)
    .filter((step) => !kept.has(step) && (keepEvery === undefined || step % keepEvery !== 0));
}
