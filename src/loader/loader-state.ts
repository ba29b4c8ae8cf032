// The DataLoader's state: where the global order stands (epoch, and records of
// it consumed by all shards together) plus a fingerprint of what fixes that
// order. A few dozen bytes, whatever the dataset's size.
import { IncompatibleStateError } from '../errors.js';
import type { State } from '../iterator/state.js';
import { describe } from '../validate.js';
import { normalizeSeed } from './loader-options.js';
import { isPlainObject } from '../iterator/state.js';
import { argumentRangeError, argumentTypeError } from '../error-codes.js';
import type { SourceFingerprint } from '../sources/source-fingerprint.js';

export const LOADER_STATE_VERSION = 1;

/**
 * What fixes the order: a state resumes only into a loader with the same
 * values. batchSize is not one of them: the position counts records, so a
 * state resumes with another batch size at the same record (elastic batch
 * size), as it does with another shard count.
 */
export type DataLoaderFingerprint = {
  n: number;
  seed: number | bigint;
  shuffle: boolean;
  dropRemainder: boolean;
  /** What the source adds (a MixedSource: its sources' lengths and weights); absent for others. */
  source?: State;
};

export type DataLoaderState = {
  version: number;
  /** The epoch the next batch comes from. */
  epoch: number;
  /** Records of that epoch's global order already returned, by all shards together. */
  position: number;
  fingerprint: DataLoaderFingerprint;
};

const FIELDS = ['n', 'seed', 'shuffle', 'dropRemainder'] as const;

function show(v: unknown): string {
  return typeof v === 'bigint' ? `${v}n` : String(v);
}

/**
 * Checks a saved state against this loader's fingerprint and returns the
 * cursor. Throws (TypeError, RangeError, IncompatibleStateError) and changes
 * nothing when it does not fit.
 */
export function parseLoaderState(state: State, mine: DataLoaderFingerprint, source?: SourceFingerprint): { epoch: number; position: number } {
  if (!isPlainObject(state)) throw argumentTypeError(`state must be a DataLoader state object, got ${describe(state)}`);
  if (state.version !== LOADER_STATE_VERSION) {
    throw new IncompatibleStateError(
      `state.version is ${describe(state.version)}; this DataLoader reads version ${LOADER_STATE_VERSION}`,
      ['version'],
    );
  }
  const fp = state.fingerprint;
  if (!isPlainObject(fp)) throw argumentTypeError(`state.fingerprint must be an object, got ${describe(fp)}`);
  const saved = {
    n: checkInt(fp.n, 'state.fingerprint.n', 1),
    seed: normalizeSeed(fp.seed, 'state.fingerprint.seed'),
    shuffle: checkBool(fp.shuffle, 'state.fingerprint.shuffle'),
    dropRemainder: checkBool(fp.dropRemainder, 'state.fingerprint.dropRemainder'),
  };
  // States saved before batchSize left the fingerprint carry it: still checked, never compared.
  if (fp.batchSize !== undefined) checkInt(fp.batchSize, 'state.fingerprint.batchSize', 1);
  // The source's own part: a source that has one judges it (and may let n differ); one without has none.
  const judged = source === undefined ? undefined : source.check(fp.source);
  const differing: string[] = FIELDS.filter((f) => saved[f] !== mine[f] && !(f === 'n' && judged?.lengthMayChange === true));
  const notes = differing.map((f) => `${f} (saved ${show(saved[f as (typeof FIELDS)[number]])}, this loader ${show(mine[f as (typeof FIELDS)[number]])})`);
  if (judged !== undefined) {
    differing.push(...judged.differing);
    notes.push(...judged.differing.map((f) => `${f} (saved ${describe(fp.source)})`));
  } else if (fp.source !== undefined) {
    differing.push('source');
    notes.push('source (the state was saved over a source with a fingerprint of its own, e.g. a MixedSource)');
  }
  if (differing.length > 0) {
    throw new IncompatibleStateError(`the state was saved by a DataLoader with a different order: ${notes.join(', ')}`, differing);
  }
  const epoch = checkInt(state.epoch, 'state.epoch', 0);
  const position = checkInt(state.position, 'state.position', 0);
  if (position >= mine.n) throw argumentRangeError(`state.position must be below n = ${mine.n}, got ${position}`);
  return { epoch, position };
}

function checkInt(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number') throw argumentTypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isSafeInteger(value) || value < min) throw argumentRangeError(`${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

function checkBool(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw argumentTypeError(`${name} must be a boolean, got ${describe(value)}`);
  return value;
}
