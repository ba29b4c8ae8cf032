// What a save captures and a restore sets: one object with getState/setState,
// or a record of named parts ({ loader, model, optimizer }) saved together in
// one step file. The parts' layout in the payload is FORMAT.md §2.1; this file
// is the only place that knows it.
import { CheckpointPartError } from '../errors.js';
import { assertState, type Checkpointable, isPlainObject, type State } from '../iterator/state.js';
import { argumentTypeError } from '../error-codes.js';
import { describe } from '../validate.js';

/** The payload of a step saved as parts is a map with this one key, whose value maps part names to states. */
export const PARTS_KEY = 'resumable-pipeline/parts';

/** Named parts saved and restored together; each is anything with getState/setState. */
export type CheckpointParts = { readonly [name: string]: Checkpointable };

/** What save/restore accept: one object, or a record of named parts. */
export type CheckpointTarget = Checkpointable | CheckpointParts;

type Resolved = { kind: 'one'; pipeline: Checkpointable } | { kind: 'parts'; parts: [string, Checkpointable][] };

/**
 * Sorts a save/restore argument into one object or parts, checking that every
 * part has the method needed; a TypeError names the part at fault.
 */
export function resolveTarget(target: unknown, method: 'getState' | 'setState'): Resolved {
  const own = target as Record<string, unknown> | null;
  // An object with either method is one pipeline, never a record of parts.
  const onePipeline = typeof target === 'object' && target !== null && (typeof own!.getState === 'function' || typeof own!.setState === 'function');
  if (onePipeline && typeof own![method] === 'function') return { kind: 'one', pipeline: target as Checkpointable };
  if (onePipeline || !isPlainObject(target)) {
    throw argumentTypeError(
      `pipeline must be an object with a ${method}() method, or a record of such parts ({ loader, model, ... }), got ${describe(target)}`,
    );
  }
  const parts = Object.entries(target);
  if (parts.length === 0) {
    throw argumentTypeError(`pipeline must be an object with a ${method}() method, or a record of at least one such part, got an empty object`);
  }
  for (const [name, part] of parts) {
    if (typeof part !== 'object' || part === null || typeof (part as Record<string, unknown>)[method] !== 'function') {
      throw argumentTypeError(`parts.${name} must be an object with a ${method}() method, got ${describe(part)}`);
    }
  }
  return { kind: 'parts', parts: parts as [string, Checkpointable][] };
}

/** The payload of a save: getState() of the object, or of every part (checked part by part, so errors name the part). */
export function capturePayload(target: Resolved): State {
  if (target.kind === 'one') {
    const state = target.pipeline.getState();
    if (partsOf(state) !== undefined) {
      throw argumentTypeError(`state must not be a map whose only key is "${PARTS_KEY}" (that key marks a step saved as parts)`);
    }
    return state;
  }
  const states: Record<string, State> = {};
  for (const [name, part] of target.parts) {
    const state = part.getState();
    assertState(state, `parts.${name}`);
    states[name] = state;
  }
  return { [PARTS_KEY]: states };
}

/** The parts of a payload saved as parts, or undefined for a payload saved from one object. */
export function partsOf(payload: State): Record<string, State> | undefined {
  if (!isPlainObject(payload)) return undefined;
  const keys = Object.keys(payload);
  if (keys.length !== 1 || keys[0] !== PARTS_KEY) return undefined;
  const parts = payload[PARTS_KEY];
  return isPlainObject(parts) ? (parts as Record<string, State>) : undefined;
}

/**
 * Sets a saved payload into the target; all or nothing. Parts are checked
 * against the file first (each one asked for must be there); then each
 * part's setState runs, and if one throws, every part already set (and the
 * one that threw) is set back to the state it had, and a CheckpointPartError
 * naming that part is thrown with its error as `cause`. Parts in the file that
 * were not asked for are ignored.
 */
export function applyPayload(target: Resolved, payload: State, file: string): void {
  const saved = partsOf(payload);
  if (target.kind === 'one') {
    if (saved !== undefined) {
      const names = Object.keys(saved);
      throw new CheckpointPartError(
        file,
        names,
        `checkpoint ${file} holds the parts ${names.map((n) => `"${n}"`).join(', ')}; restore it into a record of parts ({ ${names.join(', ')} })`,
      );
    }
    applyState(target.pipeline, payload);
    return;
  }
  const names = target.parts.map(([name]) => name);
  if (saved === undefined) {
    throw new CheckpointPartError(file, names, `checkpoint ${file} holds one state, not parts; restore it into one object, not into parts`);
  }
  const missing = names.filter((name) => !Object.hasOwn(saved, name));
  if (missing.length > 0) {
    throw new CheckpointPartError(
      file,
      missing,
      `checkpoint ${file} has no part ${missing.map((n) => `"${n}"`).join(', ')} (it holds ${Object.keys(saved).map((n) => `"${n}"`).join(', ')})`,
    );
  }
  // setState is synchronous, so nothing else runs between the first part set and the last (or the rollback).
  const before = target.parts.map(([, part]) => snapshot(part));
  for (let i = 0; i < target.parts.length; i++) {
    const [name, part] = target.parts[i]!;
    try {
      part.setState(saved[name]!);
    } catch (err) {
      for (let j = i; j >= 0; j--) rollBack(target.parts[j]![1], before[j]);
      throw new CheckpointPartError(
        file,
        [name],
        `checkpoint ${file}: part "${name}" could not be restored, so no part was changed: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }
}

/** setState, set back to the previous state if it throws part-way. */
function applyState(target: Checkpointable, state: State): void {
  const before = snapshot(target);
  try {
    target.setState(state);
  } catch (err) {
    rollBack(target, before);
    throw err;
  }
}

/** A copy of the target's state: getState may return arrays that its setState then overwrites in place. */
function snapshot(target: Checkpointable): State | undefined {
  try {
    return typeof target.getState === 'function' ? structuredClone(target.getState()) : undefined;
  } catch {
    return undefined; // nothing to roll back to
  }
}

function rollBack(target: Checkpointable, before: State | undefined): void {
  if (before === undefined) return;
  try {
    target.setState(before);
  } catch {
    // The original error is the one the caller needs.
  }
}
